//! `Components`: the served components loaded, each behind its admission,
//! and a request's way to its component.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use http_body_util::BodyExt;
use mhmanus_contract::problem::Problem;
use mhmanus_edge_layers::until_body_end;
use mhmanus_manifest::{HttpTrigger, LoadedManifest, RouteMatch, Routes};
use mhmanus_spin_host::ComponentServices;
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError, ProxyHandler};

use crate::composition;
use crate::config::RuntimeConfig;
use crate::engine::EPOCH_TICK;
use crate::instances::{ComponentInstances, InstancePolicy};
use crate::pools::{Pools, Prepared};
use crate::request;
use crate::responses::{no_route, problem_response};

/// Which WASI HTTP generation a component exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// `wasi:http/handler@0.3.x`, what spin-sdk 7 builds; instances are reused.
    P3,
    /// `wasi:http/incoming-handler@0.2.x`, Spin 2/3-era components; one instance per request.
    P2,
}

struct LoadedComponent {
    handler: ProxyHandler<ComponentInstances>,
    generation: Generation,
    /// Admission, first come first served: `ProxyHandler` starts an
    /// instance for every request that finds the others busy, which for
    /// CPU-bound guests is one per request, all sharing the CPU. A place is
    /// held until the answer's body ends: the guest writes it meanwhile.
    admission: Arc<tokio::sync::Semaphore>,
}

pub struct Components {
    routes: Arc<Routes>,
    components: HashMap<String, LoadedComponent>,
    policy: InstancePolicy,
    draining: AtomicBool,
}

impl Components {
    /// Compiles and links every served component of the manifest, each
    /// reaching what its `services` entry holds; each failure is one
    /// readable error.
    pub async fn start(
        loaded: &LoadedManifest,
        services: &BTreeMap<String, Arc<ComponentServices>>,
        config: &RuntimeConfig,
        cache_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let policy = InstancePolicy {
            max_reuse: config.max_instance_reuse_count.max(1),
            max_concurrent: config.max_instance_concurrent_reuse_count.max(1),
            idle_timeout: config.idle_instance_timeout(),
            request_timeout: config.request_timeout(),
            memory_bytes: config.instance_memory_mib << 20,
        };
        let mut pools = Pools::new(policy.memory_bytes)?;
        let mut components = HashMap::new();
        for (id, trigger) in loaded.manifest.served_handlers() {
            let wasm = handler_wasm(loaded, trigger)?;
            let Prepared {
                pre,
                generation,
                engine,
            } = pools.prepare(&id, &wasm, cache_dir)?;
            tracing::info!(component = %id, ?generation, "component ready");
            let handler = ProxyHandler::new(ComponentInstances {
                engine,
                pre,
                // A middleware uses what its trigger's component may use.
                services: services
                    .get(&trigger.component)
                    .with_context(|| {
                        format!(
                            "component {}: no services were given for it",
                            trigger.component
                        )
                    })?
                    .clone(),
                policy,
            });
            components.insert(
                id,
                LoadedComponent {
                    handler,
                    generation,
                    admission: Arc::new(tokio::sync::Semaphore::new(
                        config.max_component_concurrency.max(1),
                    )),
                },
            );
        }
        Ok(Components {
            routes: Arc::new(loaded.routes.clone()),
            components,
            policy,
            draining: AtomicBool::new(false),
        })
    }

    /// Marks the host as shutting down: readiness fails from now on,
    /// while requests already taken are still served.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Lets idle instances retire before the process ends, so their stores
    /// are dropped in order rather than torn down with the executor.
    pub async fn shutdown(self) {
        let linger = self.policy.idle_timeout + EPOCH_TICK * 10;
        drop(self.components);
        tokio::time::sleep(linger).await;
    }

    pub fn generation(&self, component: &str) -> Option<Generation> {
        self.components.get(component).map(|c| c.generation)
    }

    pub fn component_ids(&self) -> impl Iterator<Item = &str> {
        self.components.keys().map(String::as_str)
    }

    /// The manifest's routes, shared with the edge layers that need them.
    pub fn routes(&self) -> Arc<Routes> {
        self.routes.clone()
    }

