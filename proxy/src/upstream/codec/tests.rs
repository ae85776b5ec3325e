use super::*;

fn request(method: &str, version: Version, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut b = http::Request::builder()
        .method(method)
        .uri("/reviews/1?x=y")
        .version(version);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

fn encode(mut parts: http::request::Parts, empty: bool, exact: Option<u64>) -> (String, Framing) {
    let mut out = Vec::new();
    let framing = encode_request(&mut parts, empty, exact, &mut out);
    (String::from_utf8(out).unwrap(), framing)
}

#[test]
fn a_request_head_is_written_in_origin_form_with_its_fields() {
    let parts = request(
        "GET",
        Version::HTTP_11,
        &[("host", "reviews:9080"), ("x-a", "1")],
    );
    assert_eq!(
        encode(parts, true, Some(0)),
        (
            "GET /reviews/1?x=y HTTP/1.1\r\nhost: reviews:9080\r\nx-a: 1\r\n\r\n".into(),
            Framing::Length(0)
        )
    );
}

#[test]
fn a_request_body_is_framed_by_its_length_or_in_chunks() {
    let post = |h: &[(&str, &str)]| request("POST", Version::HTTP_11, h);
    // Known length: content-length is set.
    let (head, f) = encode(post(&[]), false, Some(5));
    assert_eq!(f, Framing::Length(5));
    assert!(head.contains("content-length: 5\r\n"), "{head}");
    // A given content-length is kept, even with a body of unknown length.
    let (head, f) = encode(post(&[("content-length", "7")]), false, None);
    assert_eq!(f, Framing::Length(7));
    assert!(head.contains("content-length: 7\r\n"), "{head}");
    // Unknown length: chunks, and any invalid content-length goes.
    let (head, f) = encode(post(&[("content-length", "x")]), false, None);
    assert_eq!(f, Framing::Chunked);
    assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    // A transfer coding other than chunked gets chunked added last.
    let (head, f) = encode(post(&[("transfer-encoding", "gzip")]), false, None);
    assert_eq!(f, Framing::Chunked);
    assert!(
        head.contains("transfer-encoding: gzip, chunked\r\n"),
        "{head}"
    );
    // A GET of unknown length goes without a body; so does an HTTP/1.0 one.
    let get = request("GET", Version::HTTP_11, &[]);
    assert_eq!(encode(get, false, None).1, Framing::Length(0));
    let (head, f) = encode(request("POST", Version::HTTP_10, &[]), false, None);
    assert_eq!(f, Framing::Length(0));
    assert!(
        head.starts_with("POST /reviews/1?x=y HTTP/1.0\r\n"),
        "{head}"
    );
    // An empty body drops a transfer-encoding.
    let (head, f) = encode(post(&[("transfer-encoding", "chunked")]), true, None);
    assert_eq!(f, Framing::Length(0));
    assert!(!head.contains("transfer-encoding"), "{head}");
}

#[test]
fn chunk_sizes_are_hex_and_trailers_only_those_announced() {
    for (n, s) in [(1, "1"), (10, "a"), (16, "10"), (0x12345, "12345")] {
        let mut out = Vec::new();
        encode_chunk_size(n, &mut out);
        assert_eq!(out, format!("{s}\r\n").as_bytes());
    }
    let mut h = HeaderMap::new();
    h.insert(
        TRAILER,
        HeaderValue::from_static("grpc-status, content-length"),
    );
    let allowed = announced_trailers(&h);
    assert_eq!(allowed, [HeaderName::from_static("grpc-status")]);
    let mut t = HeaderMap::new();
    t.insert("grpc-status", HeaderValue::from_static("0"));
    t.insert("x-other", HeaderValue::from_static("1"));
    let mut out = Vec::new();
    encode_chunked_end(Some(&t), &allowed, &mut out);
    assert_eq!(out, b"0\r\ngrpc-status: 0\r\n\r\n");
}

fn parse(raw: &str, method: &Method) -> Result<Option<ResponseHead>, H1Error> {
    let mut buf = BytesMut::from(raw);
    parse_response(&mut buf, method)
}

fn framing(raw: &str) -> Framing {
    parse(raw, &Method::GET).unwrap().unwrap().framing
}

#[test]
fn a_response_head_is_parsed_once_whole_and_its_body_left_in_the_buffer() {
    let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\nx-a: 2\r\n\r\nok";
    let mut buf = BytesMut::new();
    for (i, b) in raw.iter().enumerate() {
        buf.extend_from_slice(&[*b]);
        let head = parse_response(&mut buf, &Method::GET).unwrap();
        if i < raw.len() - 3 {
            assert!(head.is_none(), "complete at byte {i}?");
            continue;
        }
        let head = head.unwrap();
        assert_eq!(head.response.status(), 200);
        assert_eq!(head.response.version(), Version::HTTP_11);
        let all: Vec<_> = head.response.headers().get_all("x-a").iter().collect();
        assert_eq!(all, ["1", "2"]);
        assert_eq!(head.framing, Framing::Length(2));
        assert!(head.keep_alive);
        break;
    }
    assert!(buf.is_empty(), "the head is taken off the buffer");
    buf.extend_from_slice(b"ok");
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
        Framing::Length(2)
    );
    let mut whole = BytesMut::from(&raw[..]);
    parse_response(&mut whole, &Method::GET).unwrap().unwrap();
    assert_eq!(&whole[..], b"ok", "the body stays for the decoder");
}

