//! A recording TCP relay on a free loopback port: every connection is forwarded to
//! 127.0.0.1:`target`, and every byte the client sends (request heads and bodies, exactly as
//! sent) is appended to a file. Put in front of a backend whose own log does not show request
//! headers (hg serve), it lets the secret scan see what vcsgate really sent.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub struct Recorder {
    port: u16,
    file: PathBuf,
    stop: Arc<AtomicBool>,
}

impl Recorder {
    /// Relays to 127.0.0.1:`target`, recording what clients send into `file` (created now).
    pub fn start(target: u16, file: &Path) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let port = listener.local_addr().expect("recorder address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking recorder");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .expect("create the recorder's file");
        let out = Arc::new(Mutex::new(out));
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let out = Arc::clone(&out);
                        thread::spawn(move || relay(client, target, &out));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Recorder {
            port,
            file: file.to_path_buf(),
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The file holding every byte clients sent.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn relay(client: TcpStream, target: u16, out: &Mutex<File>) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut server_in), Ok(mut client_out)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    let downstream = thread::spawn(move || {
        let _ = std::io::copy(&mut server_in, &mut client_out);
        let _ = client_out.shutdown(Shutdown::Write);
    });
    let (mut client, mut server) = (client, server);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        {
            let mut file = out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = file.write_all(&buf[..n]);
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = downstream.join();
}
