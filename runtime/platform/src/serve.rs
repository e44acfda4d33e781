//! `etr serve`: the HTTP API, the landing-folder (and bucket) watchers and the workers, in one process, until
//! asked to stop.
//!
//! Stopping is graceful: the listener stops taking connections and finishes the requests it has,
//! the watcher stops between polls, and each worker finishes the run it holds before it returns; a
//! run is never left half done by a stop (a kill is what leases are for).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::platform::Platform;

/// How `etr serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Worker loops taking runs from the ledger.
    pub workers: usize,
    /// How often the landing folder is polled.
    pub poll_interval: Duration,
    /// How long an idle worker waits before asking the ledger again.
    pub idle_wait: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { workers: 1, poll_interval: Duration::from_secs(1), idle_wait: Duration::from_millis(500) }
    }
}

/// Serves with the default options until `shutdown` completes.
pub async fn serve(
    platform: Arc<Platform>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(platform, ServeOptions::default(), shutdown).await
}

/// Binds `http.listen`, then serves HTTP, watches the landing folder and runs `options.workers`
/// workers until `shutdown` completes; returns when all of them have stopped. The address it
/// listens on is logged (`listening on http://...`), the port a system-chosen one when the
/// workspace says port 0.
pub async fn serve_with(
    platform: Arc<Platform>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(platform.workspace.http.listen).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen on {}: {e}", platform.workspace.http.listen))
    })?;
    let address: SocketAddr = listener.local_addr()?;
    let bucket_watcher = match &platform.workspace.landing_bucket {
        Some(bucket) => Some(
            crate::bucket::BucketWatcher::new(platform.clone(), bucket)
                .map_err(|e| std::io::Error::other(format!("the landing bucket {}: {e}", bucket.bucket)))?,
        ),
        None => None,
    };
    eprintln!("etr serve: listening on http://{address}");
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();

    let http_stop = stop.clone();
    let app = crate::http::router(platform.clone());
    tasks.spawn(async move {
        let mut http_stop = http_stop;
        let stopped = async move {
            let _ = http_stop.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
            eprintln!("etr serve: the HTTP server: {error}");
        }
    });
    tasks.spawn(crate::watch::run(platform.clone(), options.poll_interval, stop.clone()));
    if let Some(watcher) = bucket_watcher {
        tasks.spawn(crate::bucket::run(watcher, options.poll_interval, stop.clone()));
    }
    for n in 1..=options.workers.max(1) {
        let worker = format!("{}-{}-w{n}", hostname(), std::process::id());
        tasks.spawn(work(platform.clone(), worker, options.idle_wait, stop.clone()));
    }

    shutdown.await;
    eprintln!("etr serve: stopping: finishing the runs in hand");
    let _ = stop_sender.send(true);
    while let Some(done) = tasks.join_next().await {
        if let Err(error) = done {
            eprintln!("etr serve: a task ended abnormally: {error}");
        }
    }
    eprintln!("etr serve: stopped");
    Ok(())
}

/// One worker: takes runs until told to stop, checking between runs only.
async fn work(
    platform: Arc<Platform>,
    worker: String,
    idle_wait: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    while !*stop.borrow() {
        let wait = match platform.work_one(&worker).await {
            Ok(Some(done)) => {
                let run = platform.ledger.get(done.run).await.ok();
                let counts = run
                    .and_then(|r| r.outcome)
                    .map(|o| format!(" ({} lines, {} accepted, {} rejected)", o.lines, o.accepted, o.rejected))
                    .unwrap_or_default();
                let detail = done.detail.map(|d| format!(": {d}")).unwrap_or_default();
                eprintln!("etr serve: {} {}{counts}{detail}", done.run, done.state);
                continue;
            }
            Ok(None) => idle_wait,
            Err(error) => {
                // The ledger or the lake is unreachable: wait longer before asking again.
                eprintln!("etr serve: worker {worker}: {error}");
                idle_wait * 10
            }
        };
        if !pause(wait, &mut stop).await {
            break;
        }
    }
}

/// Waits `wait`, or less when `stop` changes; `false` when its sender is gone, which stops a loop
/// as a `true` would.
pub(crate) async fn pause(wait: Duration, stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        changed = stop.changed() => changed.is_ok(),
    }
}

/// The machine's name, for worker names in the ledger (several `etr serve` may share one).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "etr".to_owned())
}

/// Completes at the first SIGINT or SIGTERM (what Ctrl-C and service managers send). If the
/// signals cannot be listened for, it never completes: the process is then stopped by a kill,
/// which leases make safe, rather than stopped at once.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