#[test]
fn informational_responses_are_skipped_and_101_refused() {
    let head = parse(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n",
        &Method::POST,
    );
    assert_eq!(head.unwrap().unwrap().response.status(), 201);
    assert!(matches!(
        parse("HTTP/1.1 100 Continue\r\n\r\n", &Method::POST),
        Ok(None)
    ));
    assert!(matches!(
        parse(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n",
            &Method::GET
        ),
        Err(H1Error::Invalid(_))
    ));
}

#[test]
fn a_response_body_is_delimited_as_rfc_9112_says() {
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n"),
        Framing::Length(5)
    );
    let both = "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n";
    let head = parse(both, &Method::GET).unwrap().unwrap();
    assert_eq!(head.framing, Framing::Chunked);
    assert!(
        !head.response.headers().contains_key("content-length"),
        "a content-length beside a transfer-encoding is not passed on"
    );
    assert_eq!(
        framing("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n"),
        Framing::Close
    );
    assert_eq!(framing("HTTP/1.1 200 OK\r\n\r\n"), Framing::Close);
    assert_eq!(
        framing("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n"),
        Framing::Length(0)
    );
    assert_eq!(
        framing("HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n"),
        Framing::Length(0)
    );
    let head = parse(
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
        &Method::HEAD,
    );
    assert_eq!(head.unwrap().unwrap().framing, Framing::Length(0));
    for bad in [
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\n",
        "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
    ] {
        assert!(
            matches!(parse(bad, &Method::GET), Err(H1Error::Invalid(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        parse("HTTP/1.1 200 OK\r\nbad header\r\n\r\n", &Method::GET),
        Err(H1Error::Parse(_))
    ));
}

#[test]
fn keep_alive_follows_the_version_and_connection_fields() {
    let keep = |raw: &str| parse(raw, &Method::GET).unwrap().unwrap().keep_alive;
    assert!(keep("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
    assert!(!keep(
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    ));
    assert!(!keep("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"));
    assert!(keep(
        "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"
    ));
    assert!(!keep(
        "HTTP/1.0 200 OK\r\nconnection: close\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"
    ));
}

#[test]
fn an_unusual_reason_phrase_is_kept_and_a_huge_head_refused() {
    let head = parse(
        "HTTP/1.1 200 Fine\r\ncontent-length: 0\r\n\r\n",
        &Method::GET,
    );
    let head = head.unwrap().unwrap();
    let reason = head.response.extensions().get::<hyper::ext::ReasonPhrase>();
    assert_eq!(reason.map(|r| r.as_bytes()), Some(&b"Fine"[..]));
    let head = parse("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", &Method::GET);
    assert!(
        head.unwrap()
            .unwrap()
            .response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .is_none()
    );
    let huge = format!("HTTP/1.1 200 OK\r\nx-big: {}", "a".repeat(MAX_HEAD));
    assert!(matches!(parse(&huge, &Method::GET), Err(H1Error::TooLarge)));
}

/// Feeds `raw` to a decoder `step` bytes at a time: the data, the trailers, and
/// what is left in the buffer at the end.
fn decode_all(
    mut d: Decoder,
    raw: &[u8],
    step: usize,
) -> Result<(Vec<u8>, Option<HeaderMap>, usize), H1Error> {
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let (mut data, mut trailers) = (Vec::new(), None);
    loop {
        match d.decode(&mut buf, fed == raw.len())? {
            Decoded::Frame(f) => match f.into_data() {
                Ok(b) => data.extend_from_slice(&b),
                Err(f) => trailers = f.into_trailers().ok(),
            },
            Decoded::End => return Ok((data, trailers, buf.len())),
            Decoded::More => {
                let n = step.min(raw.len() - fed);
                buf.extend_from_slice(&raw[fed..fed + n]);
                fed += n;
            }
        }
    }
}

#[test]
fn bodies_are_decoded_whatever_the_reads_cut() {
    let chunked = b"a\r\npart one, \r\n8;ext=1\r\npart two\r\n0\r\n\r\nNEXT";
    let trailed = b"4\r\nRust\r\n0\r\ngrpc-status: 0\r\n\r\n";
    for step in [1, 3, 7, 100] {
        let (data, t, left) = decode_all(Decoder::new(Framing::Chunked), chunked, step).unwrap();
        assert_eq!(data, b"part one, part two");
        assert!(t.is_none());
        assert!(left <= 4, "what follows the body is left: {left}");
        let (data, t, _) = decode_all(Decoder::new(Framing::Chunked), trailed, step).unwrap();
        assert_eq!(data, b"Rust");
        assert_eq!(t.unwrap()["grpc-status"], "0");
        let (data, _, left) = decode_all(Decoder::new(Framing::Length(5)), b"hello", step).unwrap();
        assert_eq!((&data[..], left), (&b"hello"[..], 0));
        let (data, _, _) =
            decode_all(Decoder::new(Framing::Close), b"until the end", step).unwrap();
        assert_eq!(data, b"until the end");
    }
}

#[test]
fn a_body_cut_short_or_badly_chunked_is_an_error() {
    assert!(matches!(
        decode_all(Decoder::new(Framing::Length(10)), b"short", 2),
        Err(H1Error::Incomplete)
    ));
    assert!(matches!(
        decode_all(Decoder::new(Framing::Chunked), b"4\r\nRust\r\n", 2),
        Err(H1Error::Incomplete)
    ));
    assert!(matches!(
        decode_all(
            Decoder::new(Framing::Chunked),
            b"4\r\nRustX\r\n0\r\n\r\n",
            100
        ),
        Err(H1Error::Invalid(_))
    ));
    assert!(matches!(
        decode_all(Decoder::new(Framing::Chunked), b"zz\r\n", 100),
        Err(H1Error::Invalid(_))
    ));
}

#[test]
fn a_status_line_without_a_usual_reason_is_read() {
    for raw in [
        &b"HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n"[..],
        &b"HTTP/1.1 200 \r\ncontent-length: 0\r\n\r\n"[..],
        &b"HTTP/1.1 200 Caf\xe9\r\ncontent-length: 0\r\n\r\n"[..],
    ] {
        let mut buf = BytesMut::from(raw);
        let head = parse_response(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(head.response.status(), 200);
        assert!(buf.is_empty());
    }
}

#[test]
fn chunk_size_lines_are_read_strictly() {
    for bad in [
        &b"\r\n"[..],
        b" 3\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n;\r\n\r\n",
        b"3;a\nb\r\nabc\r\n0\r\n\r\n",
        b"3;a\x01b\r\nabc\r\n0\r\n\r\n",
    ] {
        let r = decode_all(Decoder::new(Framing::Chunked), bad, 100);
        assert!(
            matches!(r, Err(H1Error::Invalid(_))),
            "{:?}: {r:?}",
            String::from_utf8_lossy(bad)
        );
    }
    let long = format!("3;{}\r\nabc\r\n0\r\n\r\n", "e".repeat(20_000));
    let r = decode_all(Decoder::new(Framing::Chunked), long.as_bytes(), 4096);
    assert!(matches!(r, Err(H1Error::Invalid(_))), "{r:?}");
    let fine = b"3;name=\"v a\"\r\nabc\r\n0\r\n\r\n";
    let (data, _, _) = decode_all(Decoder::new(Framing::Chunked), fine, 100).unwrap();
    assert_eq!(data, b"abc");
}
