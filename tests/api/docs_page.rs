//! `/docs` in a real browser (Debian's chromium, headless), over plain HTTP
//! at a name that is not loopback: the page the binary ships loads under
//! the host's content security policy, reads `/openapi.json`, and lists
//! every operation in it.

use std::collections::BTreeSet;
use std::process::Command;

use mhmanus_tests::{spawn_app, workspace_root};

#[test]
fn the_docs_page_lists_every_operation_in_a_browser() {
    let host = spawn_app(&[]);
    let profile = tempfile::tempdir().unwrap();
    // A name of its own, not 127.0.0.1: a browser treats loopback as a
    // secure origin, which would hide a page that breaks over plain HTTP.
    let port = host.base_url.rsplit(':').next().unwrap();
    let url = format!("http://mhmanus-docs.test:{port}/docs");
    // `timeout`: a browser that hangs fails the test instead of holding it.
    let shown = Command::new("timeout")
        .args([
            "60",
            "chromium",
            "--host-resolver-rules=MAP mhmanus-docs.test 127.0.0.1",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            // Time for the page's fetch of /openapi.json before the dump.
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .expect("chromium runs (scripts/setup test installs Debian's)");
    let dom = String::from_utf8_lossy(&shown.stdout);
    let console = String::from_utf8_lossy(&shown.stderr);
    assert!(shown.status.success(), "{console}");
    assert!(
        !console.contains("Content Security Policy"),
        "the page keeps the host's policy: {console}"
    );

    let text = std::fs::read_to_string(workspace_root().join("openapi.yaml")).unwrap();
    let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_mapping().unwrap() {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                let path = path.as_str().unwrap();
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(operations.len() > 10, "{operations:?}");
    let listed: BTreeSet<String> = dom
        .split("data-operation=\"")
        .skip(1)
        .filter_map(|rest| Some(rest.split_once('"')?.0.to_owned()))
        .collect();
    assert_eq!(listed, operations, "the page:\n{dom}");
    assert!(dom.contains("<h1 id=\"title\">MHManus"), "{dom}");
}
