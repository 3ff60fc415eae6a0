#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::proxy::body;

/// A backend that answers every request on a connection with `200 ok`, keeps the
/// connection open (or closes it after `per_connection` answers), and counts connections.
async fn backend(per_connection: usize) -> (Uri, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: Uri = format!("http://{}/base", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut answered = 0;
                let mut chunk = [0u8; 4096];
                while answered < per_connection {
                    let Ok(n) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        buffer.drain(..end + 4);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(answer).await.is_err() {
                            return;
                        }
                        answered += 1;
                    }
                }
            });
        }
    });
    (url, connections)
}

async fn get(upstream: &Upstream) -> Result<String, Rejection> {
    let response = upstream
        .send(
            Method::GET,
            "/x",
            Some("a=1"),
            HeaderMap::new(),
            body::empty(),
        )
        .await?;
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Ok(String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test(flavor = "current_thread")]
async fn a_connection_is_reused_once_its_response_was_read() {
    let (url, connections) = backend(usize::MAX).await;
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    for _ in 0..5 {
        assert_eq!(get(&upstream).await.unwrap(), "ok");
        tokio::task::yield_now().await;
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    assert_eq!(upstream.idle_connections(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn an_idle_connection_the_backend_closed_is_replaced() {
    let (url, connections) = backend(1).await;
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    for _ in 0..3 {
        assert_eq!(get(&upstream).await.unwrap(), "ok");
        // Let the connection task see the backend's close.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn a_backend_that_is_down_is_unreachable() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: Uri = format!("http://{}/", closed.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(closed);
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    assert!(matches!(
        get(&upstream).await,
        Err(Rejection::BackendUnreachable)
    ));
}

#[test]
fn backend_urls_give_origin_host_and_base() {
    let url: Uri = "https://svn.example.com:8443/svn/".parse().unwrap();
    let upstream = Upstream::new(&url, None, Duration::from_secs(1)).unwrap();
    assert_eq!(upstream.origin(), "https://svn.example.com:8443");
    assert_eq!(upstream.base_path(), "/svn");
    assert_eq!(upstream.host, "svn.example.com:8443");
}
