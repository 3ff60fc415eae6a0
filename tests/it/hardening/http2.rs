//! R6 on HTTP/2 (h2c prior knowledge on the plain listener): a framing error — DATA beyond
//! the declared `content-length` — resets only that stream; the connection and its other
//! streams keep working, and nothing beyond the refused stream reaches the backend.

use bytes::Bytes;

use super::{CONTROL, Site, basic};
use crate::support::vcsgate::GateConfig;

#[test]
fn h2_content_length_mismatch_resets_only_that_stream() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let port = site.gate.port();
    let (_, authorization) = basic(&token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (client, connection) = h2::client::handshake(tcp).await.expect("h2c handshake");
        tokio::spawn(async move {
            let _ = connection.await;
        });

        let mut client = client.ready().await.unwrap();
        let bad = http::Request::post(format!(
            "http://127.0.0.1:{port}/git/team/app.git/git-upload-pack"
        ))
        .header("content-type", "application/x-git-upload-pack-request")
        .header("content-length", "5")
        .header("authorization", authorization.as_str())
        .body(())
        .unwrap();
        let (response, mut stream) = client.send_request(bad, false).unwrap();
        let _ = stream.send_data(Bytes::from_static(b"0000000000"), true);
        match response.await {
            Err(error) => assert!(
                error.is_reset() || error.reason().is_some(),
                "the stream is reset: {error:?}"
            ),
            Ok(response) => assert!(
                !response.status().is_success(),
                "a body longer than its content-length is never served: {response:?}"
            ),
        }

        let mut client = client.ready().await.expect("the connection stays open");
        let good = http::Request::get(format!("http://127.0.0.1:{port}{CONTROL}"))
            .header("authorization", authorization.as_str())
            .body(())
            .unwrap();
        let (response, _) = client.send_request(good, true).unwrap();
        let response = response
            .await
            .expect("a second stream on the same connection");
        assert_eq!(response.status(), 200);
    });
    site.assert_backend_saw_only(&token, &["POST /git/team/app.git/git-upload-pack"]);
}
