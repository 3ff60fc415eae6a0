//! The HTML of every page (maud: escaped by default). Stable hooks for tests and scripts
//! (API.md "Pages"): the new-token form's fields `name`, `scopes`, `repos`, `expires`; the
//! secret in `#new-token`; each token row's `data-token-name` and its `revoke` button; the
//! sign-in field `token`.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, html};

use crate::api::views::{grant_id, token_status};
use crate::manage::expiry::format;
use crate::names::UserName;
use crate::repo::RepoPattern;
use crate::store::{AuditEvent, Grant, TokenInfo, User};
use crate::vocabulary::Scope;

/// Field errors of a form, by field name, shown next to the field.
pub type Errors = BTreeMap<&'static str, String>;

/// What the frame of a page needs: who is signed in and the session's CSRF token.
pub struct Chrome<'a> {
    pub user: Option<&'a User>,
    pub csrf: &'a str,
}

pub fn layout(title: &str, chrome: &Chrome<'_>, content: &Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · vcsgate" }
                link rel="stylesheet" href="/-/static/app.css";
                script src="/-/static/app.js" defer {}
            }
            body {
                header {
                    a.brand href="/-/" { "vcsgate" }
                    @if let Some(user) = chrome.user {
                        nav aria-label="Main" {
                            a href="/-/" { "Tokens" }
                            a href="/-/tokens/new" { "New token" }
                            @if user.role == crate::vocabulary::Role::Admin {
                                a href="/-/users" { "Users" }
                                a href="/-/grants" { "Grants" }
                                a href="/-/all-tokens" { "All tokens" }
                                a href="/-/audit" { "Audit log" }
                            }
                        }
                        form method="post" action="/-/sign-out" {
                            (csrf_field(chrome.csrf))
                            span.muted { (user.name) " " }
                            button type="submit" name="sign-out" { "Sign out" }
                        }
                    }
                }
                main { h1 { (title) } (content) }
            }
        }
    }
    .into_string()
}

pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

fn field_error(errors: &Errors, field: &str) -> Markup {
    html! {
        @if let Some(message) = errors.get(field) {
            p.error id={ (field) "-error" } role="alert" { (message) }
        }
    }
}

pub fn sign_in(csrf: &str, error: Option<&str>) -> Markup {
    html! {
        p { "Sign in with the one-time link an administrator gave you, or paste an access token with the "
            code { "api" } " scope." }
        form.stack method="post" action="/-/sign-in" {
            (csrf_field(csrf))
            div.field {
                label for="token" { "Access token" }
                input #token type="password" name="token" autocomplete="off" required
                    aria-describedby=[error.map(|_| "token-error")];
                @if let Some(error) = error {
                    p.error #token-error role="alert" { (error) }
                }
            }
            div { button.primary type="submit" { "Sign in" } }
        }
    }
}

pub fn link_confirm(csrf: &str, action: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error role="alert" { (error) }
            p { a href="/-/sign-in" { "Sign in another way" } }
        } @else {
            p { "This one-time link signs you in to vcsgate." }
            form method="post" action=(action) {
                (csrf_field(csrf))
                button.primary type="submit" name="continue" { "Continue" }
            }
        }
    }
}

fn scopes_text(token: &TokenInfo) -> String {
    token.scopes.to_list().replace(',', ", ")
}

