//! A user's Spin middleware (`dependencies.middleware`) runs in the host as
//! under Spin: composed in front of its trigger's component, with what it
//! inherits of that component, and nowhere else.

use mhmanus_tests::{InProcessHost, TestComponent, TestManifest};

const TAG: &str = "x-middleware-tag";

/// `spin-probe` behind `middleware` (outermost first) on /probe/..., and
/// without any on /plain/...; the component's variable `tag` is "blue".
fn tagged(middleware: &[(&str, &[&str])]) -> TestManifest {
    let mut probe = TestComponent::new("/probe/...", "probe", "spin-probe").variable("tag", "blue");
    let mut manifest = TestManifest::new("middleware");
    for (id, inherits) in middleware {
        probe = probe.behind(id, inherits);
        manifest = manifest.middleware(id, "tag-middleware");
    }
    manifest
        .component(probe)
        .component(TestComponent::new("/plain/...", "plain", "spin-probe").variable("tag", "red"))
}

#[tokio::test]
async fn a_middleware_sees_the_request_and_the_answer_of_its_component() {
    let app = InProcessHost::start(&tagged(&[("tagger", &["variables"])]), |_| {})
        .await
        .unwrap();
    let reply = app.get(&format!("/probe/header?arg={TAG}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json()["values"],
        serde_json::json!(["blue"]),
        "the component saw the request the middleware forwarded, tagged with the component's variable"
    );
    assert_eq!(
        reply.list(TAG),
        ["blue"],
        "the middleware tagged the answer"
    );

    let streamed = app.get("/probe/x/stream?arg=50").await;
    assert_eq!(streamed.status, 200);
    assert_eq!(
        streamed.text().matches("data: line").count(),
        5,
        "{}",
        streamed.text()
    );

    let plain = app.get("/plain/anything").await;
    assert_eq!(plain.status, 200);
    assert!(
        plain.header(TAG).is_none(),
        "a trigger without middleware has none"
    );
}

#[tokio::test]
async fn a_middleware_can_answer_without_calling_its_component() {
    let app = InProcessHost::start(&tagged(&[("tagger", &["variables"])]), |_| {})
        .await
        .unwrap();
    let reply = app.get("/probe/refused").await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.list(TAG), ["blue"]);
    assert!(reply.body.is_empty(), "the probe would have answered JSON");
}

#[tokio::test]
async fn a_chain_runs_every_middleware_in_it() {
    let chain: &[(&str, &[&str])] = &[("outer", &["variables"]), ("inner", &["variables"])];
    let app = InProcessHost::start(&tagged(chain), |_| {}).await.unwrap();
    let reply = app.get(&format!("/probe/header?arg={TAG}")).await;
    assert_eq!(reply.json()["values"], serde_json::json!(["blue", "blue"]));
    assert_eq!(reply.list(TAG), ["blue", "blue"]);
}

#[tokio::test]
async fn a_middleware_using_what_it_does_not_inherit_is_refused_at_start() {
    // Spin would deny it the variables at run time; this host cannot, so
    // it refuses to start rather than grant them.
    let chain: &[(&str, &[&str])] = &[("outer", &["variables"]), ("inner", &[])];
    let error = InProcessHost::start(&tagged(chain), |_| {})
        .await
        .err()
        .expect("the inner middleware reads variables it does not inherit");
    let error = format!("{error:#}");
    assert!(
        error.contains("middleware inner imports spin:variables/variables")
            && error.contains("\"variables\""),
        "{error}"
    );
}
