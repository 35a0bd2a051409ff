//! Health reports in the `application/health+json` format
//! (draft-inadarei-api-health-check): an overall status and named checks.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub const MEDIA_TYPE: &str = "application/health+json";

/// The health routes, `/health` and below: probes, the same in every API
/// version and never rate limited.
pub fn is_health_path(path: &str) -> bool {
    path == "/health" || path.starts_with("/health/")
}

/// A check's verdict. Ordered by severity, so the worst of several is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    /// 200 while the service can serve (pass or warn), 503 once anything fails.
    pub fn http_status(self) -> u16 {
        match self {
            Status::Pass | Status::Warn => 200,
            Status::Fail => 503,
        }
    }
}

/// One observation of one dependency, e.g. the database's response time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_value: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_unit: Option<String>,
    pub status: Status,
    /// When the observation was made, RFC 3339.
    pub time: String,
    /// Why the check did not pass; absent on a pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl Check {
    /// A passing check stamped with the current time.
    pub fn pass() -> Self {
        Check {
            component_id: None,
            component_type: None,
            observed_value: None,
            observed_unit: None,
            status: Status::Pass,
            time: now_rfc3339(),
            output: None,
        }
    }

    /// A failing check with the reason a reader needs to act on it.
    pub fn fail(output: impl Into<String>) -> Self {
        Check {
            status: Status::Fail,
            output: Some(output.into()),
            ..Check::pass()
        }
    }

    /// A check that passes with a concern the reader should act on.
    pub fn warn(output: impl Into<String>) -> Self {
        Check {
            status: Status::Warn,
            output: Some(output.into()),
            ..Check::pass()
        }
    }

    pub fn component(mut self, id: impl Into<String>, kind: impl Into<String>) -> Self {
        self.component_id = Some(id.into());
        self.component_type = Some(kind.into());
        self
    }

    pub fn observed(
        mut self,
        value: impl Into<serde_json::Value>,
        unit: impl Into<String>,
    ) -> Self {
        self.observed_value = Some(value.into());
        self.observed_unit = Some(unit.into());
        self
    }
}

/// The whole report: the worst status of its checks, and the checks keyed
/// `component:measurement` (e.g. `database:responseTime`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub checks: BTreeMap<String, Vec<Check>>,
}

impl Report {
    pub fn new(service_id: impl Into<String>, version: impl Into<String>) -> Self {
        Report {
            status: Status::Pass,
            version: Some(version.into()),
            service_id: Some(service_id.into()),
            description: None,
            checks: BTreeMap::new(),
        }
    }

    /// Adds a check and folds its status into the overall one.
    pub fn add(&mut self, key: impl Into<String>, check: Check) {
        self.status = self.status.max(check.status);
        self.checks.entry(key.into()).or_default().push(check);
    }

    /// Recomputes the overall status from the checks, e.g. after merging reports.
    pub fn recompute(&mut self) {
        self.status = self
            .checks
            .values()
            .flatten()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Pass);
    }

    pub fn http_status(&self) -> u16 {
        self.status.http_status()
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_paths_are_health_and_below() {
        for path in ["/health", "/health/ready", "/health/live"] {
            assert!(is_health_path(path), "{path}");
        }
        for path in ["/healthz", "/v1/health", "/metrics"] {
            assert!(!is_health_path(path), "{path}");
        }
    }

    #[test]
    fn overall_status_is_the_worst_check() {
        let mut report = Report::new("svc", "1");
        report.add("database:responseTime", Check::pass());
        assert_eq!((report.status, report.http_status()), (Status::Pass, 200));
        report.add(
            "memory:utilization",
            Check {
                status: Status::Warn,
                ..Check::pass()
            },
        );
        assert_eq!((report.status, report.http_status()), (Status::Warn, 200));
        report.add("redis:responseTime", Check::fail("connection refused"));
        assert_eq!((report.status, report.http_status()), (Status::Fail, 503));
    }

    #[test]
    fn serializes_as_health_json() {
        let mut report = Report::new("svc", "1");
        report.add(
            "database:responseTime",
            Check::fail("no such table")
                .component("sqlite", "datastore")
                .observed(1.5, "ms"),
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status"], "fail");
        let check = &json["checks"]["database:responseTime"][0];
        assert_eq!(check["observedUnit"], "ms");
        assert_eq!(check["output"], "no such table");
        assert_eq!(check["componentType"], "datastore");
        assert!(check["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn recompute_after_merging_reports() {
        let mut report = Report::new("svc", "1");
        report.add("redis:responseTime", Check::fail("down"));
        report.checks.remove("redis:responseTime");
        report.recompute();
        assert_eq!(report.status, Status::Pass);
    }
}
