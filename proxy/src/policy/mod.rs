//! Per-route policies at run time: retries, fault injection, CORS, header
//! operations.

pub(crate) mod cors;
pub(crate) mod fault;
pub(crate) mod headers;
pub(crate) mod retry;

/// True for `percent` percent of calls (0 to 100).
pub(crate) fn chance(percent: f64) -> bool {
    if percent >= 100.0 {
        return true;
    }
    if percent <= 0.0 {
        return false;
    }
    let u = (crate::balance::next_random() >> 11) as f64 / (1u64 << 53) as f64;
    u * 100.0 < percent
}
