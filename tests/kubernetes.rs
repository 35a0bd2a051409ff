//! The Kubernetes manifests of `deploy/`, kept valid and true to the host
//! without a cluster: every native resource passes `kubernetes-validate
//! --strict` (the schemas it bundles, offline) for the oldest and the newest
//! Kubernetes we target; the SpinApp passes `deploy/spinkube/spinapp.schema.json`
//! (a subset of the SpinKube CRD) and names the manifest's variables; the
//! probes ask routes the host serves, on the port the image listens on; the
//! pod runs as the image's user on a read-only root with the host's
//! directories on volumes, and outlasts the host's shutdown grace.
//! `kubectl kustomize` renders the kustomization when a kubectl is on PATH.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mhmanus_tests::dockerfile::{Instruction, all, runtime_stage};
use mhmanus_tests::{InProcessHost, workspace_root};
use serde_yaml_ng::Value as Yaml;

/// Installed by `scripts/setup test` (pip `kubernetes-validate`, 1.37.0).
const KUBERNETES_VALIDATE: &str = "kubernetes-validate";
/// The oldest Kubernetes the manifests are for; the newest is the tool's default.
const OLDEST_KUBERNETES: &str = "1.30.0";

fn deploy() -> PathBuf {
    workspace_root().join("deploy")
}

fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every manifest under `deploy/`, by path, parsed.
fn manifests() -> BTreeMap<PathBuf, Yaml> {
    let mut found = BTreeMap::new();
    for dir in ["kubernetes", "spinkube"] {
        for entry in std::fs::read_dir(deploy().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "yaml") {
                let document = yaml(&path);
                found.insert(path, document);
            }
        }
    }
    found
}

fn kind(document: &Yaml) -> &str {
    document["kind"].as_str().unwrap_or_default()
}

/// The one manifest of `kind` in `deploy/kubernetes`.
fn native(kind_wanted: &str) -> Yaml {
    let mut matching: Vec<Yaml> = manifests()
        .into_iter()
        .filter(|(path, document)| {
            path.parent().unwrap().ends_with("kubernetes") && kind(document) == kind_wanted
        })
        .map(|(_, document)| document)
        .collect();
    assert_eq!(matching.len(), 1, "one {kind_wanted} in deploy/kubernetes");
    matching.pop().unwrap()
}

fn run(command: &mut Command) -> std::io::Result<Output> {
    command.current_dir(workspace_root()).output()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `kubernetes-validate --strict` over `files`: fails with its output when
/// one does not validate, or when it knows no schema for one (a mistyped
/// apiVersion or kind is only a warning to it, with exit status 0).
fn kubernetes_validate(files: &[PathBuf], version: Option<&str>) {
    let mut command = Command::new(KUBERNETES_VALIDATE);
    command.arg("--strict");
    if let Some(version) = version {
        command.args(["-k", version]);
    }
    let output = match run(command.args(files)) {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{KUBERNETES_VALIDATE} is not installed: run `scripts/setup test` \
             (it installs it from PyPI: python3 -m pip install kubernetes-validate)"
        ),
        Err(e) => panic!("cannot run {KUBERNETES_VALIDATE}: {e}"),
    };
    let report = text(&output);
    let passed = report
        .lines()
        .filter(|l| l.contains(" passed for "))
        .count();
    assert!(
        output.status.success()
            && !report.contains("ERROR")
            && !report.contains("WARN")
            && passed >= files.len(),
        "{KUBERNETES_VALIDATE} --strict {}: {}\n{report}",
        version.unwrap_or("(newest bundled)"),
        output.status
    );
}

