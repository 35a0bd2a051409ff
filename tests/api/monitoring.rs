//! What ships in deploy/monitoring, against the real tools: promtool
//! accepts the alert rules and the scrape config and passes the rules'
//! unit tests, every query of the Grafana dashboard is PromQL, and every
//! metric the rules and the dashboard read is one a live host serves.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use mhmanus_tests::{TestDatabase, spawn_app, workspace_root};
use serde_json::Value;

fn monitoring() -> PathBuf {
    workspace_root().join("deploy/monitoring")
}

/// `promtool ARGS` in deploy/monitoring; what it printed, once it succeeded.
fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(monitoring())
        .output()
        .expect("promtool runs (scripts/setup test installs Debian's prometheus)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn promtool_checks_the_rules_and_the_config_and_passes_the_rules_tests() {
    let rules = promtool(&["check", "rules", "alerts.yml"]);
    assert!(rules.contains("SUCCESS: 12 rules found"), "{rules}");
    let tests = promtool(&["test", "rules", "alerts.test.yml"]);
    assert!(tests.contains("SUCCESS"), "{tests}");
    promtool(&["check", "config", "prometheus.yml"]);
}

#[test]
fn every_alert_points_to_its_heading_in_the_runbook() {
    let runbook = std::fs::read_to_string(workspace_root().join("docs/OPERATIONS.md")).unwrap();
    let text = std::fs::read_to_string(monitoring().join("alerts.yml")).unwrap();
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    for rule in rules["groups"][0]["rules"].as_sequence().unwrap() {
        let alert = rule["alert"].as_str().unwrap();
        assert_eq!(
            rule["annotations"]["runbook"].as_str(),
            Some(format!("docs/OPERATIONS.md#{}", alert.to_lowercase()).as_str()),
            "{alert}"
        );
        assert!(
            runbook.lines().any(|line| line == format!("### {alert}")),
            "docs/OPERATIONS.md has no heading for {alert}"
        );
    }
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(monitoring().join("grafana-dashboard.json")).unwrap();
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Each panel's queries.
fn dashboard_queries() -> Vec<(String, String)> {
    let dashboard = dashboard();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().expect("a target has an expr");
            queries.push((panel["title"].as_str().unwrap().to_owned(), expr.to_owned()));
        }
    }
    queries
}

fn alert_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(monitoring().join("alerts.yml")).unwrap();
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_sequence().unwrap())
        .map(|rule| {
            (
                rule["alert"].as_str().unwrap().to_owned(),
                rule["expr"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_dashboard_query_is_promql_and_every_panel_fits() {
    // Grafana's variables as a dashboard fills them, then each query as a
    // recording rule, which promtool parses.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, expr)) in dashboard_queries().iter().enumerate() {
        let expr = expr
            .replace("$__rate_interval", "1m")
            .replace("$__range", "6h")
            .replace("$instance", ".*");
        rules += &format!(
            "      - record: dashboard:query_{i}\n        expr: {}\n",
            serde_json::to_string(&expr).unwrap()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard-queries.yml");
    std::fs::write(&path, rules).unwrap();
    promtool(&["check", "rules", path.to_str().unwrap()]);

    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().unwrap();
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels {
        let grid = &panel["gridPos"];
        let right = grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap();
        assert!(right <= 24, "{} overflows the 24 columns", panel["title"]);
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{}",
            panel["title"]
        );
    }
}

/// The metric names a PromQL expression reads: what is left once strings,
/// label matchers, ranges, grouping label lists, functions, keywords and
/// numbers are taken out.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut text = String::new();
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        let closer = match c {
            '"' => '"',
            '{' => '}',
            '[' => ']',
            _ => {
                text.push(c);
                continue;
            }
        };
        // A matcher's value may hold the closer: skip strings whole.
        let mut quoted = c == '"';
        for skipped in chars.by_ref() {
            match skipped {
                '"' if closer != '"' => quoted = !quoted,
                _ if skipped == closer && !(quoted && closer != '"') => break,
                _ => {}
            }
        }
        text.push(' ');
    }
    const GROUPING: [&str; 4] = ["by", "without", "on", "ignoring"];
    const KEYWORDS: [&str; 6] = ["and", "or", "unless", "bool", "offset", "group_left"];
    let tokens: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|token| !token.is_empty())
        .collect();
    // Each token with what follows it, to tell functions and label lists.
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    let mut in_label_list = false;
    for token in tokens {
        let at = rest.find(token).unwrap();
        let after = rest[at + token.len()..].trim_start();
        rest = &rest[at + token.len()..];
        if in_label_list {
            in_label_list = !after.starts_with(')');
            continue;
        }
        if GROUPING.contains(&token) {
            in_label_list = true;
            continue;
        }
        // `f(`, or an aggregation's `sum by (...)`.
        let is_function = after.starts_with('(')
            || GROUPING.iter().any(|grouping| {
                after
                    .strip_prefix(grouping)
                    .is_some_and(|next| next.trim_start().starts_with('('))
            });
        let is_number = token.starts_with(|c: char| c.is_ascii_digit());
        if !(is_function || is_number || KEYWORDS.contains(&token)) {
            names.insert(token.to_owned());
        }
    }
    names
}

#[test]
fn metric_names_are_told_from_functions_labels_and_keywords() {
    let names = metric_names(
        r#"histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{route=~"x{1}"}[5m]))) > 1
           or changes((b > bool 0)[15m:15s]) >= 4
           or count by (version) (c{job="m"}) / on (instance) d"#,
    );
    let expected: BTreeSet<String> = ["a_bucket", "b", "c", "d"].map(String::from).into();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn the_rules_and_the_dashboard_read_metrics_a_live_host_serves() {
    let database = TestDatabase::create().await;
    let host = spawn_app(&[("DATABASE_URL", &database.url())]);
    // A probe, an account, a route limited past its quota.
    let client = reqwest::Client::new();
    let ready = client.get(host.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    host.sign_up().await;
    for _ in 0..11 {
        client
            .get(host.url("/production-test/rate-limit"))
            .send()
            .await
            .unwrap();
    }
    let page = client
        .get(host.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let served: BTreeSet<&str> = page
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();

    let mut read = Vec::new();
    for (source, expr) in alert_queries().into_iter().chain(dashboard_queries()) {
        for name in metric_names(&expr) {
            read.push((source.clone(), name));
        }
    }
    assert!(read.len() > 20, "{read:?}");
    let missing: Vec<&(String, String)> = read
        .iter()
        // `up` is Prometheus's own, of every scrape.
        .filter(|(_, name)| name != "up" && !served.contains(name.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "read but not served: {missing:?}\n/metrics:\n{page}"
    );
    drop(host);
    database.remove().await;
}
