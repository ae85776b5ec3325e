//! Optional companions `meshctl install` can start beside the control plane
//! (`--set addons.NAME=true`) and `meshctl uninstall` stops.

pub mod prometheus;
