//! `up --build` / `build`: runs each component's `[component.x.build]`
//! command from the manifest's directory, as `spin build` does.

use std::process::Command;

use anyhow::{Context, bail};

use mhmanus_manifest::LoadedManifest;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(dir: &std::path::Path, command: &str) -> LoadedManifest {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"b\"\n\
             [component.c]\nsource = \"c.wasm\"\n[component.c.build]\ncommand = \"{command}\"\n"
        );
        let path = dir.join("spin.toml");
        std::fs::write(&path, text).unwrap();
        LoadedManifest::load(&path).unwrap()
    }

    #[test]
    fn runs_build_commands_from_the_manifest_directory() {
        let dir = tempfile::tempdir().unwrap();
        build_all(&manifest(dir.path(), "touch built.marker")).unwrap();
        assert!(dir.path().join("built.marker").exists());
    }

    #[test]
    fn a_failing_build_names_the_component_and_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = build_all(&manifest(dir.path(), "exit 3"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("building component c failed") && err.contains("exit 3"),
            "{err}"
        );
    }
}