    /// `handle` for a caller that has not resolved the route (an embedder
    /// without the edge layers, a benchmark): a path no route serves is a 404.
    pub async fn route_and_handle(
        &self,
        request: http::Request<WasiBody>,
        client: SocketAddr,
    ) -> http::Response<WasiBody> {
        match self.routes.find(request.uri().path()) {
            Some(route) => self.handle(request, &route, client).await,
            None => no_route(request.uri().path()),
        }
    }

    /// Hands a request to the component of its `route` (resolved once, by
    /// the caller); a guest fault or a timeout becomes a problem response
    /// and never affects other requests.
    pub async fn handle(
        &self,
        mut request: http::Request<WasiBody>,
        route: &RouteMatch,
        client: SocketAddr,
    ) -> http::Response<WasiBody> {
        let path = request.uri().path().to_owned();
        let Some(component) = self.components.get(&*route.handler) else {
            return problem_response(Problem::new(404).instance(path));
        };
        request::prepare(&mut request, route, client);
        // One deadline for admission and handling together: a request is
        // answered within the request timeout, however long it queued.
        let arrived = tokio::time::Instant::now();
        let deadline = arrived + self.policy.request_timeout;
        let admitted =
            tokio::time::timeout_at(deadline, component.admission.clone().acquire_owned()).await;
        let span = tracing::Span::current();
        let admitted_at = tokio::time::Instant::now();
        span.record("admission_wait_us", micros(admitted_at - arrived));
        let Ok(Ok(place)) = admitted else {
            tracing::warn!(
                component = &*route.component,
                "no room in the component within the request timeout"
            );
            let mut busy = problem_response(
                Problem::new(503)
                    .detail("the service is busy; try again")
                    .instance(path),
            );
            busy.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
            return busy;
        };
        let handled = component.handler.handle(deadline, request).await;
        // To the response's head: a streamed body's time is the request's.
        span.record("guest_us", micros(admitted_at.elapsed()));
        match handled {
            Ok(response) => until_body_end::hold(response, place).map(BodyExt::boxed_unsync),
            Err(error) => {
                let timed_out = error.downcast_ref::<ExpirationError>().is_some()
                    || tokio::time::Instant::now() >= deadline;
                tracing::error!(component = &*route.component, error = ?error, timed_out, "component failed");
                let instantiation = error
                    .downcast_ref::<InstantiationError<tokio::time::Instant>>()
                    .is_some();
                let kind = match (timed_out, instantiation) {
                    (true, _) => "timeout",
                    (false, true) => "instantiation",
                    (false, false) => "trap",
                };
                metrics::counter!("wasm_failures_total", "component" => route.component.to_string(), "kind" => kind)
                    .increment(1);
                let problem = if timed_out {
                    Problem::new(504).detail(format!(
                        "the component did not answer within {} s",
                        self.policy.request_timeout.as_secs()
                    ))
                } else if instantiation {
                    Problem::new(503).detail("the component could not be started; try again")
                } else {
                    Problem::new(500).detail("the component failed while handling the request")
                };
                problem_response(problem.instance(path))
            }
        }
    }
}

/// The bytes that serve `trigger`: its component's, composed behind its
/// middleware when it has some this host does not serve natively.
fn handler_wasm(loaded: &LoadedManifest, trigger: &HttpTrigger) -> anyhow::Result<Vec<u8>> {
    let component = read_wasm(loaded, &trigger.component)?;
    let layers = loaded
        .manifest
        .composed_middleware(trigger)
        .map(|entry| {
            Ok(composition::Layer {
                entry,
                wasm: read_wasm(loaded, entry.id())?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if layers.is_empty() {
        return Ok(component);
    }
    composition::compose(component, layers).with_context(|| {
        format!(
            "route {}: component {} cannot be composed behind its middleware",
            trigger.route, trigger.component
        )
    })
}

fn read_wasm(loaded: &LoadedManifest, id: &str) -> anyhow::Result<Vec<u8>> {
    let wasm = loaded.source_path(&loaded.manifest.component[id]);
    std::fs::read(&wasm).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!(
            "component {id}: {} does not exist; build it first (mhmanus-host up --build)",
            wasm.display()
        ),
        _ => anyhow::anyhow!("component {id}: cannot read {}: {e}", wasm.display()),
    })
}

/// Whole microseconds, as a signed integer: what OpenTelemetry attributes hold.
fn micros(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
