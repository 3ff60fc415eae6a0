//! Which page answers which request, and what each form does. Every state change is a POST
//! carrying the session's CSRF token; every rule is the `manage` one the CLI and API use.

use http::{Method, StatusCode};
use subtle::ConstantTimeEq;

use super::render::{self, Chrome, Errors, GrantForm, TokenForm, UserForm};
use super::{Content, Context, IDLE_SECS, Page, Request, SESSION_COOKIE, SIGN_IN_COOKIE, cookie};
use crate::api::views::parse_grant_id;
use crate::manage::{self, Actor, expiry, sessions};
use crate::names::{Email, TokenName, UserName};
use crate::repo::RepoPattern;
use crate::store::{self, NewToken, NewUser, Replacement, Store, TokenId, User, UserChange};
use crate::token::{self, TokenHash};
use crate::vocabulary::{Access, Role, Scope, ScopeSet};

/// Audit events per page.
const AUDIT_PAGE: i64 = 50;

/// The signed-in user of a request.
struct Viewer {
    user: User,
    csrf: String,
    actor: Actor,
    /// A session just started (trusted header): its cookie.
    new_cookie: Option<String>,
}

impl Viewer {
    fn chrome(&self) -> Chrome<'_> {
        Chrome {
            user: Some(&self.user),
            csrf: &self.csrf,
        }
    }

    fn page(&self, status: StatusCode, title: &str, content: &maud::Markup) -> Page {
        let page = Page::html(status, render::layout(title, &self.chrome(), content));
        self.keep(page)
    }

    /// Adds the cookie of a session started by this request.
    fn keep(&self, page: Page) -> Page {
        match &self.new_cookie {
            Some(cookie) => page.with_cookie(cookie.clone()),
            None => page,
        }
    }

    fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Answers one page request (never fails: errors become pages).
pub async fn handle(ctx: Context, req: Request) -> Page {
    match route(&ctx, &req).await {
        Ok(page) => page,
        Err(error) => {
            let unavailable = matches!(&error, manage::Error::Store(e) if e.is_unavailable());
            if !unavailable {
                tracing::error!(%error, "page failed");
            }
            let (status, text) = if unavailable {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The token store is unavailable; try again shortly.",
                )
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong (logged).",
                )
            };
            let chrome = Chrome {
                user: None,
                csrf: "",
            };
            Page::html(
                status,
                render::layout("Error", &chrome, &render::message(text)),
            )
        }
    }
}

async fn route(ctx: &Context, req: &Request) -> Result<Page, manage::Error> {
    let path: Vec<&str> = req.path.iter().map(String::as_str).collect();
    let get = req.method == Method::GET;
    let post = req.method == Method::POST;
    match path.as_slice() {
        ["static", name] if get => Ok(match super::asset(name) {
            Some((content_type, text)) => Page {
                status: StatusCode::OK,
                content: Content::Asset(content_type, text),
                cookies: Vec::new(),
                failed_sign_in: false,
                changed: None,
            },
            None => not_found(None),
        }),
        ["sign-in"] if get => sign_in_form(ctx, req, None, StatusCode::OK).await,
        ["sign-in"] if post => sign_in_with_token(ctx, req).await,
        ["sign-in", _] if get => Ok(link_form(req, None)),
        ["sign-in", secret] if post => sign_in_with_link(ctx, req, secret).await,
        _ => {
            let Some(viewer) = viewer(ctx, req).await? else {
                return Ok(if get {
                    Page::redirect("/-/sign-in")
                } else {
                    Page::html(StatusCode::UNAUTHORIZED, sign_in_first())
                });
            };
            if post && !req.form.get("csrf").is_some_and(|c| equal(c, &viewer.csrf)) {
                let text = "This form has expired or did not come from this site; nothing was changed. Reload the page and try again.";
                return Ok(viewer.page(
                    StatusCode::FORBIDDEN,
                    "Form expired",
                    &render::message(text),
                ));
            }
            signed_in(ctx, req, &viewer, (get, post), &path).await
        }
    }
}