#[test]
fn the_native_manifests_pass_kubernetes_validate_strict() {
    let files: Vec<PathBuf> = manifests()
        .into_iter()
        .filter(|(_, document)| !matches!(kind(document), "Kustomization" | "SpinApp"))
        .map(|(path, _)| path)
        .collect();
    for wanted in [
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Secret",
    ] {
        assert!(
            files.iter().any(|path| kind(&yaml(path)) == wanted),
            "no {wanted} in deploy/"
        );
    }
    kubernetes_validate(&files, Some(OLDEST_KUBERNETES));
    kubernetes_validate(&files, None);
}

/// The kustomization applies every resource of its directory but the
/// examples; rendered by kubectl (when there is one), it validates too.
#[test]
fn the_kustomization_lists_every_resource_but_the_examples() {
    let dir = deploy().join("kubernetes");
    let kustomization = yaml(&dir.join("kustomization.yaml"));
    assert_eq!(
        kustomization["apiVersion"].as_str(),
        Some("kustomize.config.k8s.io/v1beta1")
    );
    let listed: BTreeSet<String> = kustomization["resources"]
        .as_sequence()
        .expect("resources")
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| {
            name.ends_with(".yaml") && name != "kustomization.yaml" && !name.contains(".example.")
        })
        .collect();
    assert_eq!(listed, present);
    let image = native("Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned();
    let image_name = image
        .rsplit_once(':')
        .map_or(image.as_str(), |(name, _)| name);
    assert_eq!(
        kustomization["images"][0]["name"].as_str(),
        Some(image_name)
    );

    let rendered = match run(Command::new("kubectl").arg("kustomize").arg(&dir)) {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("no kubectl on PATH: `kubectl kustomize` skipped");
            return;
        }
        Err(e) => panic!("cannot run kubectl: {e}"),
    };
    assert!(
        rendered.status.success(),
        "kubectl kustomize: {}",
        text(&rendered)
    );
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("rendered.yaml");
    std::fs::write(&file, &rendered.stdout).unwrap();
    kubernetes_validate(&[file], Some(OLDEST_KUBERNETES));
}

