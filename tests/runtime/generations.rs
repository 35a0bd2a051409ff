//! Both component generations are served: WASIp3 (`wasi:http/handler@0.3`,
//! what spin-sdk 7 builds) and WASIp2 (`wasi:http/incoming-handler@0.2`).

use mhmanus_host::runtime::Generation;
use mhmanus_tests::InProcessHost;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "generations"
[[trigger.http]]
route = "/p2/..."
component = "p2"
[[trigger.http]]
route = "/p3/..."
component = "p3"
[component.p2]
source = "{wasm:p2-echo}"
[component.p3]
source = "{wasm:faulty}"
"#;

#[tokio::test]
async fn serves_wasip2_and_wasip3_components_side_by_side() {
    let app = InProcessHost::start(MANIFEST, |_| {}).await.unwrap();
    assert_eq!(app.runtime.generation("p2"), Some(Generation::P2));
    assert_eq!(app.runtime.generation("p3"), Some(Generation::P3));
    for _ in 0..3 {
        let reply = app.get("/p2/hello?x=1").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, "p2 path=/p2/hello?x=1 route=/p2/...");
    }
    let reply = app.get("/p3/ok").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "fine"));
}
