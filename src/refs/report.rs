//! The answer to a refused push, in receive-pack's own response format, so `git push` shows
//! it: each reason as a `remote:` line (side-band channel 2) and every ref as
//! `! [remote rejected] … (reason)` from the report-status (`ng <ref> <reason>`).

use super::commands::CommandList;
use super::decide::RefDenial;

/// Sent as the reason for refs that were allowed but refused with the rest of the push.
pub const REFUSED_WITH_OTHERS: &str = "push refused as a whole: another ref is not allowed";

/// Longest payload of one side-band packet (`side-band-64k`, else `side-band`).
fn band_payload(list: &CommandList) -> Option<usize> {
    if list.has_capability("side-band-64k") {
        Some(65520 - 5)
    } else if list.has_capability("side-band") {
        Some(1000 - 5)
    } else {
        None
    }
}

fn pkt(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

/// The response body refusing the whole push for `denials`.
pub fn refusal(list: &CommandList, denials: &[RefDenial]) -> Vec<u8> {
    let mut messages = String::new();
    for denial in denials {
        messages.push_str(&format!("vcsgate: push refused: {denial}\n"));
    }
    let mut status = Vec::new();
    if list.has_capability("report-status") || list.has_capability("report-status-v2") {
        pkt(&mut status, b"unpack ok\n");
        for command in &list.commands {
            let reason = denials
                .iter()
                .find(|d| d.name() == command.name)
                .map(RefDenial::reason)
                .unwrap_or_else(|| REFUSED_WITH_OTHERS.to_owned());
            pkt(
                &mut status,
                format!("ng {} {reason}\n", command.name).as_bytes(),
            );
        }
        status.extend_from_slice(b"0000");
    }
    let Some(max) = band_payload(list) else {
        // Without side-band git shows no remote messages: the report carries the reasons.
        if status.is_empty() {
            status.extend_from_slice(b"0000");
        }
        return status;
    };
    let mut out = Vec::new();
    for (band, bytes) in [(2u8, messages.as_bytes()), (1u8, &status[..])] {
        for chunk in bytes.chunks(max) {
            let mut payload = Vec::with_capacity(chunk.len() + 1);
            payload.push(band);
            payload.extend_from_slice(chunk);
            pkt(&mut out, &payload);
        }
    }
    out.extend_from_slice(b"0000");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::commands::Command;

    #[test]
    fn every_ref_is_reported_and_reasons_go_to_band_two() {
        let list = CommandList {
            shallow: 0,
            commands: vec![
                Command {
                    old: "1".repeat(40),
                    new: "2".repeat(40),
                    name: "refs/heads/ok".to_owned(),
                },
                Command {
                    old: "1".repeat(40),
                    new: "0".repeat(40),
                    name: "refs/heads/main".to_owned(),
                },
            ],
            capabilities: vec!["report-status".to_owned(), "side-band-64k".to_owned()],
        };
        let denial = RefDenial::ProtectedDelete {
            name: "refs/heads/main".to_owned(),
            rule: "protect git/** refs/heads/main".to_owned(),
        };
        let body = refusal(&list, &[denial]);
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("\u{2}vcsgate: push refused: refs/heads/main: protected"));
        assert!(text.contains("ng refs/heads/ok push refused as a whole"));
        assert!(text.contains("ng refs/heads/main protected ref may not be deleted"));
        assert!(text.ends_with("0000"));
        let plain = CommandList {
            capabilities: vec!["report-status".to_owned()],
            ..list
        };
        assert!(refusal(&plain, &[]).starts_with(b"000eunpack ok\n"));
    }
}