fn patterns_text(patterns: &[RepoPattern]) -> String {
    if patterns.is_empty() {
        "all granted".to_owned()
    } else {
        patterns
            .iter()
            .map(RepoPattern::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn time_or(at: Option<i64>, none: &str) -> String {
    at.map(format).unwrap_or_else(|| none.to_owned())
}

/// A table of tokens; `actions`: rotate and revoke buttons for active ones.
pub fn token_table(tokens: &[TokenInfo], now: i64, csrf: &str, show_user: bool) -> Markup {
    html! {
        @if tokens.is_empty() {
            p.muted { "No tokens." }
        } @else {
            div.table {
                table {
                    thead { tr {
                        @if show_user { th scope="col" { "User" } }
                        th scope="col" { "Name" } th scope="col" { "Scopes" }
                        th scope="col" { "Repositories" } th scope="col" { "Refs" }
                        th scope="col" { "Created" } th scope="col" { "Expires" }
                        th scope="col" { "Last used" } th scope="col" { "Prefix" }
                        th scope="col" { "Status" } th scope="col" { span.muted { "Actions" } }
                    } }
                    tbody {
                        @for token in tokens {
                            @let status = token_status(token, now);
                            tr data-token-name=(token.name) data-token-user=(token.user) {
                                @if show_user { td data-label="User" { (token.user) } }
                                td data-label="Name" { strong { (token.name) } }
                                td data-label="Scopes" { (scopes_text(token)) }
                                td data-label="Repositories" { (patterns_text(&token.repos)) }
                                td data-label="Refs" { "all" }
                                td data-label="Created" { (format(token.created_at)) }
                                td data-label="Expires" { (time_or(token.expires_at, "never")) }
                                td data-label="Last used" {
                                    (time_or(token.last_used_at, "never"))
                                    @if let Some(ip) = &token.last_used_ip { br; span.muted { "from " (ip) } }
                                }
                                td data-label="Prefix" { code { (token.public_prefix) "…" } }
                                td data-label="Status" { span class={ "status-" (status) } { (status) } }
                                td {
                                    @if status == "active" {
                                        div.actions {
                                            form method="post" action={ "/-/tokens/" (token.id.0) "/rotate" } {
                                                (csrf_field(csrf))
                                                button type="submit" name="rotate"
                                                    aria-label={ "Rotate " (token.name) } { "Rotate" }
                                            }
                                            form method="post" action={ "/-/tokens/" (token.id.0) "/revoke" } {
                                                (csrf_field(csrf))
                                                button.danger type="submit" name="revoke"
                                                    aria-label={ "Revoke " (token.name) } { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The home page: the caller's tokens, then those of each bot it manages.
pub fn tokens_page(
    groups: &[(String, Vec<TokenInfo>)],
    now: i64,
    csrf: &str,
    notice: Option<&str>,
) -> Markup {
    html! {
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        p { a href="/-/tokens/new" { "Create a token" } }
        @for (heading, tokens) in groups {
            h2 { (heading) }
            (token_table(tokens, now, csrf, false))
        }
    }
}

/// What the new-token form was filled in with (kept when it is shown again with errors).
#[derive(Debug, Clone, Default)]
pub struct TokenForm {
    pub owner: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub repos: String,
    pub expires: String,
}

pub fn new_token_form(
    form: &TokenForm,
    errors: &Errors,
    owners: &[UserName],
    csrf: &str,
) -> Markup {
    html! {
        form.stack method="post" action="/-/tokens" novalidate {
            (csrf_field(csrf))
            @if owners.len() > 1 {
                div.field {
                    label for="owner" { "Owner" }
                    select #owner name="owner" {
                        @for owner in owners {
                            option value=(owner) selected[owner.as_str() == form.owner] { (owner) }
                        }
                    }
                    (field_error(errors, "owner"))
                }
            }
            div.field {
                label for="name" { "Name" }
                input #name type="text" name="name" value=(form.name) required
                    aria-describedby=[errors.get("name").map(|_| "name-error")];
                (field_error(errors, "name"))
            }
            fieldset {
                legend { "Scopes" }
                @for scope in Scope::ALL {
                    label {
                        input type="checkbox" name="scopes" value=(scope.as_str())
                            checked[form.scopes.iter().any(|s| s == scope.as_str())];
                        code { (scope.as_str()) }
                    }
                }
                (field_error(errors, "scopes"))
            }
            div.field {
                label for="repos" { "Repositories (one pattern per line; empty: all the owner's grants)" }
                textarea #repos name="repos" rows="3" { (form.repos) }
                (field_error(errors, "repos"))
            }
            div.field {
                label for="expires" { "Expires on" }
                input #expires type="date" name="expires" value=(form.expires);
                (field_error(errors, "expires"))
            }
            @if let Some(message) = errors.get("form") { p.error role="alert" { (message) } }
            div { button.primary type="submit" { "Create token" } }
        }
    }
}

/// The secret of a token just created or rotated, shown this once.
pub fn secret_shown(token: &TokenInfo, secret: &str) -> Markup {
    html! {
        p.notice role="status" {
            "Copy the token now: it is shown only once. Use it as the password for "
            code { "git" } ", " code { "hg" } " and " code { "svn" } " (any user name)."
        }
        div.secret {
            code #new-token { (secret) }
            button type="button" data-copy="new-token" hidden { "Copy" }
        }
        p { "Token " strong { (token.name) } " of " (token.user) " · scopes " (scopes_text(token))
            " · expires " (time_or(token.expires_at, "never")) }
        p { a href="/-/" { "Back to your tokens" } }
    }
}

/// What the add-user form was filled in with.
#[derive(Debug, Clone, Default)]
pub struct UserForm {
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub bot: bool,
    pub managers: String,
}

pub fn users_page(users: &[User], form: &UserForm, errors: &Errors, csrf: &str) -> Markup {
    html! {
        div.table { table {
            thead { tr {
                th scope="col" { "User" } th scope="col" { "Role" } th scope="col" { "Kind" }
                th scope="col" { "Status" } th scope="col" { "Email" } th scope="col" { "Managers" }
                th scope="col" { span.muted { "Actions" } }
            } }
            tbody {
                @for user in users {
                    tr data-user-name=(user.name) {
                        td data-label="User" { strong { (user.name) } }
                        td data-label="Role" { (user.role) }
                        td data-label="Kind" { @if user.bot { "bot" } @else { "person" } }
                        td data-label="Status" { @if user.active { "active" } @else { "disabled" } }
                        td data-label="Email" { (user.email.as_ref().map(|e| e.as_str()).unwrap_or("—")) }
                        td data-label="Managers" {
                            @if user.bot {
                                form method="post" action={ "/-/users/" (user.name) } {
                                    (csrf_field(csrf))
                                    label for={ "managers-" (user.name) } { "Managers" }
                                    input id={ "managers-" (user.name) } type="text" name="managers"
                                        value=(user.managers.iter().map(UserName::as_str).collect::<Vec<_>>().join(", "));
                                    button type="submit" name="action" value="managers" { "Save" }
                                }
                            } @else { "—" }
                        }
                        td { div.actions {
                            form method="post" action={ "/-/users/" (user.name) } {
                                (csrf_field(csrf))
                                @if user.active {
                                    button.danger type="submit" name="action" value="disable" { "Disable" }
                                } @else {
                                    button type="submit" name="action" value="enable" { "Enable" }
                                }
                            }
                            @if !user.bot {
                                form method="post" action={ "/-/users/" (user.name) } {
                                    (csrf_field(csrf))
                                    @if user.role == crate::vocabulary::Role::Admin {
                                        button type="submit" name="action" value="user" { "Make user" }
                                    } @else {
                                        button type="submit" name="action" value="admin" { "Make admin" }
                                    }
                                }
                            }
                        } }
                    }
                }
            }
        } }
        h2 { "Add a user" }
        form.stack method="post" action="/-/users" novalidate {
            (csrf_field(csrf))
            div.field {
                label for="user-name" { "Name" }
                input #user-name type="text" name="name" value=(form.name) required;
                (field_error(errors, "name"))
            }
            div.field {
                label for="user-email" { "Email (for expiry notices)" }
                input #user-email type="email" name="email" value=(form.email);
                (field_error(errors, "email"))
            }
            fieldset {
                legend { "Kind" }
                label { input type="checkbox" name="admin" value="1" checked[form.admin]; "Administrator" }
                label { input type="checkbox" name="bot" value="1" checked[form.bot]; "Bot (for CI; needs managers)" }
            }
            div.field {
                label for="user-managers" { "Managers of a bot (comma-separated)" }
                input #user-managers type="text" name="managers" value=(form.managers);
                (field_error(errors, "managers"))
            }
            @if let Some(message) = errors.get("form") { p.error role="alert" { (message) } }
            div { button.primary type="submit" { "Add user" } }
        }
    }
}

/// What the grant form was filled in with.
#[derive(Debug, Clone, Default)]
pub struct GrantForm {
    pub user: String,
    pub pattern: String,
    pub access: String,
}

pub fn grants_page(grants: &[Grant], form: &GrantForm, errors: &Errors, csrf: &str) -> Markup {
    html! {
        div.table { table {
            thead { tr {
                th scope="col" { "User" } th scope="col" { "Pattern" } th scope="col" { "Access" }
                th scope="col" { span.muted { "Actions" } }
            } }
            tbody {
                @for grant in grants {
                    tr data-grant=(format!("{} {}", grant.user, grant.pattern)) {
                        td data-label="User" { (grant.user) }
                        td data-label="Pattern" { code { (grant.pattern) } }
                        td data-label="Access" { (grant.access) }
                        td { form method="post" action={ "/-/grants/" (grant_id(&grant.user, &grant.pattern)) "/remove" } {
                            (csrf_field(csrf))
                            button.danger type="submit" name="remove" { "Remove" }
                        } }
                    }
                }
            }
        } }
        h2 { "Add or change a grant" }
        form.stack method="post" action="/-/grants" novalidate {
            (csrf_field(csrf))
            div.field {
                label for="grant-user" { "User" }
                input #grant-user type="text" name="user" value=(form.user) required;
                (field_error(errors, "user"))
            }
            div.field {
                label for="grant-pattern" { "Repository pattern (e.g. git/team/**)" }
                input #grant-pattern type="text" name="pattern" value=(form.pattern) required;
                (field_error(errors, "pattern"))
            }
            div.field {
                label for="grant-access" { "Access" }
                select #grant-access name="access" {
                    option value="read" selected[form.access != "write"] { "read" }
                    option value="write" selected[form.access == "write"] { "write" }
                }
                (field_error(errors, "access"))
            }
            @if let Some(message) = errors.get("form") { p.error role="alert" { (message) } }
            div { button.primary type="submit" { "Save grant" } }
        }
    }
}

pub fn audit_page(events: &[AuditEvent], older: Option<i64>) -> Markup {
    html! {
        div.table { table {
            thead { tr {
                th scope="col" { "Time" } th scope="col" { "Actor" } th scope="col" { "Client" }
                th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Detail" }
            } }
            tbody {
                @for event in events {
                    tr {
                        td data-label="Time" { (format(event.at)) }
                        td data-label="Actor" { (event.actor) }
                        td data-label="Client" { (event.client.as_deref().unwrap_or("—")) }
                        td data-label="Action" { (event.action) }
                        td data-label="Target" { (event.target) }
                        td data-label="Detail" { (event.detail) }
                    }
                }
            }
        } }
        @if let Some(before) = older {
            p.pager { a href={ "/-/audit?before=" (before) } rel="next" { "Older events →" } }
        }
    }
}

pub fn message(text: &str) -> Markup {
    html! { p { (text) } p { a href="/-/" { "Back" } } }
}
