//! "Nothing reached the backend", provably: a backend's request log is only evidence of
//! absence once it has shown that it works. [`settled`] sends a control request that must
//! reach the backend, waits until the log shows it (Apache writes its line after the
//! response, so reading at once would race), and only then returns the log's lines for the
//! test to check. A log that is missing or unreadable fails the test (the readers panic).

use std::time::Duration;

use super::poll;

/// How long a control request may take to show up in a backend's log.
const LOG_WAIT: Duration = Duration::from_secs(10);

/// Counts the lines of `read()` containing `control`, calls `send` (which sends the control
/// request and checks that it succeeded), waits until one more such line is logged, and
/// returns every line of the log. Fails the test, showing the log, if the control request
/// never appears.
#[track_caller]
pub fn settled(
    backend: &str,
    read: impl Fn() -> String,
    control: &str,
    send: impl FnOnce(),
) -> Vec<String> {
    let count = |text: &str| text.lines().filter(|l| l.contains(control)).count();
    let before = count(&read());
    send();
    let seen = poll::until(LOG_WAIT, Duration::from_millis(20), || {
        count(&read()) > before
    });
    let log = read();
    assert!(
        seen.is_some(),
        "the control request ({control}) never showed up in {backend}'s log within \
         {LOG_WAIT:?}, so the log proves nothing:\n{log}"
    );
    log.lines().map(str::to_string).collect()
}
