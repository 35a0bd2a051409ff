//! The in-process micro-benchmark (`benches/handler.rs`, criterion): one
//! request through the wasm handler with a fresh and with a reused
//! instance. Run through cargo, its medians read back from criterion's own
//! `estimates.json`.

use serde::{Deserialize, Serialize};

use crate::prepare::{self, Tools};

const GROUP: &str = "wasm-handler";

#[derive(Debug, Clone, Serialize)]
pub struct Micro {
    pub fresh_instance_us: f64,
    pub reused_instance_us: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

pub fn run(tools: &Tools, quick: bool) -> anyhow::Result<Micro> {
    let mut bench = prepare::cargo(&tools.root);
    bench.args([
        "bench", "-p", "bench", "--bench", "handler", "--", "--noplot",
    ]);
    if quick {
        bench.arg("--quick");
    }
    prepare::run(bench)?;
    let median_us = |name: &str| -> anyhow::Result<f64> {
        let path = prepare::target_dir(&tools.root)
            .join("criterion")
            .join(GROUP)
            .join(name)
            .join("new/estimates.json");
        let estimates: Estimates = serde_json::from_slice(&std::fs::read(&path)?)?;
        Ok(estimates.median.point_estimate / 1000.0)
    };
    Ok(Micro {
        fresh_instance_us: median_us("fresh-instance")?,
        reused_instance_us: median_us("reused-instance")?,
    })
}