fn sign_in_first() -> String {
    let chrome = Chrome {
        user: None,
        csrf: "",
    };
    let text = "Sign in first.";
    render::layout("Sign in", &chrome, &render::message(text))
}

fn not_found(viewer: Option<&Viewer>) -> Page {
    let content = render::message("There is no such page.");
    match viewer {
        Some(viewer) => viewer.page(StatusCode::NOT_FOUND, "Not found", &content),
        None => {
            let chrome = Chrome {
                user: None,
                csrf: "",
            };
            Page::html(
                StatusCode::NOT_FOUND,
                render::layout("Not found", &chrome, &content),
            )
        }
    }
}

async fn signed_in(
    ctx: &Context,
    req: &Request,
    viewer: &Viewer,
    (get, post): (bool, bool),
    path: &[&str],
) -> Result<Page, manage::Error> {
    let admin_only = matches!(path, ["users", ..] | ["grants", ..] | ["all-tokens"]);
    if admin_only && !viewer.is_admin() {
        let text = "This page is for administrators.";
        return Ok(viewer.page(StatusCode::FORBIDDEN, "Not allowed", &render::message(text)));
    }
    match path {
        [] if get => home(ctx, viewer, None).await,
        ["tokens", "new"] if get => {
            let form = prefilled(req, viewer);
            new_token_page(ctx, viewer, &form, &Errors::new(), StatusCode::OK).await
        }
        ["tokens"] if post => create_token(ctx, req, viewer).await,
        ["tokens", id, "revoke"] if post => revoke_token(ctx, viewer, id).await,
        ["tokens", id, "rotate"] if post => rotate_token(ctx, viewer, id).await,
        ["sign-out"] if post => {
            if let Some(id) = &req.session {
                ctx.store.end_session(&TokenHash::of(id.expose())).await?;
            }
            Ok(Page::redirect("/-/sign-in").with_cookie(cookie(SESSION_COOKIE, None, req.secure)))
        }
        ["users"] if get => {
            users_page(
                ctx,
                viewer,
                &UserForm::default(),
                &Errors::new(),
                StatusCode::OK,
            )
            .await
        }
        ["users"] if post => add_user(ctx, req, viewer).await,
        ["users", name] if post => change_user(ctx, req, viewer, name).await,
        ["grants"] if get => {
            grants_page(
                ctx,
                viewer,
                &GrantForm::default(),
                &Errors::new(),
                StatusCode::OK,
            )
            .await
        }
        ["grants"] if post => set_grant(ctx, req, viewer).await,
        ["grants", id, "remove"] if post => remove_grant(ctx, viewer, id).await,
        ["all-tokens"] if get => {
            let tokens =
                manage::tokens::list(ctx.store.as_ref(), &viewer.actor, None, true, ctx.now)
                    .await?;
            let content = render::token_table(&tokens, ctx.now, &viewer.csrf, true);
            Ok(viewer.page(StatusCode::OK, "All tokens", &content))
        }
        ["audit"] if get => audit(ctx, req, viewer).await,
        _ => Ok(not_found(Some(viewer))),
    }
}

/// The signed-in user: a live session of an enabled non-bot user, or (with a trusted SSO
/// header) a session started now.
async fn viewer(ctx: &Context, req: &Request) -> Result<Option<Viewer>, manage::Error> {
    let store = ctx.store.as_ref();
    if let Some(id) = &req.session
        && let Some(session) = store
            .session(&TokenHash::of(id.expose()), ctx.now, IDLE_SECS)
            .await?
        && req.header_user.as_ref().is_none_or(|h| *h == session.user)
        && let Some(user) = usable(store, &session.user).await?
    {
        return Ok(Some(viewer_of(user, session.csrf, req, None)));
    }
    if let Some(name) = &req.header_user
        && let Some(user) = usable(store, name).await?
    {
        let started =
            sessions::start(store, name, ("header", Some(req.client.clone())), ctx.now).await?;
        let cookie = cookie(SESSION_COOKIE, Some(started.id.expose()), req.secure);
        return Ok(Some(viewer_of(user, started.csrf, req, Some(cookie))));
    }
    Ok(None)
}

