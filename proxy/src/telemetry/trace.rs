//! Trace context: reading W3C (`traceparent`, `tracestate`) and B3 (`x-b3-*`,
//! single `b3`) headers, the sampling decision, and writing the context of
//! this proxy's span into the request it forwards, so that the next hop's span
//! is its child. `x-request-id` is generated (UUID v4) when absent.
//!
//! Each sidecar makes one span per request: the client sidecar (outbound) a
//! client span whose parent is what the app sent, the server sidecar
//! (inbound) a server span whose parent is the client span. The headers are
//! rewritten in the formats the request came with; a new trace gets both W3C
//! and B3 multi-header, so apps that forward either continue it.

use http::{HeaderMap, HeaderName, HeaderValue};
use ring::rand::{SecureRandom, SystemRandom};

/// `x-request-id`, kept across hops.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: &str = "traceparent";
const B3: &str = "b3";
const B3_TRACE: &str = "x-b3-traceid";
const B3_SPAN: &str = "x-b3-spanid";
const B3_PARENT: &str = "x-b3-parentspanid";
const B3_SAMPLED: &str = "x-b3-sampled";
const B3_FLAGS: &str = "x-b3-flags";

/// Bytes drawn from the system generator per refill: one `getrandom` serves
/// many request and trace ids instead of one per request.
const POOL: usize = 512;

thread_local! {
    static POOLED: std::cell::RefCell<([u8; POOL], usize)> =
        const { std::cell::RefCell::new(([0; POOL], POOL)) };
}

/// Fills `out` from this thread's pool of system randomness (ring's generator),
/// refilling it when spent; `false` if the system generator failed.
fn fill(out: &mut [u8]) -> bool {
    POOLED.with(|p| {
        let (buf, used) = &mut *p.borrow_mut();
        if POOL - *used < out.len() {
            if SystemRandom::new().fill(buf).is_err() {
                return false;
            }
            *used = 0;
        }
        out.copy_from_slice(&buf[*used..*used + out.len()]);
        *used += out.len();
        true
    })
}

/// Random bytes (system randomness, pooled per thread; an all-zero id is
/// retried, as both formats forbid it).
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    for _ in 0..4 {
        if fill(&mut b) && b.iter().any(|x| *x != 0) {
            return b;
        }
    }
    b[N - 1] = 1;
    b
}

/// A random UUID v4 (`x-request-id`), as a header value.
pub(crate) fn uuid_v4() -> HeaderValue {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut b: [u8; 16] = random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    // Where each byte's two digits go in the 8-4-4-4-12 form (constant
    // indices: the loop unrolls without bounds checks or branches).
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut s = [b'-'; 36];
    for (x, at) in b.iter().zip(AT) {
        s[at] = D[usize::from(x >> 4)];
        s[at + 1] = D[usize::from(x & 15)];
    }
    HeaderValue::from_bytes(&s).unwrap_or(HeaderValue::from_static("-"))
}

/// Lowercase hex.
pub(crate) fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[usize::from(x >> 4)] as char);
        s.push(D[usize::from(x & 15)] as char);
    }
    s
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    out.iter().any(|x| *x != 0).then_some(out)
}

/// A 64-bit B3 trace id is the low half of a 128-bit one.
fn trace_id(s: &str) -> Option<[u8; 16]> {
    if s.len() == 16 {
        let low: [u8; 8] = unhex(s)?;
        let mut t = [0u8; 16];
        t[8..].copy_from_slice(&low);
        return Some(t);
    }
    unhex(s)
}

/// Which header formats a request carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Formats {
    pub w3c: bool,
    pub b3_multi: bool,
    pub b3_single: bool,
}

/// What the request says about its trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Incoming {
    /// The parent span: trace id and span id.
    pub parent: Option<([u8; 16], [u8; 8])>,
    /// A sampling decision made upstream.
    pub sampled: Option<bool>,
    pub formats: Formats,
}

fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn b3_sampled(s: &str) -> Option<bool> {
    match s {
        "1" | "true" | "d" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// Reads the trace context (W3C first, then B3 single, then B3 multi).
pub(crate) fn extract(h: &HeaderMap) -> Incoming {
    let mut inc = Incoming::default();
    if let Some(tp) = get(h, TRACEPARENT) {
        let parts: Vec<&str> = tp.split('-').collect();
        if let [version, t, s, flags, ..] = parts[..]
            && version.len() == 2
            && version != "ff"
            && let (Some(t), Some(s), Some(f)) = (
                unhex::<16>(t),
                unhex::<8>(s),
                unhex::<1>(flags).or(Some([0])),
            )
        {
            inc.formats.w3c = true;
            inc.parent = Some((t, s));
            inc.sampled = Some(f[0] & 1 == 1);
        }
    }
    if let Some(b3) = get(h, B3) {
        inc.formats.b3_single = true;
        let parts: Vec<&str> = b3.split('-').collect();
        match parts[..] {
            [decision] => inc.sampled = inc.sampled.or(b3_sampled(decision)),
            [t, s, ref rest @ ..] => {
                if inc.parent.is_none()
                    && let (Some(t), Some(s)) = (trace_id(t), unhex::<8>(s))
                {
                    inc.parent = Some((t, s));
                }
                if let Some(d) = rest.first() {
                    inc.sampled = inc.sampled.or(b3_sampled(d));
                }
            }
            _ => {}
        }
    }
    let flags_debug = get(h, B3_FLAGS) == Some("1");
    let sampled = get(h, B3_SAMPLED).and_then(b3_sampled);
    if let (Some(t), Some(s)) = (get(h, B3_TRACE), get(h, B3_SPAN)) {
        inc.formats.b3_multi = true;
        if inc.parent.is_none()
            && let (Some(t), Some(s)) = (trace_id(t), unhex::<8>(s))
        {
            inc.parent = Some((t, s));
        }
    }
    if sampled.is_some() || flags_debug {
        inc.formats.b3_multi = true;
        inc.sampled = inc
            .sampled
            .or(if flags_debug { Some(true) } else { sampled });
    }
    inc
}

/// The span this proxy makes for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpanIds {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub sampled: bool,
}

/// Starts this proxy's span: continues the incoming trace or starts one;
/// `roll` is the sampling decision for a trace without one upstream.
pub(crate) fn start(inc: &Incoming, roll: impl FnOnce() -> bool) -> SpanIds {
    let sampled = inc.sampled.unwrap_or_else(roll);
    let (trace_id, parent) = match inc.parent {
        Some((t, s)) => (t, Some(s)),
        None => (random(), None),
    };
    SpanIds {
        trace_id,
        span_id: random(),
        parent,
        sampled,
    }
}

/// Whether a new trace is sampled at `percent` (0-100).
pub(crate) fn roll(percent: f64) -> bool {
    if percent >= 100.0 {
        return true;
    }
    if percent <= 0.0 {
        return false;
    }
    let r = u64::from_be_bytes(random::<8>()) >> 11;
    (r as f64 / (1u64 << 53) as f64) * 100.0 < percent
}

fn value(s: String) -> Option<HeaderValue> {
    HeaderValue::from_str(&s).ok()
}

/// Writes `span` into the request's headers as the parent of the next hop.
pub(crate) fn inject(h: &mut HeaderMap, span: &SpanIds, formats: Formats) {
    let formats = if formats == Formats::default() {
        Formats {
            w3c: true,
            b3_multi: true,
            b3_single: false,
        }
    } else {
        formats
    };
    let (t, s) = (hex(&span.trace_id), hex(&span.span_id));
    let flag = if span.sampled { "1" } else { "0" };
    if formats.w3c
        && let Some(v) = value(format!("00-{t}-{s}-0{flag}"))
    {
        h.insert(TRACEPARENT, v);
    }
    if formats.b3_single {
        let v = match span.parent {
            Some(p) => format!("{t}-{s}-{flag}-{}", hex(&p)),
            None => format!("{t}-{s}-{flag}"),
        };
        if let Some(v) = value(v) {
            h.insert(B3, v);
        }
    }
    if formats.b3_multi {
        for (k, v) in [(B3_TRACE, &t), (B3_SPAN, &s)] {
            if let Some(v) = value(v.clone()) {
                h.insert(k, v);
            }
        }
        match span.parent.and_then(|p| value(hex(&p))) {
            Some(v) => h.insert(B3_PARENT, v),
            None => h.remove(B3_PARENT),
        };
        h.insert(
            B3_SAMPLED,
            HeaderValue::from_static(if span.sampled { "1" } else { "0" }),
        );
        h.remove(B3_FLAGS);
    }
}

/// Adds `x-request-id` (a UUID v4) when the request has none, or an empty one.
pub(crate) fn ensure_request_id(h: &mut HeaderMap) {
    match h.entry(&REQUEST_ID) {
        http::header::Entry::Occupied(e) if !e.get().is_empty() => {}
        http::header::Entry::Occupied(mut e) => {
            e.insert(uuid_v4());
        }
        http::header::Entry::Vacant(e) => {
            e.insert(uuid_v4());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                *k,
                HeaderValue::from_str(v).expect("as set up in this test"),
            );
        }
        h
    }

    #[test]
    fn request_ids_are_distinct_uuid_v4s() {
        let mut seen = std::collections::HashSet::new();
        // More than one pool's worth, so refills are exercised.
        for _ in 0..(3 * POOL / 16 + 5) {
            let v = uuid_v4();
            let s = v.to_str().expect("ASCII");
            let parts: Vec<&str> = s.split('-').collect();
            let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12], "{s}");
            assert!(
                s.bytes()
                    .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert_eq!(&parts[2][..1], "4", "version 4: {s}");
            assert!(
                matches!(&parts[3][..1], "8" | "9" | "a" | "b"),
                "RFC 4122 variant: {s}"
            );
            assert!(seen.insert(s.to_owned()), "repeated id {s}");
        }
    }

    const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const S: &str = "00f067aa0ba902b7";

    #[test]
    fn w3c_is_continued_with_its_decision() {
        let inc = extract(&headers(&[(TRACEPARENT, &format!("00-{T}-{S}-01"))]));
        assert_eq!(inc.sampled, Some(true));
        assert!(inc.formats.w3c && !inc.formats.b3_multi);
        let span = start(&inc, || panic!("an upstream decision is not rolled again"));
        assert_eq!(hex(&span.trace_id), T);
        assert_eq!(span.parent.map(|p| hex(&p)), Some(S.to_owned()));
        assert_ne!(hex(&span.span_id), S);
        let mut h = HeaderMap::new();
        inject(&mut h, &span, inc.formats);
        assert_eq!(
            h[TRACEPARENT],
            format!("00-{T}-{}-01", hex(&span.span_id)).as_str()
        );
        assert!(h.get(B3_TRACE).is_none(), "only the formats that came in");
        let unsampled = extract(&headers(&[(TRACEPARENT, &format!("00-{T}-{S}-00"))]));
        assert_eq!(unsampled.sampled, Some(false));
    }

    #[test]
    fn b3_multi_and_single_are_continued() {
        let inc = extract(&headers(&[
            (B3_TRACE, T),
            (B3_SPAN, S),
            (B3_PARENT, "1111111111111111"),
            (B3_SAMPLED, "1"),
        ]));
        assert_eq!(
            inc.parent.map(|(t, s)| (hex(&t), hex(&s))),
            Some((T.into(), S.into()))
        );
        assert_eq!(inc.sampled, Some(true));
        let span = start(&inc, || false);
        let mut h = HeaderMap::new();
        inject(&mut h, &span, inc.formats);
        assert_eq!(h[B3_TRACE], T);
        assert_eq!(h[B3_PARENT], S, "the incoming span is the parent");
        assert_eq!(h[B3_SPAN], hex(&span.span_id).as_str());
        assert_eq!(h[B3_SAMPLED], "1");

        // 64-bit trace ids are the low half; single header with parent.
        let inc = extract(&headers(&[(
            B3,
            &format!("a3ce929d0e0e4736-{S}-0-1111111111111111"),
        )]));
        let (t, s) = inc.parent.expect("as set up in this test");
        assert_eq!(
            (hex(&t), hex(&s)),
            (format!("{}a3ce929d0e0e4736", "0".repeat(16)), S.into())
        );
        assert_eq!(inc.sampled, Some(false));
        let span = start(&inc, || true);
        assert!(!span.sampled, "the upstream 'do not sample' wins");
        let mut h = HeaderMap::new();
        inject(&mut h, &span, inc.formats);
        let b3 = h[B3].to_str().expect("as set up in this test");
        assert_eq!(b3, format!("{}-{}-0-{S}", hex(&t), hex(&span.span_id)));
        // A decision alone.
        assert_eq!(extract(&headers(&[(B3, "0")])).sampled, Some(false));
        assert_eq!(extract(&headers(&[(B3, "d")])).sampled, Some(true));
    }

    #[test]
    fn new_traces_get_w3c_and_b3_and_bad_headers_are_ignored() {
        for bad in [
            format!("00-{}-{S}-01", "0".repeat(32)),
            format!("ff-{T}-{S}-01"),
            "00-xyz-01".to_owned(),
        ] {
            assert_eq!(
                extract(&headers(&[(TRACEPARENT, &bad)])).parent,
                None,
                "{bad}"
            );
        }
        let inc = extract(&HeaderMap::new());
        let span = start(&inc, || true);
        assert_eq!(span.parent, None);
        let mut h = HeaderMap::new();
        inject(&mut h, &span, inc.formats);
        assert!(h.contains_key(TRACEPARENT) && h.contains_key(B3_TRACE));
        assert!(!h.contains_key(B3_PARENT));
    }

    #[test]
    fn sampling_by_percentage_and_request_ids() {
        assert!((0..1000).all(|_| roll(100.0)));
        assert!((0..1000).all(|_| !roll(0.0)));
        let some = (0..4000).filter(|_| roll(50.0)).count();
        assert!((1000..3000).contains(&some), "{some} of 4000 at 50%");
        let mut h = HeaderMap::new();
        ensure_request_id(&mut h);
        let id = h[&REQUEST_ID].clone();
        let s = id.to_str().expect("as set up in this test");
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4", "version 4: {s}");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"), "variant: {s}");
        ensure_request_id(&mut h);
        assert_eq!(h[&REQUEST_ID], id, "kept when present");
        h.insert(&REQUEST_ID, HeaderValue::from_static(""));
        ensure_request_id(&mut h);
        assert_eq!(h[&REQUEST_ID].len(), 36, "an empty one is replaced");
    }
}
