#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;

const A: &str = "1111111111111111111111111111111111111111";
const B: &str = "2222222222222222222222222222222222222222";
const Z: &str = "0000000000000000000000000000000000000000";

fn pkt(payload: &str) -> String {
    format!("{:04x}{payload}", payload.len() + 4)
}

fn body(lines: &[String]) -> Vec<u8> {
    let mut out = lines.concat();
    out.push_str("0000");
    out.push_str("PACK\0\0\0\x02");
    out.into_bytes()
}

fn complete(bytes: &[u8]) -> (CommandList, usize) {
    match parse(bytes, false).unwrap() {
        Parsed::Complete { list, consumed } => (list, consumed),
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_update_with_capabilities() {
    let first = pkt(&format!(
        "{A} {B} refs/heads/main\0report-status side-band-64k atomic"
    ));
    let bytes = body(std::slice::from_ref(&first));
    let (list, consumed) = complete(&bytes);
    assert_eq!(consumed, first.len() + 4);
    assert_eq!(list.commands.len(), 1);
    assert_eq!(list.commands[0].name, "refs/heads/main");
    assert!(!list.commands[0].creates() && !list.commands[0].deletes());
    assert!(list.has_capability("side-band-64k") && list.has_capability("atomic"));
}

#[test]
fn shallow_lines_creates_deletes_and_newlines() {
    let lines = [
        pkt(&format!("shallow {A}\n")),
        pkt(&format!("{Z} {B} refs/tags/v1\0report-status\n")),
        pkt(&format!("{A} {Z} refs/heads/old\n")),
    ];
    let (list, _) = complete(&body(&lines));
    assert_eq!(list.shallow, 1);
    assert!(list.commands[0].creates());
    assert!(list.commands[1].deletes());
    assert_eq!(list.commands[1].name, "refs/heads/old");
}

#[test]
fn sha256_names_are_accepted() {
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    let (list, _) = complete(&body(&[pkt(&format!("{a} {b} refs/heads/x\0"))]));
    assert_eq!(list.commands[0].new, b);
}

/// Every split of the body gives the same answer: `NeedMore` until the flush is in.
#[test]
fn any_prefix_needs_more_until_the_flush() {
    let lines = [
        pkt(&format!("{A} {B} refs/heads/main\0report-status")),
        pkt(&format!("{A} {B} refs/heads/dev")),
    ];
    let bytes = body(&lines);
    let end = lines.concat().len() + 4;
    for cut in 0..end {
        match parse(&bytes[..cut], false).unwrap() {
            Parsed::NeedMore { total } => assert!(total > cut && total <= end, "{cut}"),
            other => panic!("{cut}: {other:?}"),
        }
        assert_eq!(parse(&bytes[..cut], true), Err(CommandError::Truncated));
    }
    assert_eq!(complete(&bytes[..end]).1, end);
}

#[test]
fn what_git_never_sends_is_refused() {
    let ok_first = pkt(&format!("{A} {B} refs/heads/main\0report-status"));
    let rows: Vec<(Vec<u8>, CommandError)> = vec![
        (b"0000".to_vec(), CommandError::Empty),
        (b"0001".to_vec(), CommandError::SpecialPacket),
        (b"0004".to_vec(), CommandError::BadCommand),
        (b"00zz".to_vec(), CommandError::BadLength),
        (b"+0fa".to_vec(), CommandError::BadLength),
        (b"fff1".to_vec(), CommandError::BadLength),
        (
            body(&[pkt(&format!("{A} {B} main"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/a..b"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/x.lock"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/.x"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/a@{{1}}"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads//x"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/a b"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/x/"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{A} {B} refs/heads/x*"))]),
            CommandError::BadRefName,
        ),
        (
            body(&[pkt(&format!("{} {B} refs/heads/x", "AB".repeat(20)))]),
            CommandError::BadObjectName,
        ),
        (body(&[pkt(&format!("{A} {B}"))]), CommandError::BadCommand),
        (
            body(&[pkt(&format!("{A} {} refs/heads/x", "b".repeat(64)))]),
            CommandError::BadObjectName,
        ),
        (
            body(&[
                ok_first.clone(),
                pkt(&format!("{A} {B} refs/heads/y\0atomic")),
            ]),
            CommandError::LateCapabilities,
        ),
        (
            body(&[ok_first.clone(), pkt(&format!("shallow {A}"))]),
            CommandError::LateShallow,
        ),
        (
            body(&[pkt("push-cert\0report-status")]),
            CommandError::SignedPush,
        ),
        (
            body(&[ok_first, "0001".to_owned()]),
            CommandError::SpecialPacket,
        ),
    ];
    for (bytes, expected) in rows {
        assert_eq!(
            parse(&bytes, false),
            Err(expected),
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Push options follow the flush of the command list; they are not part of it.
#[test]
fn push_options_after_the_flush_are_not_read() {
    let first = pkt(&format!(
        "{A} {B} refs/heads/main\0report-status push-options"
    ));
    let mut bytes = format!("{first}0000").into_bytes();
    let (list, consumed) = complete(&bytes);
    bytes.extend_from_slice(b"garbage that is not a pkt-line");
    assert_eq!(complete(&bytes), (list, consumed));
}
