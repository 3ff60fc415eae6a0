//! The command list at the start of a `git-receive-pack` request body, parsed incrementally:
//! pkt-lines up to the first flush — optional `shallow <oid>` lines, then `<old> <new> <ref>`
//! lines, the first followed by NUL and the client's capabilities. What follows the flush
//! (push options, the pack) is never looked at.
//!
//! Pure and stateless: [`parse`] is offered the whole prefix read so far and answers
//! [`Parsed::Complete`] or how many bytes it needs before it can say more, so the answer
//! never depends on how the body was split. Anything git itself would not send is refused
//! (upper-case hex, a NUL after the first command, special packets, signed pushes), and ref
//! names must pass git's own format rules, so the name decided on is the name git updates.

use super::pattern::ref_byte;

/// Longest pkt-line git writes (`LARGE_PACKET_MAX`), length header included.
const MAX_PKT_LEN: usize = 65520;

/// One ref update of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub old: String,
    pub new: String,
    pub name: String,
}

impl Command {
    /// The ref does not exist yet.
    pub fn creates(&self) -> bool {
        is_zero(&self.old)
    }

    /// The push deletes the ref.
    pub fn deletes(&self) -> bool {
        is_zero(&self.new)
    }
}

fn is_zero(oid: &str) -> bool {
    oid.bytes().all(|b| b == b'0')
}

/// The command list of one push.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandList {
    /// How many `shallow` lines preceded the commands (a push from a shallow clone).
    pub shallow: usize,
    pub commands: Vec<Command>,
    /// The client's capabilities (`report-status`, `side-band-64k`, `atomic`, …).
    pub capabilities: Vec<String>,
}

impl CommandList {
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }
}

/// What [`parse`] could tell from the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The list ends with the flush at `consumed - 4`.
    Complete { list: CommandList, consumed: usize },
    /// Nothing can be decided before the prefix holds `total` bytes.
    NeedMore { total: usize },
}

/// Why a command list is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("receive-pack body ended inside its command list")]
    Truncated,
    #[error("receive-pack command list: malformed pkt-line length")]
    BadLength,
    #[error("receive-pack command list: unexpected special packet")]
    SpecialPacket,
    #[error("receive-pack command list: no ref updates")]
    Empty,
    #[error("receive-pack command list: malformed command")]
    BadCommand,
    #[error("receive-pack command list: malformed object name")]
    BadObjectName,
    #[error("receive-pack command list: ref name git would refuse")]
    BadRefName,
    #[error("receive-pack command list: capabilities after the first command")]
    LateCapabilities,
    #[error("receive-pack command list: shallow line after the commands")]
    LateShallow,
    #[error("signed pushes (push-cert) are not supported")]
    SignedPush,
}

impl CommandError {
    /// The message, as a static string (refusals quote nothing from the body).
    pub fn reason(self) -> &'static str {
        match self {
            CommandError::Truncated => "receive-pack body ended inside its command list",
            CommandError::BadLength => "receive-pack command list: malformed pkt-line length",
            CommandError::SpecialPacket => "receive-pack command list: unexpected special packet",
            CommandError::Empty => "receive-pack command list: no ref updates",
            CommandError::BadCommand => "receive-pack command list: malformed command",
            CommandError::BadObjectName => "receive-pack command list: malformed object name",
            CommandError::BadRefName => "receive-pack command list: ref name git would refuse",
            CommandError::LateCapabilities => {
                "receive-pack command list: capabilities after the first command"
            }
            CommandError::LateShallow => {
                "receive-pack command list: shallow line after the commands"
            }
            CommandError::SignedPush => "signed pushes (push-cert) are not supported",
        }
    }
}

/// Parses the command list from the start of `prefix`; `eof` says the body ended there.
pub fn parse(prefix: &[u8], eof: bool) -> Result<Parsed, CommandError> {
    let mut list = CommandList::default();
    let mut at = 0;
    loop {
        let Some(header) = prefix.get(at..at + 4) else {
            return need(at + 4, eof);
        };
        let len = pkt_len(header)?;
        match len {
            0 if list.commands.is_empty() => return Err(CommandError::Empty),
            0 => {
                return Ok(Parsed::Complete {
                    list,
                    consumed: at + 4,
                });
            }
            1..=3 => return Err(CommandError::SpecialPacket),
            4 => return Err(CommandError::BadCommand),
            _ if len > MAX_PKT_LEN => return Err(CommandError::BadLength),
            _ => {}
        }
        let Some(payload) = prefix.get(at + 4..at + len) else {
            return need(at + len, eof);
        };
        let payload = payload.strip_suffix(b"\n").unwrap_or(payload);
        line(payload, &mut list)?;
        at += len;
    }
}

fn need(total: usize, eof: bool) -> Result<Parsed, CommandError> {
    if eof {
        Err(CommandError::Truncated)
    } else {
        Ok(Parsed::NeedMore { total })
    }
}

/// The 4-hex-digit length (git's own reader accepts either case of hex digit).
fn pkt_len(header: &[u8]) -> Result<usize, CommandError> {
    header.iter().try_fold(0usize, |acc, &b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(CommandError::BadLength),
        };
        Ok(acc * 16 + usize::from(digit))
    })
}

fn line(payload: &[u8], list: &mut CommandList) -> Result<(), CommandError> {
    if payload.starts_with(b"push-cert") {
        return Err(CommandError::SignedPush);
    }
    if let Some(oid) = payload.strip_prefix(b"shallow ") {
        if !list.commands.is_empty() {
            return Err(CommandError::LateShallow);
        }
        object_name(oid)?;
        list.shallow += 1;
        return Ok(());
    }
    let (command, capabilities) = match payload.iter().position(|&b| b == 0) {
        Some(nul) if list.commands.is_empty() => (&payload[..nul], Some(&payload[nul + 1..])),
        Some(_) => return Err(CommandError::LateCapabilities),
        None => (payload, None),
    };
    let mut parts = command.splitn(3, |&b| b == b' ');
    let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CommandError::BadCommand);
    };
    let (old, new) = (object_name(old)?, object_name(new)?);
    if old.len() != new.len() {
        return Err(CommandError::BadObjectName);
    }
    let name = ref_name(name)?;
    if let Some(capabilities) = capabilities {
        let text = std::str::from_utf8(capabilities).map_err(|_| CommandError::BadCommand)?;
        list.capabilities = text
            .split(' ')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
    }
    list.commands.push(Command { old, new, name });
    Ok(())
}

/// A SHA-1 or SHA-256 object name in lower-case hex.
fn object_name(bytes: &[u8]) -> Result<String, CommandError> {
    let hex = bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !hex || !matches!(bytes.len(), 40 | 64) {
        return Err(CommandError::BadObjectName);
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A ref name as `git check-ref-format` accepts it, under `refs/` (receive-pack refuses
/// anything else as a "funny refname").
fn ref_name(bytes: &[u8]) -> Result<String, CommandError> {
    let name = std::str::from_utf8(bytes).map_err(|_| CommandError::BadRefName)?;
    let rest = name.strip_prefix("refs/").ok_or(CommandError::BadRefName)?;
    let component_ok = |c: &str| {
        !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock") && c.bytes().all(ref_byte)
    };
    let ok = rest.split('/').all(component_ok)
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && name != "@";
    if ok {
        Ok(name.to_owned())
    } else {
        Err(CommandError::BadRefName)
    }
}

#[cfg(test)]
mod tests;
