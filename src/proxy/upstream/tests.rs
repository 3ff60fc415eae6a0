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

/// A listener on a loopback port and its URL (`http://ADDR/`).
async fn listen() -> (TcpListener, Uri) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    (listener, url)
}

/// Reads one request head (up to its blank line); false when the connection ended first.
async fn read_head(stream: &mut tokio::net::TcpStream) -> bool {
    let mut chunk = [0u8; 4096];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(k) => seen.extend_from_slice(&chunk[..k]),
        }
    }
    true
}

/// A backend whose first connection answers its first request with `first`, then sends
/// `unasked` without being asked (and keeps the connection open); later connections answer
/// `ok`.
async fn chatty_backend(unasked: &'static [u8]) -> (Uri, Arc<AtomicUsize>) {
    let (listener, url) = listen().await;
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let n = counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if !read_head(&mut stream).await {
                    return;
                }
                let answer: &[u8] = if n == 0 { b"first" } else { b"ok" };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                    answer.len()
                );
                let _ = stream.write_all(&[head.as_bytes(), answer].concat()).await;
                if n == 0 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let _ = stream.write_all(unasked).await;
                }
                let _ = stream.read(&mut [0u8; 64]).await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    (url, connections)
}

#[tokio::test(flavor = "current_thread")]
async fn bytes_an_idle_connection_received_unasked_are_never_an_answer() {
    let unasked = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged";
    let (url, connections) = chatty_backend(unasked).await;
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    assert_eq!(get(&upstream).await.unwrap(), "first");
    assert_eq!(upstream.idle_connections(), 1);
    // Let the unasked bytes arrive and the runtime see them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get(&upstream).await.unwrap(), "ok");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_head_answer_does_not_keep_its_connection() {
    let (url, connections) = backend(usize::MAX).await;
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    let response = upstream
        .send(Method::HEAD, "/x", None, HeaderMap::new(), body::empty())
        .await
        .unwrap();
    assert_eq!(response.headers()["content-length"], "2");
    assert!(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
    assert_eq!(upstream.idle_connections(), 0);
    assert_eq!(get(&upstream).await.unwrap(), "ok");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn the_connection_is_free_once_the_last_byte_is_read_without_another_poll() {
    let (url, connections) = backend(usize::MAX).await;
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    for _ in 0..3 {
        let response = upstream
            .send(Method::GET, "/x", None, HeaderMap::new(), body::empty())
            .await
            .unwrap();
        let mut body = response.into_body();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "ok");
        // A server stops here: the body says it ended.
        assert!(http_body::Body::is_end_stream(&body));
        assert_eq!(upstream.idle_connections(), 1);
        drop(body);
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// A backend whose connections answer their first request with `ok` and their second with
/// `second` (then close); counts requests.
async fn second_answer_backend(second: &'static [u8]) -> (Uri, Arc<AtomicUsize>) {
    let (listener, url) = listen().await;
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                for n in 0..2 {
                    if !read_head(&mut stream).await {
                        return;
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let answer: &[u8] = if n == 0 {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                    } else {
                        second
                    };
                    let _ = stream.write_all(answer).await;
                }
            });
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "current_thread")]
async fn a_request_the_backend_began_to_answer_is_never_retried() {
    let (url, requests) = second_answer_backend(b"HTTP/1.1 100 Continue\r\n\r\n").await;
    let upstream = Upstream::new(&url, None, Duration::from_secs(2)).unwrap();
    assert_eq!(get(&upstream).await.unwrap(), "ok");
    // On the reused connection the backend sends 100 and closes: it got the request.
    assert!(matches!(
        get(&upstream).await,
        Err(Rejection::BackendFailed)
    ));
    assert_eq!(
        requests.load(Ordering::SeqCst),
        2,
        "the request was sent again"
    );
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
