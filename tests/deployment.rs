//! How the service ships, kept honest without Docker or Spin: what the image
//! copies is what the build produces, every component of spin.toml is built
//! and shipped, the image runs the host as a non-root user in production
//! mode, its healthcheck asks a route the host serves; compose waits for
//! healthy dependencies and takes its secrets from the environment; the Spin
//! runtime-config examples fit the manifest; the GitHub workflow runs the
//! same `.ci/run` and passes actionlint. (`scripts/test` also runs hadolint
//! on the Dockerfile.)

use std::collections::BTreeSet;

use mhmanus_manifest::LoadedManifest;
use mhmanus_tests::dockerfile::{Instruction, all, runtime_stage, stages};
use mhmanus_tests::{InProcessHost, workspace_root};
use serde_yaml_ng::Value as Yaml;

fn stage(name: &str) -> Vec<Instruction> {
    stages()
        .into_iter()
        .find(|(stage, _)| stage == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
        .1
}

/// The `.wasm` each component the host serves is loaded from, with its
/// crate (the image runs the host, which does the work of the components
/// marked native itself).
fn manifest_components() -> Vec<(String, String)> {
    let loaded = LoadedManifest::load(&workspace_root().join("spin.toml")).unwrap();
    loaded
        .manifest
        .served_components()
        .values()
        .map(|component| {
            let source = component.source.display().to_string();
            let file = source.rsplit('/').next().unwrap();
            let krate = file.trim_end_matches(".wasm").replace('_', "-");
            (source, krate)
        })
        .collect()
}

/// The sources of the shipping stage's `COPY --from=build`, relative to /src.
fn copied_from_build() -> BTreeSet<String> {
    all(&runtime_stage(), "COPY")
        .into_iter()
        .filter_map(|args| args.strip_prefix("--from=build "))
        .flat_map(|args| {
            let parts: Vec<&str> = args.split(' ').collect();
            parts[..parts.len() - 1]
                .iter()
                .map(|source| source.trim_start_matches("/src/").to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_component_of_the_manifest_is_built_and_shipped() {
    let built = all(&stage("build"), "RUN").join(" ");
    let copied = copied_from_build();
    for (source, krate) in manifest_components() {
        assert!(
            copied.contains(&source),
            "{source} is not copied into the image"
        );
        assert!(
            built.contains(&format!("-p {krate}")),
            "{krate} is not built for wasm32-wasip2: {built}"
        );
        // Built by the README's test command, so the path is the real one.
        assert!(
            workspace_root().join(&source).exists(),
            "{source} was not built"
        );
    }
}

#[test]
fn the_image_runs_the_binary_the_build_produces() {
    let host_manifest: toml::Table =
        std::fs::read_to_string(workspace_root().join("host/Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let binary = host_manifest["bin"][0]["name"].as_str().unwrap();
    let built = all(&stage("build"), "RUN").join(" ");
    assert!(
        built.contains("cargo build --release -p mhmanus-host"),
        "{built}"
    );
    assert!(copied_from_build().contains(&format!("target/release/{binary}")));

    let runtime = runtime_stage();
    let entrypoint: Vec<String> =
        serde_json::from_str(all(&runtime, "ENTRYPOINT").last().unwrap()).unwrap();
    assert_eq!(entrypoint.last().unwrap(), binary, "{entrypoint:?}");
    assert_eq!(entrypoint[0], "tini", "a PID 1 that forwards SIGTERM");
    let cmd: Vec<String> = serde_json::from_str(all(&runtime, "CMD").last().unwrap()).unwrap();
    assert_eq!(cmd, ["up"]);
    // spin.toml names the .wasm files relative to the working directory.
    assert_eq!(all(&runtime, "WORKDIR").last(), Some(&"/app"));
    let from_context: Vec<&str> = all(&runtime, "COPY")
        .into_iter()
        .filter(|args| !args.starts_with("--from="))
        .flat_map(|args| {
            let parts: Vec<&str> = args.split(' ').collect();
            parts[..parts.len() - 1].to_vec()
        })
        .collect();
    assert_eq!(from_context, ["spin.toml", "openapi.yaml"]);
    for file in from_context {
        assert!(
            workspace_root().join(file).exists(),
            "{file} is not in the repository"
        );
    }
}

#[test]
fn the_image_is_non_root_in_production_mode_with_no_secrets() {
    let runtime = runtime_stage();
    let user = all(&runtime, "USER").last().copied().expect("a USER");
    let uid = user.split(':').next().unwrap();
    assert!(uid != "root" && uid != "0", "runs as {user}");
    let env = all(&runtime, "ENV").join(" ");
    assert!(env.contains("APP_ENV=production"), "{env}");
    assert!(env.contains("BIND_ADDRESS=0.0.0.0"), "{env}");
    let port = env
        .split(' ')
        .find_map(|pair| pair.strip_prefix("PORT="))
        .expect("PORT in ENV");
    assert_eq!(all(&runtime, "EXPOSE"), [port]);
    for (_, instructions) in stages() {
        for keyword in ["ENV", "ARG"] {
            for args in all(&instructions, keyword) {
                let upper = args.to_ascii_uppercase();
                assert!(
                    !upper.contains("SECRET") && !upper.contains("PASSWORD"),
                    "a secret baked in: {keyword} {args}"
                );
            }
        }
    }
    let ignore = std::fs::read_to_string(workspace_root().join(".dockerignore")).unwrap();
    for excluded in ["target/", ".env", ".git/"] {
        assert!(
            ignore.lines().any(|l| l == excluded),
            "{excluded} not ignored"
        );
    }
}

/// The path a healthcheck command asks for on the host.
fn health_path(command: &str) -> String {
    let url = command
        .split_whitespace()
        .find_map(|word| word.split_once("http://"))
        .unwrap_or_else(|| panic!("no URL in {command}"));
    let after_scheme = url.1;
    after_scheme[after_scheme.find('/').unwrap()..]
        .trim_end_matches(['"', '\''])
        .to_owned()
}

#[tokio::test]
async fn the_healthchecks_ask_routes_the_host_serves() {
    let compose = compose();
    let compose_check = compose["services"]["host"]["healthcheck"]["test"][1]
        .as_str()
        .unwrap()
        .to_owned();
    let image_check = all(&runtime_stage(), "HEALTHCHECK")[0].to_owned();
    let host = InProcessHost::start_repo(|config| {
        config.jwt_secret = Some("dockerfile-tests-secret-of-32-bytes!".into());
    })
    .await
    .unwrap();
    for command in [image_check, compose_check] {
        let path = health_path(&command);
        assert_eq!(host.probe(&path).await, 200, "{path} from {command}");
    }
}

/// The image's HEALTHCHECK, run by `sh` as Docker runs it, against a host
/// on the port `LISTEN` or `PORT` gives: healthy either way, and unhealthy
/// when nothing serves there.
#[test]
fn the_image_healthcheck_asks_the_port_the_host_serves() {
    let healthcheck = all(&runtime_stage(), "HEALTHCHECK")[0].to_owned();
    let (_, command) = healthcheck
        .split_once(" CMD ")
        .expect("HEALTHCHECK ... CMD");
    let host = mhmanus_tests::spawn_app(&[]);
    let port = host.base_url.rsplit(':').next().unwrap().to_owned();
    let healthy = |env: &[(&str, &str)]| {
        std::process::Command::new("sh")
            .args(["-c", command])
            .env_remove("LISTEN")
            .env_remove("PORT")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("sh and curl run")
            .success()
    };
    let listen = format!("127.0.0.1:{port}");
    assert!(
        healthy(&[("LISTEN", &listen), ("PORT", "1")]),
        "LISTEN wins"
    );
    assert!(healthy(&[("PORT", &port)]), "PORT alone");
    assert!(!healthy(&[("PORT", "1")]), "nothing serves port 1");
}

fn compose() -> Yaml {
    let text = std::fs::read_to_string(workspace_root().join("docker-compose.yml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// A real Compose implementation reads the file: Debian's docker-compose
/// (v1, 1.29), the strictest one a user may have, accepts it with both
/// secrets set and refuses it, naming the first, without them.
#[test]
fn docker_compose_accepts_the_file_and_asks_for_its_secrets() {
    // An empty env file: a developer's .env must not answer for the
    // environment.
    let no_env_file = tempfile::NamedTempFile::new().unwrap();
    let config = |env: &[(&str, &str)]| {
        std::process::Command::new("docker-compose")
            .args(["--project-directory", "."])
            .arg("--env-file")
            .arg(no_env_file.path())
            .args(["-f", "docker-compose.yml", "config", "-q"])
            .current_dir(workspace_root())
            .env_remove("JWT_SECRET")
            .env_remove("POSTGRES_PASSWORD")
            .envs(env.iter().copied())
            .output()
            .expect("docker-compose is installed (scripts/setup test installs it)")
    };
    let accepted = config(&[("JWT_SECRET", "x"), ("POSTGRES_PASSWORD", "y")]);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let refused = config(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("set JWT_SECRET in .env"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn compose_waits_for_healthy_dependencies_and_takes_secrets_from_the_environment() {
    let compose = compose();
    let services = &compose["services"];
    for name in ["host", "postgres", "redis"] {
        assert!(
            services[name]["healthcheck"]["test"].is_sequence(),
            "{name} has no healthcheck"
        );
    }
    let host = &services["host"];
    for dependency in ["postgres", "redis"] {
        assert_eq!(
            host["depends_on"][dependency]["condition"].as_str(),
            Some("service_healthy"),
            "the host must wait for a healthy {dependency}"
        );
    }
    assert_eq!(host["build"].as_str(), Some("."));
    let env = &host["environment"];
    assert_eq!(env["APP_ENV"].as_str(), Some("production"));
    assert!(
        env["JWT_SECRET"]
            .as_str()
            .unwrap()
            .starts_with("${JWT_SECRET:?"),
        "the secret must come from the environment, and be required"
    );
    assert!(
        env["DATABASE_URL"]
            .as_str()
            .unwrap()
            .contains("${POSTGRES_PASSWORD:?")
    );
    assert!(
        services["postgres"]["environment"]["POSTGRES_PASSWORD"]
            .as_str()
            .unwrap()
            .starts_with("${POSTGRES_PASSWORD:?")
    );
    // PostgreSQL's data lives in a named volume, declared at the top level.
    let mount = services["postgres"]["volumes"][0].as_str().unwrap();
    let (volume, path) = mount.split_once(':').unwrap();
    assert_eq!(path, "/var/lib/postgresql/data");
    assert!(
        compose["volumes"].get(volume).is_some(),
        "{volume} is not a named volume"
    );
    // Docker waits longer than the host's own grace period before SIGKILL.
    let grace = host["stop_grace_period"].as_str().unwrap();
    let grace: u64 = grace.trim_end_matches('s').parse().unwrap();
    assert!(grace > 30, "stop_grace_period {grace}s");
}

/// The Spin runtime-config examples name the stores and databases the
/// manifest's components use, so `spin up --runtime-config-file` takes them.
#[test]
fn the_spin_runtime_config_examples_fit_the_manifest() {
    let manifest: toml::Table = std::fs::read_to_string(workspace_root().join("spin.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let declared = |key: &str| -> BTreeSet<String> {
        manifest["component"]
            .as_table()
            .unwrap()
            .values()
            .filter_map(|component| component.get(key)?.as_array().cloned())
            .flatten()
            .map(|label| label.as_str().unwrap().to_owned())
            .collect()
    };
    let example = |name: &str| -> toml::Table {
        std::fs::read_to_string(workspace_root().join("runtime-config").join(name))
            .unwrap()
            .parse()
            .unwrap()
    };
    let kv = example("redis-key-value.toml");
    for (label, store) in kv["key_value_store"].as_table().unwrap() {
        assert!(declared("key_value_stores").contains(label), "{label}");
        assert_eq!(store["type"].as_str(), Some("redis"));
    }
    let sqlite = example("sqlite-file.toml");
    for (label, database) in sqlite["sqlite_database"].as_table().unwrap() {
        assert!(declared("sqlite_databases").contains(label), "{label}");
        assert!(database["path"].as_str().unwrap().ends_with(".db"));
    }
    let postgres = example("postgres-variables.toml");
    let provider = &postgres["variables_provider"][0];
    assert_eq!(provider["type"].as_str(), Some("env"));
    assert_eq!(provider["prefix"].as_str(), Some("SPIN_VARIABLE"));
    let variables = manifest["variables"].as_table().unwrap();
    for name in ["database_url", "jwt_secret", "redis_url", "admin_password"] {
        assert!(
            variables.contains_key(name),
            "{name} is not a manifest variable"
        );
    }
}

/// The GitHub pipeline runs `.ci/run`, as the project's own CI does, and no
/// other step builds or tests, so the two cannot drift; on a version tag it
/// pushes the Dockerfile's image with an SBOM; actionlint accepts it.
#[test]
fn the_github_workflow_runs_ci_run_and_actionlint_accepts_it() {
    let path = workspace_root().join(".github/workflows/ci.yml");
    let workflow: Yaml = serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let jobs = workflow["jobs"].as_mapping().unwrap();
    let steps = |job: &str| {
        workflow["jobs"][job]["steps"]
            .as_sequence()
            .unwrap()
            .clone()
    };
    let runs: Vec<String> = jobs
        .keys()
        .flat_map(|job| steps(job.as_str().unwrap()))
        .filter_map(|step| step["run"].as_str().map(str::to_owned))
        .collect();
    assert!(
        steps("test").iter().any(|step| step["run"] == ".ci/run"),
        "the test job runs .ci/run"
    );
    for run in &runs {
        assert!(
            run == ".ci/run" || !(run.contains("cargo") || run.contains("scripts/")),
            "only .ci/run builds and tests: {run}"
        );
    }
    let image = &workflow["jobs"]["image"];
    assert_eq!(image["needs"], "test");
    assert!(image["if"].as_str().unwrap().contains("refs/tags/v"));
    let push = steps("image")
        .into_iter()
        .find(|step| {
            step["uses"]
                .as_str()
                .is_some_and(|uses| uses.starts_with("docker/build-push-action@"))
        })
        .expect("the image job builds with docker/build-push-action");
    assert_eq!(push["with"]["context"], ".", "the repository's Dockerfile");
    assert_eq!(push["with"]["push"], true);
    assert_eq!(push["with"]["sbom"], true);

    let lint = std::process::Command::new(workspace_root().join("scripts/actionlint"))
        .arg(&path)
        .output()
        .expect("scripts/actionlint runs (scripts/setup test installs actionlint)");
    assert!(
        lint.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}
