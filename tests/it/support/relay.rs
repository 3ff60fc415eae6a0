//! A TCP relay on a free loopback port that forwards every connection to 127.0.0.1:`target`
//! and passes the server's bytes back at a limited rate: a real client talking through it
//! sees a slow network, so a test can act while a transfer is in flight.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const CHUNK: usize = 16 * 1024;

pub struct Relay {
    port: u16,
    to_client: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    /// Relays to 127.0.0.1:`target`, sending at most `bytes_per_sec` towards each client.
    pub fn start(target: u16, bytes_per_sec: u64) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        listener.set_nonblocking(true).expect("non-blocking relay");
        let to_client = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopping) = (Arc::clone(&to_client), Arc::clone(&stop));
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let counter = Arc::clone(&counter);
                        thread::spawn(move || relay(client, target, bytes_per_sec, &counter));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Relay {
            port,
            to_client,
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Bytes passed from the server to clients so far.
    pub fn bytes_to_client(&self) -> u64 {
        self.to_client.load(Ordering::Relaxed)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn relay(client: TcpStream, target: u16, bytes_per_sec: u64, counter: &AtomicU64) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let upstream = thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server, mut client) = (server, client);
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if client.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
        counter.fetch_add(n as u64, Ordering::Relaxed);
        let due = Duration::from_secs_f64(sent as f64 / bytes_per_sec as f64);
        if let Some(ahead) = due.checked_sub(start.elapsed()) {
            thread::sleep(ahead);
        }
    }
    let _ = client.shutdown(Shutdown::Write);
    let _ = upstream.join();
}
