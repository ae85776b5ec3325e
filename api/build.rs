//! Compiles the discovery protocol with protox (pure Rust), so no system `protoc`
//! is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/meshctl/discovery/v1/discovery.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Pushed payloads are shared buffers: one per distinct payload, not one
        // copy per proxy.
        .bytes(".meshctl.discovery.v1.Push.payload")
        .compile_fds(fds)?;
    Ok(())
}
