//! `up --build` / `build`: runs each component's `[component.x.build]`
//! command from the manifest's directory, as `spin build` does.

use std::process::Command;

use anyhow::{Context, bail};

use crate::manifest::LoadedManifest;

pub fn build_all(loaded: &LoadedManifest) -> anyhow::Result<()> {
    for (id, component) in &loaded.manifest.component {
        let Some(build) = &component.build else {
            tracing::info!(component = %id, "no build command; using the .wasm as it is");
            continue;
        };
        let workdir = match &build.workdir {
            Some(dir) => loaded.base_dir.join(dir),
            None => loaded.base_dir.clone(),
        };
        tracing::info!(component = %id, command = %build.command, "building");
        let status = Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&workdir)
            .status()
            .with_context(|| format!("cannot run the build command of component {id}"))?;
        if !status.success() {
            bail!(
                "building component {id} failed ({status}): {}",
                build.command
            );
        }
    }
    Ok(())
}
