//! Both component generations are served: WASIp3 (`wasi:http/handler@0.3`,
//! what spin-sdk 7 builds) and WASIp2 (`wasi:http/incoming-handler@0.2`).

use mhmanus_host::Generation;
use mhmanus_tests::{InProcessHost, TestManifest};

/// A WASIp2 guest and a WASIp3 guest.
fn both_generations() -> TestManifest {
    TestManifest::new("generations")
        .route("/p2/...", "p2", "p2-echo")
        .route("/p3/...", "p3", "faulty")
}

#[tokio::test]
async fn serves_wasip2_and_wasip3_components_side_by_side() {
    let app = InProcessHost::start(&both_generations(), |_| {})
        .await
        .unwrap();
    assert_eq!(app.components().generation("p2"), Some(Generation::P2));
    assert_eq!(app.components().generation("p3"), Some(Generation::P3));
    for _ in 0..3 {
        let reply = app.get("/p2/hello?x=1").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text(), "p2 path=/p2/hello?x=1 route=/p2/...");
    }
    let reply = app.get("/p3/ok").await;
    assert_eq!(
        (reply.status.as_u16(), reply.text().as_ref()),
        (200, "fine")
    );
}
