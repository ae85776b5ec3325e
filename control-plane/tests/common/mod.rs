//! What the control plane's integration tests share: a real control plane on
//! loopback ports in a temporary mesh home.
#![allow(dead_code)]

use std::time::Duration;

use mesh_control_plane::ca::CaSettings;
use mesh_control_plane::server::{self, ServerOptions, StateFile};

/// Starts a control plane in `home` with the default CA settings; returns its
/// state file and a sender that stops it.
pub async fn start(home: &std::path::Path) -> (StateFile, tokio::sync::oneshot::Sender<()>) {
    start_with(home, CaSettings::default()).await
}

/// [`start`] with these CA settings.
pub async fn start_with(
    home: &std::path::Path,
    ca: CaSettings,
) -> (StateFile, tokio::sync::oneshot::Sender<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let opts = ServerOptions {
        home: home.to_owned(),
        discovery: "127.0.0.1:0".parse().expect("addr"),
        admin: "127.0.0.1:0".parse().expect("addr"),
        ca,
        scrape_targets: None,
        mesh_config: Default::default(),
    };
    tokio::spawn(server::run(opts, async move {
        let _ = stopped.await;
    }));
    for _ in 0..200 {
        if let Some(s) = StateFile::read(home) {
            return (s, stop);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("control plane did not write its state file");
}