/// `KEY=value` of the image's `ENV` instructions.
fn image_env(stage: &[Instruction]) -> BTreeMap<String, String> {
    all(stage, "ENV")
        .into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn port_of(listen: &str) -> i64 {
    listen.rsplit(':').next().unwrap().parse().unwrap()
}

/// The container's `env`, literal values only (`valueFrom` ones are `None`).
fn container_env(container: &Yaml) -> BTreeMap<String, Option<String>> {
    container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|var| {
            (
                var["name"].as_str().unwrap().to_owned(),
                var["value"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The port a probe or a targetPort names: a number, or a container port's name.
fn resolve_port(container: &Yaml, port: &Yaml) -> i64 {
    if let Some(number) = port.as_i64() {
        return number;
    }
    let name = port.as_str().expect("a port number or name");
    container["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no container port named {name}"))["containerPort"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_probes_ask_routes_the_host_serves_on_the_port_the_image_listens_on() {
    let deployment = native("Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let stage = runtime_stage();
    // The image's port: LISTEN's when it sets one, else PORT.
    let env = image_env(&stage);
    let image_listen = env.get("LISTEN").map_or_else(
        || env["PORT"].parse().expect("PORT in the image's ENV"),
        |listen| port_of(listen),
    );
    let exposed: Vec<i64> = all(&stage, "EXPOSE")
        .into_iter()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(exposed, [image_listen]);
    if let Some(Some(listen)) = container_env(container).get("LISTEN") {
        assert_eq!(port_of(listen), image_listen, "LISTEN={listen}");
    }
    let http = resolve_port(container, &Yaml::from("http"));
    assert_eq!(http, image_listen, "containerPort http");
    let service = native("Service");
    let service_http = service["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("http"))
        .expect("a Service port http");
    assert_eq!(resolve_port(container, &service_http["targetPort"]), http);

    let openapi = yaml(&workspace_root().join("openapi.yaml"));
    let mut paths = Vec::new();
    for (probe, path) in [
        ("livenessProbe", "/health/live"),
        ("readinessProbe", "/health/ready"),
        ("startupProbe", "/health/live"),
    ] {
        let get = &container[probe]["httpGet"];
        if probe == "startupProbe" && get.is_null() {
            continue;
        }
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert_eq!(
            resolve_port(container, &get["port"]),
            image_listen,
            "{probe}"
        );
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} is not in openapi.yaml"
        );
        paths.push(path);
    }

    let host = InProcessHost::start_repo(|config| {
        config.jwt_secret = Some("kubernetes-tests-secret-of-32-bytes!".into());
    })
    .await
    .unwrap();
    for path in paths {
        assert_eq!(host.probe(path).await, 200, "{path}");
    }
}

#[test]
fn the_pod_runs_locked_down_and_outlasts_the_hosts_shutdown_grace() {
    let deployment = native("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let stage = runtime_stage();
    let user = *all(&stage, "USER").last().expect("a USER");
    let uid: i64 = user.split(':').next().unwrap().parse().unwrap();

    for context in [&pod["securityContext"], &container["securityContext"]] {
        assert_eq!(context["runAsNonRoot"].as_bool(), Some(true));
        assert_eq!(context["runAsUser"].as_i64(), Some(uid));
        assert_eq!(
            context["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault")
        );
    }
    let context = &container["securityContext"];
    assert_eq!(context["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(context["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(
        context["capabilities"]["drop"],
        serde_yaml_ng::from_str::<Yaml>("[ALL]").unwrap()
    );
    for quantity in ["cpu", "memory"] {
        for bound in ["requests", "limits"] {
            assert!(
                !container["resources"][bound][quantity].is_null(),
                "no {bound}.{quantity}"
            );
        }
    }

    // The root is read-only: what the host writes is on a volume.
    let env = container_env(container);
    let mounts: BTreeSet<&str> = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    let data_dir = env["DATA_DIR"].clone().expect("DATA_DIR");
    assert_eq!(
        image_env(&stage)["DATA_DIR"],
        data_dir,
        "the image's DATA_DIR"
    );
    let cache_dir = match env.get("COMPILE_CACHE_DIR") {
        Some(dir) => dir.clone().expect("COMPILE_CACHE_DIR"),
        None => format!("{data_dir}/compiled"),
    };
    for dir in [&data_dir, &cache_dir, &"/tmp".to_owned()] {
        assert!(
            mounts
                .iter()
                .any(|m| Path::new(dir).starts_with(m.trim_end_matches('/'))),
            "{dir} is on no volume: {mounts:?}"
        );
    }

    // Production mode, secrets from the Secret only.
    assert_eq!(env["APP_ENV"].as_deref(), Some("production"));
    let secret = yaml(&deploy().join("kubernetes/secret.example.yaml"));
    let secret_name = secret["metadata"]["name"].as_str().unwrap();
    for var in container["env"].as_sequence().unwrap() {
        let name = var["name"].as_str().unwrap();
        let reference = &var["valueFrom"]["secretKeyRef"];
        if ["JWT_SECRET", "DATABASE_URL", "REDIS_URL", "ADMIN_PASSWORD"].contains(&name) {
            assert!(var["value"].is_null(), "{name} is written in the manifest");
            assert_eq!(reference["name"].as_str(), Some(secret_name), "{name}");
        }
        if let Some(key) = reference["key"].as_str()
            && reference["optional"].as_bool() != Some(true)
        {
            assert!(
                !secret["stringData"][key].is_null(),
                "{key} is not in secret.example.yaml"
            );
        }
    }

    // The pause: the image (Debian slim) has a `sleep`, or the kubelet sleeps.
    let pre_stop = &container["lifecycle"]["preStop"];
    let pause: i64 = if let Some(command) = pre_stop["exec"]["command"].as_sequence() {
        assert_eq!(command[0].as_str(), Some("sleep"));
        let base = all(&stage, "FROM")[0];
        assert!(
            base.starts_with("debian:"),
            "sleep may not be in the image: {base}"
        );
        command[1].as_str().unwrap().parse().unwrap()
    } else {
        pre_stop["sleep"]["seconds"]
            .as_i64()
            .expect("a preStop pause")
    };
    assert!(pause > 0);
    let grace = match env.get("SHUTDOWN_GRACE_SECS") {
        Some(value) => value.as_deref().unwrap().parse().unwrap(),
        None => {
            mhmanus_host::HostConfig::defaults("spin.toml", "data")
                .server
                .shutdown_grace_secs as i64
        }
    };
    let termination = pod["terminationGracePeriodSeconds"].as_i64().unwrap();
    assert!(
        termination > pause + grace,
        "terminationGracePeriodSeconds {termination} <= preStop {pause} + grace {grace}"
    );

    // The Service, the budget and the autoscaler are about these pods.
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert!(labels.is_mapping(), "pod labels");
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(&native("Service")["spec"]["selector"], labels);
    assert_eq!(
        &native("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        labels
    );
    let hpa = native("HorizontalPodAutoscaler");
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["kind"].as_str(), Some("Deployment"));
    assert_eq!(target["name"], deployment["metadata"]["name"]);
    assert!(hpa["spec"]["minReplicas"].as_i64().unwrap() >= 2);
    assert!(
        deployment["spec"]["replicas"].is_null(),
        "the HPA owns the replica count"
    );
}

/// The SpinApp fits the schema (a subset of the SpinKube CRD), sets only the
/// manifest's variables and every required one, probes the health routes
/// and loads a runtime config naming the manifest's stores.
#[test]
fn the_spinapp_fits_the_spinkube_schema_and_the_manifest() {
    let dir = deploy().join("spinkube");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spinapp.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("spinapp.schema.json is a schema");
    let app = yaml(&dir.join("spinapp.yaml"));
    let instance = serde_json::to_value(&app).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "spinapp.yaml:\n{}", errors.join("\n"));

    let manifest: toml::Table = std::fs::read_to_string(workspace_root().join("spin.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let declared = manifest["variables"].as_table().unwrap();
    let spec = &app["spec"];
    let set: BTreeSet<&str> = spec["variables"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for name in &set {
        assert!(
            declared.contains_key(*name),
            "{name} is not a spin.toml variable"
        );
    }
    for (name, variable) in declared {
        if variable.get("required").and_then(toml::Value::as_bool) == Some(true) {
            assert!(set.contains(name.as_str()), "required {name} is not set");
        }
    }
    let app_env = spec["variables"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str() == Some("app_env"))
        .expect("app_env");
    assert_eq!(app_env["value"].as_str(), Some("production"));

    let openapi = yaml(&workspace_root().join("openapi.yaml"));
    for (check, path) in [("liveness", "/health/live"), ("readiness", "/health/ready")] {
        assert_eq!(
            spec["checks"][check]["httpGet"]["path"].as_str(),
            Some(path)
        );
        assert!(openapi["paths"].get(path).is_some(), "{path}");
    }

    let runtime_secret = yaml(&dir.join("runtime-config.secret.example.yaml"));
    assert_eq!(
        spec["runtimeConfig"]["loadFromSecret"],
        runtime_secret["metadata"]["name"]
    );
    let runtime_config: toml::Table = runtime_secret["stringData"]["runtime-config.toml"]
        .as_str()
        .expect("the key the operator mounts: runtime-config.toml")
        .parse()
        .unwrap();
    let stores: BTreeSet<&str> = manifest["component"]
        .as_table()
        .unwrap()
        .values()
        .filter_map(|c| c.get("key_value_stores")?.as_array())
        .flatten()
        .map(|label| label.as_str().unwrap())
        .collect();
    for label in runtime_config["key_value_store"].as_table().unwrap().keys() {
        assert!(stores.contains(label.as_str()), "store {label}");
    }
}
