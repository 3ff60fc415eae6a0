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

/// Golden pushes from real git (`scripts/capture-pushes.py`): every body up to its pack is
/// parsed into exactly the refs the scenario pushed, from any split.
#[test]
fn golden_pushes_from_real_git() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pushes/pushes.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut seen = 0;
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = row["name"].as_str().unwrap();
        let hex = row["body_hex"].as_str().unwrap();
        let body: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let (list, consumed) = complete(&body);
        let expected: Vec<(String, String)> = row["refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let got: Vec<(String, String)> = list
            .commands
            .iter()
            .map(|c| {
                let kind = match (c.creates(), c.deletes()) {
                    (true, false) => "create",
                    (false, true) => "delete",
                    (false, false) => "update",
                    (true, true) => "both",
                };
                (c.name.clone(), kind.to_owned())
            })
            .collect();
        assert_eq!(got, expected, "{name}");
        assert_eq!(
            list.shallow as u64,
            row["shallow"].as_u64().unwrap(),
            "{name}"
        );
        assert!(list.has_capability("side-band-64k"), "{name}: {list:?}");
        let options = row["options"].as_bool().unwrap();
        assert_eq!(list.has_capability("push-options"), options, "{name}");
        if options {
            assert!(list.has_capability("atomic"), "{name}");
            assert!(consumed < body.len(), "{name}: options follow the list");
        } else {
            assert_eq!(consumed, body.len(), "{name}: the pack follows the list");
        }
        for cut in 0..consumed {
            assert!(
                matches!(parse(&body[..cut], false), Ok(Parsed::NeedMore { .. })),
                "{name}: cut at {cut}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 7, "the fixture holds every scenario");
}
