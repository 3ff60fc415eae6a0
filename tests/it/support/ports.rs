//! Loopback ports: the one allocator every server of the harness takes its port from (tests
//! run in parallel: a port is never handed out twice by this process, and servers that still
//! lose a race retry on another port), and who listens on a port (readiness must prove that
//! the process we started is the one accepting, not whatever else got the port).

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(|| Mutex::new(HashSet::new()));
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        let mut given = given.lock().unwrap_or_else(|e| e.into_inner());
        if given.insert(port) {
            return port;
        }
    }
}

/// Whether the process `pid` holds a socket listening on 127.0.0.1:`port` (or on every
/// IPv4 address at that port), read from `/proc/net/tcp` and `/proc/PID/fd`.
pub fn listened_by(pid: u32, port: u16) -> bool {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok).any(|fd| {
        std::fs::read_link(fd.path())
            .ok()
            .and_then(|target| socket_inode(&target))
            .is_some_and(|inode| inodes.contains(&inode))
    })
}

/// Inodes of the IPv4 sockets in state LISTEN on 127.0.0.1:`port` or 0.0.0.0:`port`.
fn listening_inodes(port: u16) -> Vec<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let wanted = [
        format!("0100007F:{port:04X}"),
        format!("00000000:{port:04X}"),
    ];
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            (*state == "0A" && wanted.iter().any(|w| w == local))
                .then(|| inode.parse().ok())
                .flatten()
        })
        .collect()
}

/// `socket:[INODE]` → INODE.
fn socket_inode(target: &Path) -> Option<u64> {
    let text = target.to_str()?;
    text.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}
