//! Routing: the longest route prefix that matches whole path segments (`/git` never matches
//! `/gitlab/x`). Pure; the routes' payload is whatever the caller keeps per route.

/// Routes keyed by their prefix segments, longest first.
#[derive(Debug)]
pub struct Router<R> {
    entries: Vec<(Vec<String>, R)>,
}

impl<R> Router<R> {
    /// Builds a router; prefixes are assumed unique (the config loader refuses duplicates).
    pub fn new(routes: impl IntoIterator<Item = (Vec<String>, R)>) -> Self {
        let mut entries: Vec<(Vec<String>, R)> = routes.into_iter().collect();
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.0.len()));
        Router { entries }
    }

    /// The route for these decoded path segments and how many segments its prefix takes.
    pub fn find(&self, segments: &[String]) -> Option<(&R, usize)> {
        self.entries
            .iter()
            .find(|(prefix, _)| segments.starts_with(prefix))
            .map(|(prefix, route)| (route, prefix.len()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.entries.iter().map(|(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn longest_whole_segment_prefix_wins() {
        let router = Router::new([
            (segs("/git"), "git"),
            (segs("/git/big"), "big"),
            (segs("/hg"), "hg"),
        ]);
        let find = |p: &str| router.find(&segs(p)).map(|(r, n)| (*r, n));
        assert_eq!(find("/git/team/app.git/info/refs"), Some(("git", 1)));
        assert_eq!(find("/git/big/app"), Some(("big", 2)));
        assert_eq!(find("/git/bigger/app"), Some(("git", 1)));
        assert_eq!(find("/gitlab/x"), None);
        assert_eq!(find("/hg"), Some(("hg", 1)));
        assert_eq!(find("/"), None);
        let with_root = Router::new([(segs("/"), "root"), (segs("/git"), "git")]);
        assert_eq!(
            with_root.find(&segs("/other/x")).map(|(r, _)| *r),
            Some("root")
        );
        assert_eq!(
            with_root.find(&segs("/git/x")).map(|(r, _)| *r),
            Some("git")
        );
    }
}
