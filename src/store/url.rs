//! Store URLs as they may appear in logs and messages: without their password.

/// `url` with the password of its user info and any `password=` query value replaced by
/// `***`. Anything else is kept, so the operator still sees which database was meant.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = redact_user_info(head);
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query.split('&').map(redact_pair).collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

fn redact_user_info(head: &str) -> String {
    let Some((scheme, rest)) = head.split_once("://") else {
        return head.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    // The last '@' ends the user info (a password may contain an unencoded '@').
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => head.to_owned(),
    }
}

fn redact_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
        _ => pair.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        let cases = [
            (
                "postgres://u:s3cret@db:5432/vcs",
                "postgres://u:***@db:5432/vcs",
            ),
            ("postgres://u:p@ss@db/vcs", "postgres://u:***@db/vcs"),
            ("postgres://u@db/vcs", "postgres://u@db/vcs"),
            (
                "postgres://db/vcs?password=s3cret&sslmode=require",
                "postgres://db/vcs?password=***&sslmode=require",
            ),
            (
                "postgres:///vcs?host=/run/pg",
                "postgres:///vcs?host=/run/pg",
            ),
            (
                "sqlite:///var/lib/vcsgate.db",
                "sqlite:///var/lib/vcsgate.db",
            ),
        ];
        for (given, want) in cases {
            assert_eq!(redact_url(given), want, "{given}");
        }
    }
}
