//! The API's routes: which method and path is which endpoint. [`ROUTES`] lists them as
//! `docs/openapi.yaml` spells them; a test holds the two together.

use http::{Method, StatusCode};

use super::ApiError;

/// Every route served, as (method, path template) under `/-/api/v1`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/user"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{name}"),
    ("PATCH", "/users/{name}"),
    ("GET", "/grants"),
    ("POST", "/grants"),
    ("DELETE", "/grants/{id}"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("GET", "/tokens/self"),
    ("POST", "/tokens/self/rotate"),
    ("GET", "/tokens/{id}"),
    ("DELETE", "/tokens/{id}"),
    ("POST", "/tokens/{id}/rotate"),
    ("GET", "/audit"),
];

/// An endpoint with the values its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Caller,
    ListUsers,
    CreateUser,
    GetUser(String),
    PatchUser(String),
    ListGrants,
    SetGrant,
    DeleteGrant(String),
    ListTokens,
    CreateToken,
    SelfToken,
    RotateSelf,
    GetToken(String),
    RevokeToken(String),
    RotateToken(String),
    Audit,
}

impl Endpoint {
    /// Whether the endpoint reads a JSON body, and whether that body may be empty.
    pub fn body(&self) -> Option<bool> {
        match self {
            Endpoint::CreateUser
            | Endpoint::PatchUser(_)
            | Endpoint::SetGrant
            | Endpoint::CreateToken => Some(false),
            Endpoint::RotateSelf | Endpoint::RotateToken(_) => Some(true),
            _ => None,
        }
    }

    /// The query parameters the endpoint accepts (any other is refused).
    pub fn query_keys(&self) -> &'static [&'static str] {
        match self {
            Endpoint::ListGrants => &["user"],
            Endpoint::ListTokens => &["user", "state"],
            Endpoint::Audit => &["user", "limit"],
            _ => &[],
        }
    }
}

/// The endpoint for `method` on the path `segments` below `/-/api/v1`: 404 for a path the API
/// does not have, 405 (naming the methods it has) for a known path and another method.
pub fn find(method: &Method, segments: &[String]) -> Result<Endpoint, ApiError> {
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method.as_str();
    let owned = |s: &str| s.to_owned();
    let (found, allowed): (Option<Endpoint>, &[&str]) = match path.as_slice() {
        ["user"] => (get(m).then_some(Endpoint::Caller), &["GET"]),
        ["users"] => (
            pick(
                m,
                [("GET", Endpoint::ListUsers), ("POST", Endpoint::CreateUser)],
            ),
            &["GET", "POST"],
        ),
        ["users", name] => (
            pick(
                m,
                [
                    ("GET", Endpoint::GetUser(owned(name))),
                    ("PATCH", Endpoint::PatchUser(owned(name))),
                ],
            ),
            &["GET", "PATCH"],
        ),
        ["grants"] => (
            pick(
                m,
                [("GET", Endpoint::ListGrants), ("POST", Endpoint::SetGrant)],
            ),
            &["GET", "POST"],
        ),
        ["grants", id] => (
            (m == "DELETE").then(|| Endpoint::DeleteGrant(owned(id))),
            &["DELETE"],
        ),
        ["tokens"] => (
            pick(
                m,
                [
                    ("GET", Endpoint::ListTokens),
                    ("POST", Endpoint::CreateToken),
                ],
            ),
            &["GET", "POST"],
        ),
        ["tokens", "self"] => (get(m).then_some(Endpoint::SelfToken), &["GET"]),
        ["tokens", "self", "rotate"] => ((m == "POST").then_some(Endpoint::RotateSelf), &["POST"]),
        ["tokens", id] => (
            pick(
                m,
                [
                    ("GET", Endpoint::GetToken(owned(id))),
                    ("DELETE", Endpoint::RevokeToken(owned(id))),
                ],
            ),
            &["GET", "DELETE"],
        ),
        ["tokens", id, "rotate"] => (
            (m == "POST").then(|| Endpoint::RotateToken(owned(id))),
            &["POST"],
        ),
        ["audit"] => (get(m).then_some(Endpoint::Audit), &["GET"]),
        _ => return Err(ApiError::not_found("no such API endpoint")),
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("this endpoint answers {}", allowed.join(", ")),
        )
    })
}

fn get(method: &str) -> bool {
    method == "GET"
}

fn pick<const N: usize>(method: &str, choices: [(&str, Endpoint); N]) -> Option<Endpoint> {
    choices
        .into_iter()
        .find(|(m, _)| *m == method)
        .map(|(_, endpoint)| endpoint)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn segments(template: &str) -> Vec<String> {
        template
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.starts_with('{') {
                    "7".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .collect()
    }

    #[test]
    fn every_listed_route_is_served_and_nothing_else() {
        for (method, template) in ROUTES {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let found = find(&method, &segments(template));
            assert!(found.is_ok(), "{method} {template}: {found:?}");
        }
        let shapes = [
            "/user",
            "/users",
            "/users/{n}",
            "/grants",
            "/grants/{id}",
            "/tokens",
            "/tokens/{id}",
            "/tokens/{id}/rotate",
            "/tokens/self",
            "/tokens/self/rotate",
            "/audit",
        ];
        for method in ["GET", "POST", "PATCH", "DELETE", "PUT"] {
            for shape in shapes {
                let listed = ROUTES
                    .iter()
                    .any(|(m, t)| *m == method && same_shape(t, shape));
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let served = find(&method, &segments(shape)).is_ok();
                assert_eq!(listed, served, "{method} {shape}");
            }
        }
    }

    fn same_shape(a: &str, b: &str) -> bool {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
        a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| x == y || (x.starts_with('{') && y.starts_with('{')))
    }

    #[test]
    fn unknown_paths_are_404_and_other_methods_405() {
        let not_found = find(&Method::GET, &segments("/tokens/1/2/3")).unwrap_err();
        assert_eq!(not_found.status, StatusCode::NOT_FOUND);
        let not_allowed = find(&Method::PUT, &segments("/tokens")).unwrap_err();
        assert_eq!(not_allowed.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(not_allowed.message.contains("GET, POST"));
        assert_eq!(
            find(&Method::POST, &segments("/tokens/self/rotate")).unwrap(),
            Endpoint::RotateSelf
        );
        assert_eq!(
            find(&Method::GET, &segments("/tokens/self")).unwrap(),
            Endpoint::SelfToken
        );
    }
}
