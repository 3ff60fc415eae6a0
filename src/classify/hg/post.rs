//! Arguments at the start of the body (`X-HgArgs-Post: N`, hg's `httppostargs`).

use crate::classify::{Progress, Refusal};

use super::args::{self, Args, Source};
use super::command::WireCommand;
use super::{operation, wire};

/// The body-dependent part of an hg request with `X-HgArgs-Post`: the first `length` body
/// bytes are form-encoded arguments (for `batch`, the `cmds` that decide read or write).
/// Only built for POST requests; the proxy refuses a `length` beyond its body prefix cap
/// before reading anything.
#[derive(Debug)]
pub struct PostArgs {
    command: WireCommand,
    length: usize,
    query_args: Args,
}

impl PostArgs {
    pub(super) fn new(command: WireCommand, length: usize, query_args: Args) -> PostArgs {
        PostArgs {
            command,
            length,
            query_args,
        }
    }

    /// How many body bytes the decision needs.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Decides once `prefix` holds `length` bytes; refuses a body that ends before.
    pub fn feed(&mut self, prefix: &[u8], eof: bool) -> Result<Progress, Refusal> {
        let Some(raw) = prefix.get(..self.length) else {
            if eof {
                return Err(Refusal::BadBody {
                    reason: "body is shorter than X-HgArgs-Post",
                });
            }
            return Ok(Progress::NeedMore { total: self.length });
        };
        let raw = std::str::from_utf8(raw).map_err(|_| Refusal::BadBody {
            reason: "arguments are not ASCII",
        })?;
        let extra = args::parse_form(raw, Source::Body)?;
        let op = wire::decide(self.command, true, self.query_args.clone(), extra)?;
        Ok(Progress::Complete(operation(op)))
    }
}
