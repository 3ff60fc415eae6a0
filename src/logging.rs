//! Where log lines go: stderr, through a per-thread buffer on the server's worker threads.
//!
//! A worker appends each formatted line to its own buffer and writes the buffer out when it
//! is full or when the worker's runtime runs out of work and is about to sleep. A busy
//! server therefore writes many lines per system call, an idle one writes each line at
//! once, and no lock or other thread is involved. Every other thread (the CLI, the control
//! runtime) writes each line directly.

use std::cell::RefCell;
use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Bytes gathered before a worker writes its buffer even while busy.
const BUFFER_BYTES: usize = 32 * 1024;

thread_local! {
    static BUFFER: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// The `MakeWriter` for the tracing subscriber.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

/// Writes one formatted line (see [`Stderr`]).
#[derive(Debug)]
pub struct LineWriter;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter
    }
}

impl Write for LineWriter {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let buffered = BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            let buffer = buffer.as_mut()?;
            buffer.extend_from_slice(line);
            if buffer.len() >= BUFFER_BYTES {
                write_out(buffer);
            }
            Some(())
        });
        match buffered {
            Some(()) => Ok(line.len()),
            None => io::stderr().write(line),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes one complete line as the tracing subscriber would (buffered on workers).
pub fn write_line(line: &[u8]) {
    let _ = LineWriter.write_all(line);
}

/// Appends the current UTC time as tracing's text format prints it
/// (`2026-11-26T14:08:09.073155Z`).
pub fn timestamp(out: &mut String) {
    use std::fmt::Write as _;
    let now = time::OffsetDateTime::now_utc();
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
}

/// From now on, lines logged on this thread are buffered (call on each worker thread).
pub fn buffer_this_thread() {
    BUFFER.with(|buffer| {
        buffer
            .borrow_mut()
            .get_or_insert_with(|| Vec::with_capacity(BUFFER_BYTES + BUFFER_BYTES / 4));
    });
}

/// Writes this thread's buffered lines (call when the worker is about to sleep or ends).
pub fn flush_this_thread() {
    BUFFER.with(|buffer| {
        if let Some(buffer) = buffer.borrow_mut().as_mut() {
            write_out(buffer);
        }
    });
}

fn write_out(buffer: &mut Vec<u8>) {
    if buffer.is_empty() {
        return;
    }
    // Nothing sensible is left to do when stderr itself fails. Unit tests only check that
    // the buffer is written out, without filling the test output.
    if !cfg!(test) {
        let _ = io::stderr().lock().write_all(buffer);
    }
    buffer.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_lines_wait_for_a_flush_and_keep_their_order() {
        std::thread::spawn(|| {
            buffer_this_thread();
            LineWriter.write_all(b"one\n").unwrap_or(());
            LineWriter.write_all(b"two\n").unwrap_or(());
            let held = BUFFER.with(|b| b.borrow().as_ref().map(|v| v.clone()));
            assert_eq!(held.as_deref(), Some(&b"one\ntwo\n"[..]));
            flush_this_thread();
            let held = BUFFER.with(|b| b.borrow().as_ref().map(Vec::len));
            assert_eq!(held, Some(0));
        })
        .join()
        .unwrap_or(());
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting() {
        std::thread::spawn(|| {
            buffer_this_thread();
            let line = vec![b'x'; BUFFER_BYTES];
            LineWriter.write_all(&line).unwrap_or(());
            let held = BUFFER.with(|b| b.borrow().as_ref().map(Vec::len));
            assert_eq!(held, Some(0));
        })
        .join()
        .unwrap_or(());
    }

    #[test]
    fn other_threads_are_not_buffered() {
        std::thread::spawn(|| {
            LineWriter.write_all(b"").unwrap_or(());
            assert!(BUFFER.with(|b| b.borrow().is_none()));
        })
        .join()
        .unwrap_or(());
    }
}
