//! `batch`: several wire commands in one request (`wireprotov1server.batch`).
//!
//! hg splits `cmds` on `;`, each element at its first space into `op` and `args`, `args` on
//! `,` and each non-empty item on `=` into exactly a name and a value, both escaped with
//! `wireprototypes.escapebatcharg` (`:c` `:o` `:s` `:e` for `:` `,` `;` `=`). It then runs
//! every op, checking each one's permission (since CVE-2018-1000132). The verdict here is the
//! highest access over the ops; an op that is not a known command other than `batch`, or an
//! element hg could not split, refuses the whole request.

use crate::classify::Refusal;
use crate::vocabulary::Access;

use super::command::HgCommand;

/// The access a `cmds` list needs: write when any op writes, read when all read.
pub(super) fn batch_access(cmds: &str) -> Result<Access, Refusal> {
    let mut access = Access::Read;
    for element in cmds.split(';') {
        let command = element_command(element)?;
        access = access.max(command.access());
    }
    Ok(access)
}

fn element_command(element: &str) -> Result<HgCommand, Refusal> {
    let Some((op, args)) = element.split_once(' ') else {
        return Err(Refusal::BadBatch {
            reason: "an element has no space between command and arguments",
        });
    };
    let command = HgCommand::from_name(op).ok_or(Refusal::UnknownCommand { vcs: "hg" })?;
    for arg in args.split(',').filter(|arg| !arg.is_empty()) {
        let mut parts = arg.split('=');
        let (Some(name), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Refusal::BadBatch {
                reason: "an argument is not exactly name=value",
            });
        };
        let name = unescape(name)?;
        unescape(value)?;
        if !command.args().contains(&name.as_str()) {
            return Err(Refusal::BadArgument {
                vcs: "hg",
                reason: "one is not an argument of its batched command",
            });
        }
    }
    Ok(command)
}

/// Reverses `escapebatcharg`; a `:` not starting one of its four escapes is refused (hg would
/// keep it literally, no client writes it).
fn unescape(escaped: &str) -> Result<String, Refusal> {
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != ':' {
            out.push(c);
            continue;
        }
        let plain = match chars.next() {
            Some('c') => ':',
            Some('o') => ',',
            Some('s') => ';',
            Some('e') => '=',
            _ => {
                return Err(Refusal::BadBatch {
                    reason: "an argument has a ':' that is not a batch escape",
                });
            }
        };
        out.push(plain);
    }
    Ok(out)
}
