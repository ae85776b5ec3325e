//! `meshctl dashboard`: serves the live view's web page on loopback until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::watch;

use crate::cli::{DashboardArgs, GlobalArgs};
use crate::commands::{mesh, signals};
use crate::liveview::server::{self, Feed};
use crate::liveview::{Sampler, SamplerOptions};
use crate::output::Output;

pub fn run(args: &DashboardArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    if !args.address.ip().is_loopback() {
        bail!(
            "--address {}: must be a loopback address (127.0.0.1 or ::1): the dashboard shows the mesh's topology and has no authentication",
            args.address
        );
    }
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.address)
            .await
            .with_context(|| format!("listen on {}", args.address))?;
        let addr = listener.local_addr().context("local address")?;
        let sampler = Sampler::new(
            admin,
            SamplerOptions {
                timeout: Duration::from_secs_f64(args.scrape_timeout),
                namespace: if g.all_namespaces {
                    None
                } else {
                    g.namespace.clone()
                },
            },
        );
        let (tx, rx) = watch::channel(Arc::new(Feed {
            interval_seconds: args.interval,
            ..Feed::default()
        }));
        tokio::spawn(server::feed(
            sampler,
            Duration::from_secs_f64(args.interval),
            tx,
        ));
        out.line(&format!("dashboard: http://{addr}/"))?;
        out.note("serving until Ctrl-C")?;
        server::serve(listener, rx, signals::terminated()).await;
        anyhow::Ok(())
    })
}