/// The user, if it may use the pages (known, enabled, not a bot).
async fn usable(store: &dyn Store, name: &UserName) -> Result<Option<User>, manage::Error> {
    Ok(store.user(name).await?.filter(|u| u.active && !u.bot))
}

fn viewer_of(user: User, csrf: String, req: &Request, new_cookie: Option<String>) -> Viewer {
    let actor = Actor::User {
        name: user.name.clone(),
        role: user.role,
        token: None,
        client: Some(req.client.clone()),
    };
    Viewer {
        user,
        csrf,
        actor,
        new_cookie,
    }
}

// ---- sign-in -------------------------------------------------------------------------

fn new_sign_in_csrf() -> Result<String, manage::Error> {
    token::random_text(sessions::SECRET_LEN).map_err(|e| manage::Error::Randomness(e.to_string()))
}

async fn sign_in_form(
    ctx: &Context,
    req: &Request,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Page, manage::Error> {
    if error.is_none() && viewer(ctx, req).await?.is_some() {
        return Ok(Page::redirect("/-/"));
    }
    let csrf = new_sign_in_csrf()?;
    let chrome = Chrome {
        user: None,
        csrf: "",
    };
    let html = render::layout("Sign in", &chrome, &render::sign_in(&csrf, error));
    Ok(Page::html(status, html).with_cookie(cookie(SIGN_IN_COOKIE, Some(&csrf), req.secure)))
}

fn sign_in_csrf_ok(req: &Request) -> bool {
    match (req.form.get("csrf"), &req.sign_in_csrf) {
        (Some(form), Some(cookie)) => equal(form, cookie),
        _ => false,
    }
}

async fn signed_in_as(
    ctx: &Context,
    req: &Request,
    user: &UserName,
    how: &str,
) -> Result<Page, manage::Error> {
    let started = sessions::start(
        ctx.store.as_ref(),
        user,
        (how, Some(req.client.clone())),
        ctx.now,
    )
    .await?;
    Ok(Page::redirect("/-/")
        .with_cookie(cookie(
            SESSION_COOKIE,
            Some(started.id.expose()),
            req.secure,
        ))
        .with_cookie(cookie(SIGN_IN_COOKIE, None, req.secure)))
}

async fn sign_in_with_token(ctx: &Context, req: &Request) -> Result<Page, manage::Error> {
    if !sign_in_csrf_ok(req) {
        let error = "The sign-in form expired; try again.";
        return sign_in_form(ctx, req, Some(error), StatusCode::FORBIDDEN).await;
    }
    let token = match &req.pasted_token {
        Some(Ok(token)) => token,
        Some(Err(why)) => {
            return sign_in_form(ctx, req, Some(why), StatusCode::UNAUTHORIZED).await;
        }
        None => {
            let error = "Paste an access token with the api scope.";
            return sign_in_form(ctx, req, Some(error), StatusCode::UNAUTHORIZED).await;
        }
    };
    if !token.scopes.contains(Scope::Api) {
        let error = format!(
            "This token lacks the {} scope; the pages need it.",
            Scope::Api
        );
        return sign_in_form(ctx, req, Some(&error), StatusCode::FORBIDDEN).await;
    }
    if usable(ctx.store.as_ref(), &token.user).await?.is_none() {
        let error = "This user cannot sign in (a bot or disabled).";
        return sign_in_form(ctx, req, Some(error), StatusCode::FORBIDDEN).await;
    }
    signed_in_as(ctx, req, &token.user, "token").await
}

fn link_form(req: &Request, error: Option<&str>) -> Page {
    let csrf = new_sign_in_csrf().unwrap_or_default();
    let action = format!("/-/{}", req.path.join("/"));
    let chrome = Chrome {
        user: None,
        csrf: "",
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let html = render::layout(
        "Sign in",
        &chrome,
        &render::link_confirm(&csrf, &action, error),
    );
    Page::html(status, html).with_cookie(cookie(SIGN_IN_COOKIE, Some(&csrf), req.secure))
}

async fn sign_in_with_link(
    ctx: &Context,
    req: &Request,
    secret: &str,
) -> Result<Page, manage::Error> {
    if !sign_in_csrf_ok(req) {
        return Ok(link_form(
            req,
            Some("The sign-in form expired; open the link again."),
        ));
    }
    let used = ctx
        .store
        .use_login_link(&TokenHash::of(secret), ctx.now)
        .await?;
    let user = match used {
        Some(user) if usable(ctx.store.as_ref(), &user).await?.is_some() => user,
        _ => {
            let mut page = link_form(
                req,
                Some("This sign-in link is invalid, expired or already used. Ask for a new one."),
            );
            page.failed_sign_in = true;
            return Ok(page);
        }
    };
    signed_in_as(ctx, req, &user, "link").await
}

// ---- tokens --------------------------------------------------------------------------

async fn home(ctx: &Context, viewer: &Viewer, notice: Option<&str>) -> Result<Page, manage::Error> {
    let store = ctx.store.as_ref();
    let me = &viewer.user.name;
    let mut groups = vec![(
        "Your tokens".to_owned(),
        manage::tokens::list(store, &viewer.actor, Some(me), false, ctx.now).await?,
    )];
    for bot in managed_bots(store, me).await? {
        let tokens = manage::tokens::list(store, &viewer.actor, Some(&bot), false, ctx.now).await?;
        groups.push((format!("Tokens of the bot {bot}"), tokens));
    }
    let content = render::tokens_page(&groups, ctx.now, &viewer.csrf, notice);
    Ok(viewer.page(StatusCode::OK, "Access tokens", &content))
}

/// The bots `user` manages.
async fn managed_bots(store: &dyn Store, user: &UserName) -> Result<Vec<UserName>, manage::Error> {
    let users = store.list_users().await?;
    Ok(users
        .into_iter()
        .filter(|u| u.bot && u.active && u.managers.contains(user))
        .map(|u| u.name)
        .collect())
}

/// Whose tokens the viewer may create: itself, the bots it manages (admins: every enabled
/// user that may hold tokens).
async fn owners(ctx: &Context, viewer: &Viewer) -> Result<Vec<UserName>, manage::Error> {
    let store = ctx.store.as_ref();
    let mut owners = vec![viewer.user.name.clone()];
    if viewer.is_admin() {
        let users = store.list_users().await?;
        owners.extend(
            users
                .into_iter()
                .filter(|u| u.active && u.name != viewer.user.name)
                .map(|u| u.name),
        );
    } else {
        owners.extend(managed_bots(store, &viewer.user.name).await?);
    }
    Ok(owners)
}

/// The new-token form filled from the URL (`?name=ci&scopes=read_repository,write_repository`).
fn prefilled(req: &Request, viewer: &Viewer) -> TokenForm {
    let scopes = req
        .query
        .get("scopes")
        .map(|s| {
            s.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    TokenForm {
        owner: req
            .query
            .get("owner")
            .unwrap_or(viewer.user.name.as_str())
            .to_owned(),
        name: req.query.get("name").unwrap_or("").to_owned(),
        scopes,
        repos: req.query.get("repos").unwrap_or("").replace(',', "\n"),
        expires: req.query.get("expires").unwrap_or("").to_owned(),
    }
}

async fn new_token_page(
    ctx: &Context,
    viewer: &Viewer,
    form: &TokenForm,
    errors: &Errors,
    status: StatusCode,
) -> Result<Page, manage::Error> {
    let owners = owners(ctx, viewer).await?;
    let content = render::new_token_form(form, errors, &owners, &viewer.csrf);
    Ok(viewer.page(status, "New access token", &content))
}

async fn create_token(
    ctx: &Context,
    req: &Request,
    viewer: &Viewer,
) -> Result<Page, manage::Error> {
    let form = TokenForm {
        owner: req
            .form
            .get("owner")
            .map_or_else(|| viewer.user.name.to_string(), str::to_owned),
        name: req.form.text("name"),
        scopes: req.form.all("scopes").map(str::to_owned).collect(),
        repos: req.form.get("repos").unwrap_or("").to_owned(),
        expires: req.form.text("expires"),
    };
    let mut errors = Errors::new();
    let owner = UserName::parse(&form.owner)
        .map_err(|e| errors.insert("owner", e.to_string()))
        .ok();
    let name = TokenName::parse(&form.name)
        .map_err(|e| errors.insert("name", e.to_string()))
        .ok();
    let scopes: Result<ScopeSet, _> = form.scopes.iter().map(|s| s.parse::<Scope>()).collect();
    let scopes = match scopes {
        Ok(set) if set.is_empty() => {
            errors.insert("scopes", "Choose at least one scope.".to_owned());
            None
        }
        Ok(set) => Some(set),
        Err(e) => {
            errors.insert("scopes", e.to_string());
            None
        }
    };
    let repos: Result<Vec<RepoPattern>, _> = form
        .repos
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(RepoPattern::parse)
        .collect();
    let repos = repos
        .map_err(|e| errors.insert("repos", e.to_string()))
        .ok();
    let expires_at = if form.expires.is_empty() {
        Some(None)
    } else {
        expiry::parse_field("expires", &form.expires, ctx.now)
            .map(Some)
            .map_err(|e| errors.insert("expires", e.to_string()))
            .ok()
    };
    let (Some(owner), Some(name), Some(scopes), Some(repos), Some(expires_at)) =
        (owner, name, scopes, repos, expires_at)
    else {
        return new_token_page(
            ctx,
            viewer,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let secret = token::generate().map_err(|e| manage::Error::Randomness(e.to_string()))?;
    let new = NewToken {
        user: owner,
        name,
        hash: secret.hash,
        public_prefix: secret.public_prefix.clone(),
        scopes,
        repos,
        expires_at,
        created_at: ctx.now,
    };
    let store = ctx.store.as_ref();
    match manage::tokens::create(store, &viewer.actor, &ctx.policy, new).await {
        Ok((id, _)) => {
            let created =
                manage::tokens::get(store, &viewer.actor, id, "read the new token").await?;
            let content = render::secret_shown(&created, secret.secret.expose());
            Ok(viewer.page(StatusCode::CREATED, "Token created", &content))
        }
        Err(error) => {
            let field = match &error {
                manage::Error::Store(store::Error::TokenNameTaken { .. }) => "name",
                manage::Error::Policy(_) => "expires",
                manage::Error::Forbidden { .. }
                | manage::Error::Store(store::Error::UnknownUser { .. }) => "owner",
                manage::Error::Store(e) if e.is_unavailable() => return Err(error),
                _ => "form",
            };
            errors.insert(field, error.to_string());
            new_token_page(
                ctx,
                viewer,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

fn token_id(given: &str) -> Option<TokenId> {
    given.parse::<i64>().ok().filter(|id| *id > 0).map(TokenId)
}

/// A refusal that means "not yours or not there": one page for both.
fn hidden(viewer: &Viewer, error: &manage::Error) -> Option<Page> {
    let hidden = matches!(
        error,
        manage::Error::Forbidden { .. }
            | manage::Error::NoSuchToken { .. }
            | manage::Error::Store(store::Error::UnknownToken { .. })
    );
    hidden.then(|| not_found(Some(viewer)))
}

async fn revoke_token(ctx: &Context, viewer: &Viewer, id: &str) -> Result<Page, manage::Error> {
    let Some(id) = token_id(id) else {
        return Ok(not_found(Some(viewer)));
    };
    match manage::tokens::revoke_by_id(ctx.store.as_ref(), &viewer.actor, id, ctx.now).await {
        Ok(owner) => Ok(viewer.keep(Page::redirect("/-/").changing(owner))),
        Err(error) => hidden(viewer, &error).ok_or(error),
    }
}

async fn rotate_token(ctx: &Context, viewer: &Viewer, id: &str) -> Result<Page, manage::Error> {
    let Some(id) = token_id(id) else {
        return Ok(not_found(Some(viewer)));
    };
    let secret = token::generate().map_err(|e| manage::Error::Randomness(e.to_string()))?;
    let replacement = Replacement {
        hash: secret.hash,
        public_prefix: secret.public_prefix.clone(),
        expires_at: None,
        created_at: ctx.now,
    };
    let store = ctx.store.as_ref();
    match manage::tokens::rotate_by_id(store, &viewer.actor, &ctx.policy, id, replacement).await {
        Ok(rotated) => {
            let content = render::secret_shown(&rotated, secret.secret.expose());
            let owner = rotated.user.clone();
            Ok(viewer
                .page(StatusCode::CREATED, "Token rotated", &content)
                .changing(owner))
        }
        Err(manage::Error::Policy(refused)) => {
            let text = format!("The token was not rotated: {refused}");
            Ok(viewer.page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not rotated",
                &render::message(&text),
            ))
        }
        Err(error) => hidden(viewer, &error).ok_or(error),
    }
}

// ---- users and grants (admins) -------------------------------------------------------

async fn users_page(
    ctx: &Context,
    viewer: &Viewer,
    form: &UserForm,
    errors: &Errors,
    status: StatusCode,
) -> Result<Page, manage::Error> {
    let users = manage::users::list(ctx.store.as_ref(), &viewer.actor).await?;
    let content = render::users_page(&users, form, errors, &viewer.csrf);
    Ok(viewer.page(status, "Users", &content))
}

fn names(list: &str) -> Result<Vec<UserName>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| UserName::parse(n).map_err(|e| e.to_string()))
        .collect()
}

async fn add_user(ctx: &Context, req: &Request, viewer: &Viewer) -> Result<Page, manage::Error> {
    let form = UserForm {
        name: req.form.text("name"),
        email: req.form.text("email"),
        admin: req.form.get("admin").is_some(),
        bot: req.form.get("bot").is_some(),
        managers: req.form.text("managers"),
    };
    let mut errors = Errors::new();
    let name = UserName::parse(&form.name)
        .map_err(|e| errors.insert("name", e.to_string()))
        .ok();
    let email = if form.email.is_empty() {
        Some(None)
    } else {
        Email::parse(&form.email)
            .map(Some)
            .map_err(|e| errors.insert("email", e.to_string()))
            .ok()
    };
    let managers = names(&form.managers)
        .map_err(|e| errors.insert("managers", e))
        .ok();
    let (Some(name), Some(email), Some(managers)) = (name, email, managers) else {
        return users_page(
            ctx,
            viewer,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewUser {
        name,
        role: if form.admin { Role::Admin } else { Role::User },
        bot: form.bot,
        email,
        managers,
        created_at: ctx.now,
    };
    match manage::users::add(ctx.store.as_ref(), &viewer.actor, &new).await {
        Ok(()) => Ok(viewer.keep(Page::redirect("/-/users"))),
        Err(manage::Error::Store(e)) if !e.is_unavailable() => {
            let field = match e {
                store::Error::UserExists { .. } => "name",
                _ => "managers",
            };
            errors.insert(field, e.to_string());
            users_page(
                ctx,
                viewer,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

async fn change_user(
    ctx: &Context,
    req: &Request,
    viewer: &Viewer,
    name: &str,
) -> Result<Page, manage::Error> {
    let Ok(name) = UserName::parse(name) else {
        return Ok(not_found(Some(viewer)));
    };
    let store = ctx.store.as_ref();
    let changes = match req.form.get("action") {
        Some("disable") => vec![UserChange::Active(false)],
        Some("enable") => vec![UserChange::Active(true)],
        Some("admin") => vec![UserChange::Role(Role::Admin)],
        Some("user") => vec![UserChange::Role(Role::User)],
        Some("managers") => {
            let wanted = match names(&req.form.text("managers")) {
                Ok(wanted) => wanted,
                Err(e) => {
                    let mut errors = Errors::new();
                    errors.insert("form", format!("{name}: {e}"));
                    return users_page(
                        ctx,
                        viewer,
                        &UserForm::default(),
                        &errors,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await;
                }
            };
            let current = manage::users::get(store, &viewer.actor, &name).await?;
            let mut changes: Vec<UserChange> = wanted
                .iter()
                .filter(|m| !current.managers.contains(m))
                .map(|m| UserChange::AddManager(m.clone()))
                .collect();
            changes.extend(
                current
                    .managers
                    .iter()
                    .filter(|m| !wanted.contains(m))
                    .map(|m| UserChange::RemoveManager(m.clone())),
            );
            changes
        }
        _ => return Ok(not_found(Some(viewer))),
    };
    match manage::users::change(store, &viewer.actor, &name, &changes, ctx.now).await {
        Ok(()) => Ok(viewer.keep(Page::redirect("/-/users").changing(name))),
        Err(manage::Error::Store(e)) if !e.is_unavailable() => {
            let mut errors = Errors::new();
            errors.insert("form", e.to_string());
            users_page(
                ctx,
                viewer,
                &UserForm::default(),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

async fn grants_page(
    ctx: &Context,
    viewer: &Viewer,
    form: &GrantForm,
    errors: &Errors,
    status: StatusCode,
) -> Result<Page, manage::Error> {
    let grants = manage::grants::list(ctx.store.as_ref(), &viewer.actor, None).await?;
    let content = render::grants_page(&grants, form, errors, &viewer.csrf);
    Ok(viewer.page(status, "Grants", &content))
}

async fn set_grant(ctx: &Context, req: &Request, viewer: &Viewer) -> Result<Page, manage::Error> {
    let form = GrantForm {
        user: req.form.text("user"),
        pattern: req.form.text("pattern"),
        access: req.form.text("access"),
    };
    let mut errors = Errors::new();
    let user = UserName::parse(&form.user)
        .map_err(|e| errors.insert("user", e.to_string()))
        .ok();
    let pattern = RepoPattern::parse(&form.pattern)
        .map_err(|e| errors.insert("pattern", e.to_string()))
        .ok();
    let access = form
        .access
        .parse::<Access>()
        .map_err(|e| errors.insert("access", e.to_string()))
        .ok();
    let (Some(user), Some(pattern), Some(access)) = (user, pattern, access) else {
        return grants_page(
            ctx,
            viewer,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match manage::grants::set(
        ctx.store.as_ref(),
        &viewer.actor,
        (&user, &pattern, access),
        ctx.now,
    )
    .await
    {
        Ok(()) => Ok(viewer.keep(Page::redirect("/-/grants").changing(user))),
        Err(manage::Error::Store(e)) if !e.is_unavailable() => {
            errors.insert("user", e.to_string());
            grants_page(
                ctx,
                viewer,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

async fn remove_grant(ctx: &Context, viewer: &Viewer, id: &str) -> Result<Page, manage::Error> {
    let Some((user, pattern)) = parse_grant_id(id) else {
        return Ok(not_found(Some(viewer)));
    };
    match manage::grants::remove(ctx.store.as_ref(), &viewer.actor, &user, &pattern, ctx.now).await
    {
        Ok(()) => Ok(viewer.keep(Page::redirect("/-/grants").changing(user))),
        Err(manage::Error::Store(store::Error::UnknownGrant { .. })) => Ok(not_found(Some(viewer))),
        Err(error) => Err(error),
    }
}

async fn audit(ctx: &Context, req: &Request, viewer: &Viewer) -> Result<Page, manage::Error> {
    let before = req.query.get("before").and_then(|b| b.parse::<i64>().ok());
    let user = (!viewer.is_admin()).then(|| viewer.user.name.clone());
    let events = manage::audit::page(
        ctx.store.as_ref(),
        &viewer.actor,
        (user.as_ref(), AUDIT_PAGE),
        before,
    )
    .await?;
    let older = (events.len() as i64 == AUDIT_PAGE)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    let content = render::audit_page(&events, older);
    Ok(viewer.page(StatusCode::OK, "Audit log", &content))
}
