//! Reads the server name (SNI) from a TLS ClientHello without terminating TLS,
//! for `tls` routes that pass TLS through by SNI.

/// What the first bytes of a connection say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hello {
    /// More bytes are needed.
    Incomplete,
    /// Not a TLS ClientHello.
    NotTls,
    /// A ClientHello, with its server name if it has one (lowercase).
    Tls(Option<String>),
}

/// Parses a ClientHello from the start of a connection (one TLS record).
pub(crate) fn parse(buf: &[u8]) -> Hello {
    // Record header: type 22 (handshake), version 3.x, length.
    let Some(header) = buf.get(..5) else {
        return if buf.first().is_some_and(|b| *b != 22) {
            Hello::NotTls
        } else {
            Hello::Incomplete
        };
    };
    if header[0] != 22 || header[1] != 3 {
        return Hello::NotTls;
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let Some(record) = buf.get(5..5 + len) else {
        return Hello::Incomplete;
    };
    match client_hello_sni(record) {
        Some(sni) => Hello::Tls(sni),
        None => Hello::NotTls,
    }
}

/// `Some(sni)` for a well-formed ClientHello handshake message.
fn client_hello_sni(msg: &[u8]) -> Option<Option<String>> {
    let mut r = Reader(msg);
    if r.u8()? != 1 {
        return None; // not a ClientHello
    }
    let len = r.u24()?;
    let mut body = Reader(r.take(len)?);
    body.take(2 + 32)?; // version, random
    let sid = usize::from(body.u8()?);
    body.take(sid)?;
    let suites = usize::from(body.u16()?);
    body.take(suites)?;
    let comp = usize::from(body.u8()?);
    body.take(comp)?;
    if body.0.is_empty() {
        return Some(None); // no extensions
    }
    let ext_len = usize::from(body.u16()?);
    let mut exts = Reader(body.take(ext_len)?);
    while !exts.0.is_empty() {
        let kind = exts.u16()?;
        let len = usize::from(exts.u16()?);
        let data = exts.take(len)?;
        if kind == 0 {
            let mut sn = Reader(data);
            let list_len = usize::from(sn.u16()?);
            let mut list = Reader(sn.take(list_len)?);
            while !list.0.is_empty() {
                let name_type = list.u8()?;
                let n = usize::from(list.u16()?);
                let name = list.take(n)?;
                if name_type == 0 {
                    let name = std::str::from_utf8(name).ok()?;
                    return Some(Some(name.to_ascii_lowercase()));
                }
            }
        }
    }
    Some(None)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
}

/// Whether `name` matches an SNI pattern (`*.example.com` matches one or more
/// labels in front of `example.com`, as Envoy's server_names do).
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => name.len() > suffix.len() && name.ends_with(suffix),
        None => pattern == name,
    }
}

/// A minimal ClientHello carrying `sni` (for tests, here and in the crate's
/// integration tests).
#[cfg(test)]
pub(crate) fn client_hello(sni: Option<&str>) -> Vec<u8> {
    let mut ext = Vec::new();
    if let Some(name) = sni {
        let n = name.len() as u16;
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&(n + 5).to_be_bytes());
        ext.extend_from_slice(&(n + 3).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&n.to_be_bytes());
        ext.extend_from_slice(name.as_bytes());
    }
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7u8; 32]);
    body.push(0); // session id
    body.extend_from_slice(&2u16.to_be_bytes());
    body.extend_from_slice(&[0x13, 0x01]);
    body.extend_from_slice(&[1, 0]); // compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    let l = body.len();
    hs.extend_from_slice(&[(l >> 16) as u8, (l >> 8) as u8, l as u8]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_server_name() {
        let hello = client_hello(Some("API.example.com"));
        assert_eq!(parse(&hello), Hello::Tls(Some("api.example.com".into())));
        assert_eq!(parse(&client_hello(None)), Hello::Tls(None));
        assert_eq!(parse(&hello[..10]), Hello::Incomplete);
        assert_eq!(parse(&hello[..3]), Hello::Incomplete);
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Hello::NotTls);
    }

    #[test]
    fn wildcard_patterns() {
        assert!(matches("*.example.com", "a.example.com"));
        assert!(matches("*.example.com", "a.b.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(matches("example.com", "example.com"));
        assert!(!matches("example.com", "a.example.com"));
    }
}
