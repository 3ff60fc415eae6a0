//! Wire protocol v1 requests: `<repo>?cmd=<command>` (`wireprotoserver.handlewsgirequest`).

use crate::canon::truncated;
use crate::classify::{BodyRule, Classified, Refusal, Request, Verdict};
use crate::vocabulary::Access;

use super::args::{self, Args, Source};
use super::batch::batch_access;
use super::command::WireCommand;
use super::post::PostArgs;
use super::{HgOp, HgRoute, operation};

/// A request with `cmd` in the query. hg only runs wire commands at a repository root, so the
/// whole path is the repository (a longer path that is not a repository gets a 404 from hg).
pub(super) fn classify(
    request: &Request<'_>,
    route: &HgRoute,
    name: &str,
) -> Result<Classified, Refusal> {
    if request.segments.is_empty() {
        return Err(Refusal::NoRepository);
    }
    // hgwebdir answers a path above the repositories with a listing of those below it.
    if let Some(depth) = route.repo_depth
        && request.segments.len() != depth
    {
        return Err(Refusal::UnknownEndpoint {
            vcs: "hg",
            what: format!(
                "wire requests go to a repository, {depth} segments below the route prefix"
            ),
        });
    }
    super::check_repository(request.segments)?;
    let repo = request.segments.to_vec();
    let post = match request.method.as_str() {
        "GET" => false,
        "POST" => true,
        other => {
            return Err(Refusal::Method {
                method: truncated(other),
            });
        }
    };
    let command = WireCommand::from_name(name).ok_or(Refusal::UnknownCommand { vcs: "hg" })?;
    if let WireCommand::Single(single) = command
        && single.access() == Access::Write
        && !post
    {
        return Err(write_over_get(single.wire_name()));
    }
    let query_args = query_args(request, command)?;
    let post_length = args::post_length(request.headers)?;
    let header_args = args::header_args(request.headers)?;
    match (post_length, header_args) {
        (Some(_), Some(_)) => Err(Refusal::BadHeader {
            name: args::POST_ARGS_HEADER.to_owned(),
            reason: "cannot be combined with X-HgArg-* headers",
        }),
        (Some(_), None) if !post => Err(Refusal::BadHeader {
            name: args::POST_ARGS_HEADER.to_owned(),
            reason: "is only valid on POST",
        }),
        (Some(length), None) => Ok(Classified::NeedsBody {
            repo,
            rule: BodyRule::Hg(PostArgs::new(command, length, query_args)),
        }),
        (None, headers) => {
            let extra = match headers {
                Some(raw) => args::parse_form(&raw, Source::Headers)?,
                None => Vec::new(),
            };
            let op = decide(command, post, query_args, extra)?;
            Ok(Classified::Final(Verdict::new(repo, operation(op))))
        }
    }
}

/// The query's arguments other than `cmd`; each must be one the command reads (R3).
fn query_args(request: &Request<'_>, command: WireCommand) -> Result<Args, Refusal> {
    let mut found = Vec::new();
    for (name, value) in request.query.pairs() {
        if name == "cmd" {
            continue;
        }
        let Some(known) = command.args().iter().find(|known| **known == name) else {
            let mut allowed = command.args();
            if allowed.is_empty() {
                allowed = &["cmd"];
            }
            return Err(Refusal::UnexpectedParam { allowed });
        };
        if !value.is_ascii() {
            return Err(Refusal::BadParamValue { name: known });
        }
        found.push((name.clone(), value.clone()));
    }
    Ok(found)
}

/// Merges the arguments from headers or body into the query's and decides the operation.
/// hg lets header/body arguments replace query ones; a name given in two places is refused.
pub(super) fn decide(
    command: WireCommand,
    post: bool,
    mut args: Args,
    extra: Args,
) -> Result<HgOp, Refusal> {
    for (name, value) in extra {
        if !command.args().contains(&name.as_str()) {
            return Err(Refusal::BadArgument {
                vcs: "hg",
                reason: "one is not an argument of this command",
            });
        }
        if args.iter().any(|(seen, _)| *seen == name) {
            return Err(Refusal::BadArgument {
                vcs: "hg",
                reason: "one is given in more than one place",
            });
        }
        args.push((name, value));
    }
    match command {
        WireCommand::Single(single) => Ok(HgOp::Wire(single)),
        WireCommand::Batch => {
            let cmds = args
                .iter()
                .find(|(name, _)| name == "cmds")
                .map(|(_, value)| value.as_str())
                .ok_or_else(|| Refusal::MissingParam {
                    name: "cmds".to_owned(),
                })?;
            let access = batch_access(cmds)?;
            if access == Access::Write && !post {
                return Err(write_over_get("batch"));
            }
            Ok(HgOp::Batch(access))
        }
    }
}

fn write_over_get(name: &str) -> Refusal {
    Refusal::WriteOverGet {
        vcs: "hg",
        name: name.to_owned(),
    }
}
