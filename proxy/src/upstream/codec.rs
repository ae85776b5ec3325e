//! The HTTP/1.1 client codec of pooled upstream connections (RFC 9112): a
//! request's head and body framing written, a response's head parsed
//! (`httparse`, as hyper does), its body decoded by content length, chunks, or
//! up to the close. Where the RFC leaves a choice, the choice is hyper's, whose
//! client this replaces on the pooled path, so the wire stays as it was.

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRAILER, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use hyper::body::{Frame, SizeHint};
use std::mem::MaybeUninit;

use crate::body::BoxError;

/// The most a response head (or a trailer section) may take: hyper's default
/// read buffer limit.
pub(super) const MAX_HEAD: usize = 8192 + 4096 * 100;

/// The most a chunk-size line may take, extensions included (hyper allows
/// 16 KiB of extensions).
const MAX_CHUNK_LINE: usize = 16 * 1024 + 32;

/// The most header fields a response head may carry (hyper's default).
const MAX_HEADERS: usize = 100;

/// Why an exchange on a pooled HTTP/1.1 connection failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum H1Error {
    #[error("connection closed before the response was complete")]
    Incomplete,
    #[error("invalid response head: {0}")]
    Parse(#[from] httparse::Error),
    #[error("invalid response: {0}")]
    Invalid(&'static str),
    #[error("response head larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    #[error("request body: {0}")]
    RequestBody(BoxError),
    #[error("request body {0}")]
    RequestLength(&'static str),
}

/// How a message's body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// `content-length` bytes (0: no body).
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Up to the close of the connection (responses only).
    Close,
}

/// Writes the head of `parts` to `dst` and says how its body is framed:
/// `content-length` when the body's length is known or given, else chunked
/// (a `GET`, `HEAD` or `CONNECT` of unknown length is sent without a body, as
/// hyper does). `empty` is whether the body is known to be empty.
pub(super) fn encode_request(
    parts: &mut http::request::Parts,
    empty: bool,
    exact: Option<u64>,
    dst: &mut Vec<u8>,
) -> Framing {
    let framing = request_framing(parts, empty, exact);
    dst.extend_from_slice(parts.method.as_str().as_bytes());
    dst.push(b' ');
    match parts.uri.scheme() {
        None => dst.extend_from_slice(
            parts
                .uri
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .as_bytes(),
        ),
        Some(_) => dst.extend_from_slice(parts.uri.to_string().as_bytes()),
    }
    dst.extend_from_slice(match parts.version {
        Version::HTTP_10 => b" HTTP/1.0\r\n",
        _ => b" HTTP/1.1\r\n",
    });
    write_fields(&parts.headers, dst);
    dst.extend_from_slice(b"\r\n");
    framing
}

/// Writes each field as a `name: value` line.
fn write_fields<'a>(
    fields: impl IntoIterator<Item = (&'a HeaderName, &'a HeaderValue)>,
    dst: &mut Vec<u8>,
) {
    for (name, value) in fields {
        dst.extend_from_slice(name.as_str().as_bytes());
        dst.extend_from_slice(b": ");
        dst.extend_from_slice(value.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
}

fn request_framing(parts: &mut http::request::Parts, empty: bool, exact: Option<u64>) -> Framing {
    let h = &mut parts.headers;
    if empty {
        h.remove(TRANSFER_ENCODING);
        return Framing::Length(0);
    }
    let given = content_length(h);
    if parts.version == Version::HTTP_10 {
        // No chunks in HTTP/1.0: a body of unknown length cannot be sent.
        h.remove(TRANSFER_ENCODING);
        return match (given, exact) {
            (Some(Ok(n)), _) => Framing::Length(n),
            (_, Some(n)) => set_length(h, n),
            _ => Framing::Length(0),
        };
    }
    if h.contains_key(TRANSFER_ENCODING) {
        if !is_chunked(h) {
            let mut v = h
                .get_all(TRANSFER_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ");
            v.push_str(", chunked");
            h.remove(TRANSFER_ENCODING);
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(TRANSFER_ENCODING, v);
            }
        }
        h.remove(CONTENT_LENGTH);
        return Framing::Chunked;
    }
    match (given, exact) {
        (Some(Ok(n)), _) => Framing::Length(n),
        (_, Some(n)) => set_length(h, n),
        _ if matches!(parts.method, Method::GET | Method::HEAD | Method::CONNECT) => {
            Framing::Length(0)
        }
        _ => {
            h.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
            h.remove(CONTENT_LENGTH);
            Framing::Chunked
        }
    }
}

fn set_length(h: &mut HeaderMap, n: u64) -> Framing {
    h.insert(CONTENT_LENGTH, HeaderValue::from(n));
    Framing::Length(n)
}

/// The `content-length` of `h`: `None` if absent, an error unless every value
/// is the same valid length.
fn content_length(h: &HeaderMap) -> Option<Result<u64, ()>> {
    h.get_all(CONTENT_LENGTH)
        .iter()
        .fold(None, |len, v| Some(same_length(len, v)))
}

/// `len` (what earlier `content-length` fields gave) with one more field's
/// value, a comma-separated list of lengths: an error unless all are the same.
fn same_length(len: Option<Result<u64, ()>>, v: &HeaderValue) -> Result<u64, ()> {
    let mut len = len.transpose()?;
    for part in v.as_bytes().split(|&b| b == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
            return Err(());
        }
        let n = part.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        match len {
            Some(l) if l != n => return Err(()),
            _ => len = Some(n),
        }
    }
    len.ok_or(())
}

/// Whether the last transfer coding is `chunked`.
fn is_chunked(h: &HeaderMap) -> bool {
    h.get_all(TRANSFER_ENCODING)
        .iter()
        .next_back()
        .is_some_and(ends_chunked)
}

/// Whether the last coding of a `transfer-encoding` value is `chunked`.
fn ends_chunked(v: &HeaderValue) -> bool {
    v.as_bytes()
        .rsplit(|&b| b == b',')
        .next()
        .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// The trailer fields a chunked request may send: those its `Trailer` header
/// announces (as hyper does), none of which frames or routes the message.
pub(super) fn announced_trailers(h: &HeaderMap) -> Vec<HeaderName> {
    h.get_all(TRAILER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .filter_map(|s| HeaderName::from_bytes(s.trim().as_bytes()).ok())
        .filter(|n| {
            !matches!(
                n.as_str(),
                "content-length" | "transfer-encoding" | "host" | "trailer" | "te" | "connection"
            )
        })
        .collect()
}

/// Writes the end of a chunked body: the last chunk, the allowed trailer
/// fields of `trailers`, and the empty line.
pub(super) fn encode_chunked_end(
    trailers: Option<&HeaderMap>,
    allowed: &[HeaderName],
    dst: &mut Vec<u8>,
) {
    dst.extend_from_slice(b"0\r\n");
    if let Some(t) = trailers {
        write_fields(t.iter().filter(|(name, _)| allowed.contains(name)), dst);
    }
    dst.extend_from_slice(b"\r\n");
}

/// Writes a chunk's size line.
pub(super) fn encode_chunk_size(len: usize, dst: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        dst.push(HEX[(len >> (i * 4)) & 0xf]);
    }
    dst.extend_from_slice(b"\r\n");
}

/// A parsed response head: the response (its body to come), how the body is
/// framed, and whether the connection may carry another exchange after it.
#[derive(Debug)]
pub(super) struct ResponseHead {
    pub response: http::Response<()>,
    pub framing: Framing,
    pub keep_alive: bool,
}

/// Parses a response head off the front of `buf`, skipping informational
/// (1xx) ones: `None` until a whole head is there.
pub(super) fn parse_response(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<ResponseHead>, H1Error> {
    loop {
        if buf.is_empty() {
            return Ok(None);
        }
        let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut spans = [(0u32, 0u32, 0u32, 0u32); MAX_HEADERS];
        let mut res = httparse::Response::new(&mut []);
        let base = buf.as_ptr() as usize;
        let (len, status, version, reason, count) = match httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut res, buf, &mut fields)?
        {
            httparse::Status::Partial => {
                if buf.len() > MAX_HEAD {
                    return Err(H1Error::TooLarge);
                }
                return Ok(None);
            }
            httparse::Status::Complete(len) => {
                for (span, f) in spans.iter_mut().zip(res.headers.iter()) {
                    let (ns, ne) = span_in(base, len, f.name.as_bytes())?;
                    let (vs, ve) = span_in(base, len, f.value)?;
                    *span = (ns, ne, vs, ve);
                }
                // Copied, as hyper does: httparse gives an empty or non-ASCII
                // reason as a static string, not a slice of `buf`. Kept only
                // when it is not the status's own.
                let status = StatusCode::from_u16(res.code.unwrap_or(0))
                    .map_err(|_| H1Error::Invalid("status code"))?;
                let reason = res
                    .reason
                    .filter(|r| !r.is_empty() && status.canonical_reason() != Some(*r))
                    .map(|r| Bytes::copy_from_slice(r.as_bytes()));
                (
                    len,
                    status,
                    res.version.unwrap_or(1),
                    reason,
                    res.headers.len(),
                )
            }
        };
        if len > MAX_HEAD {
            return Err(H1Error::TooLarge);
        }
        let head = buf.split_to(len).freeze();
        if status.is_informational() {
            if status == StatusCode::SWITCHING_PROTOCOLS {
                // Pooled requests never ask to upgrade (`forward::send_upgrade` does).
                return Err(H1Error::Invalid(
                    "101 Switching Protocols to a request without upgrade",
                ));
            }
            continue;
        }
        let version = if version == 1 {
            Version::HTTP_11
        } else {
            Version::HTTP_10
        };
        let mut keep_alive = version == Version::HTTP_11;
        let mut closing = false;
        let mut delimiters = Delimiters::default();
        // Room for the few fields the proxy adds, so that adding them does
        // not grow the map.
        let mut headers = HeaderMap::with_capacity(count + 4);
        for &(ns, ne, vs, ve) in &spans[..count] {
            let (ns, ne, vs, ve) = (ns as usize, ne as usize, vs as usize, ve as usize);
            let name = HeaderName::from_bytes(&head[ns..ne])
                .map_err(|_| H1Error::Invalid("header name"))?;
            let value = HeaderValue::from_maybe_shared(head.slice(vs..ve))
                .map_err(|_| H1Error::Invalid("header value"))?;
            if name == CONNECTION {
                // Once a `Connection` line asks to close, a later one cannot undo it.
                if closing || has_token(&value, "close") {
                    closing = true;
                    keep_alive = false;
                } else if !keep_alive {
                    keep_alive = has_token(&value, "keep-alive");
                }
            } else if name == CONTENT_LENGTH {
                delimiters.length = Some(same_length(delimiters.length, &value));
            } else if name == TRANSFER_ENCODING {
                delimiters.chunked = Some(ends_chunked(&value));
            }
            headers.append(name, value);
        }
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        *response.version_mut() = version;
        if let Some(reason) = reason
            && let Ok(r) = hyper::ext::ReasonPhrase::try_from(reason)
        {
            response.extensions_mut().insert(r);
        }
        if delimiters.chunked.is_some() && delimiters.length.is_some() {
            // RFC 9112 §6.3: transfer-encoding wins, and an intermediary
            // removes the content-length before passing the message on.
            headers.remove(CONTENT_LENGTH);
        }
        let framing = response_framing(status, version, method, delimiters)?;
        *response.headers_mut() = headers;
        return Ok(Some(ResponseHead {
            response,
            framing,
            keep_alive,
        }));
    }
}

/// Where `field` (a slice of the head, which starts at address `base` and is
/// `len` bytes long) lies in it; an empty field is `(0, 0)`. Offsets in a head
/// of at most `MAX_HEAD` bytes fit in `u32`.
fn span_in(base: usize, len: usize, field: &[u8]) -> Result<(u32, u32), H1Error> {
    if field.is_empty() {
        return Ok((0, 0));
    }
    let start = (field.as_ptr() as usize)
        .checked_sub(base)
        .filter(|s| s + field.len() <= len && len <= MAX_HEAD)
        .ok_or(H1Error::TooLarge)?;
    Ok((start as u32, (start + field.len()) as u32))
}

/// Whether a comma-separated field value (`Connection`) lists `token`.
pub(crate) fn has_token(v: &HeaderValue, token: &str) -> bool {
    v.to_str()
        .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// What a head's fields say of its body's framing, gathered as they are read.
#[derive(Debug, Default)]
struct Delimiters {
    /// `content-length`, if given (an error unless valid and consistent).
    length: Option<Result<u64, ()>>,
    /// `transfer-encoding`, if given: whether its last coding is `chunked`.
    chunked: Option<bool>,
}

/// RFC 9112 §6.3: how a response's body is delimited.
fn response_framing(
    status: StatusCode,
    version: Version,
    method: &Method,
    d: Delimiters,
) -> Result<Framing, H1Error> {
    if matches!(status.as_u16(), 204 | 304) || *method == Method::HEAD {
        return Ok(Framing::Length(0));
    }
    match (d.chunked, d.length) {
        (Some(_), _) if version == Version::HTTP_10 => Err(H1Error::Invalid(
            "transfer-encoding in an HTTP/1.0 response",
        )),
        (Some(true), _) => Ok(Framing::Chunked),
        (Some(false), _) => Ok(Framing::Close),
        (None, Some(Ok(n))) => Ok(Framing::Length(n)),
        (None, Some(Err(()))) => Err(H1Error::Invalid("content-length")),
        (None, None) => Ok(Framing::Close),
    }
}

/// Decodes a response body from the connection's read buffer.
#[derive(Debug)]
pub(super) enum Decoder {
    /// This many bytes still to come.
    Length(u64),
    /// Chunks: the state of the chunk being read.
    Chunked(Chunk),
    /// Everything up to the close.
    Close,
    /// Read to its end.
    Done,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Chunk {
    /// Its size line.
    Size,
    /// Its data: this many bytes to come.
    Data(u64),
    /// The line end after its data.
    DataEnd,
    /// The trailer section, after the last chunk.
    Trailers,
}

/// What the buffered bytes gave.
#[derive(Debug)]
pub(super) enum Decoded {
    Frame(Frame<Bytes>),
    /// The body's end (the connection may carry the next exchange).
    End,
    /// More bytes are needed.
    More,
}

impl Decoder {
    pub(super) fn new(framing: Framing) -> Self {
        match framing {
            Framing::Length(0) => Decoder::Done,
            Framing::Length(n) => Decoder::Length(n),
            Framing::Chunked => Decoder::Chunked(Chunk::Size),
            Framing::Close => Decoder::Close,
        }
    }

    pub(super) fn is_done(&self) -> bool {
        matches!(self, Decoder::Done)
    }

    pub(super) fn size_hint(&self) -> SizeHint {
        match self {
            Decoder::Length(n) => SizeHint::with_exact(*n),
            Decoder::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }

    /// Takes what it can from `buf`. At the close of the connection (`eof`),
    /// only a close-delimited body ends well.
    pub(super) fn decode(&mut self, buf: &mut BytesMut, eof: bool) -> Result<Decoded, H1Error> {
        loop {
            match self {
                Decoder::Done => return Ok(Decoded::End),
                Decoder::Length(rem) => {
                    if buf.is_empty() {
                        return if eof {
                            Err(H1Error::Incomplete)
                        } else {
                            Ok(Decoded::More)
                        };
                    }
                    let n = buf.len().min(usize::try_from(*rem).unwrap_or(usize::MAX));
                    *rem -= n as u64;
                    if *rem == 0 {
                        *self = Decoder::Done;
                    }
                    return Ok(Decoded::Frame(Frame::data(buf.split_to(n).freeze())));
                }
                Decoder::Close => {
                    if !buf.is_empty() {
                        return Ok(Decoded::Frame(Frame::data(buf.split().freeze())));
                    }
                    if eof {
                        *self = Decoder::Done;
                        return Ok(Decoded::End);
                    }
                    return Ok(Decoded::More);
                }
                Decoder::Chunked(chunk) => match Self::chunk(chunk, buf)? {
                    Some(Decoded::End) => *self = Decoder::Done,
                    Some(d @ Decoded::Frame(_)) if matches!(chunk, Chunk::Trailers) => {
                        *self = Decoder::Done;
                        return Ok(d);
                    }
                    Some(d) => return Ok(d),
                    None if eof => return Err(H1Error::Incomplete),
                    None => return Ok(Decoded::More),
                },
            }
        }
    }

    /// One step of a chunked body: `None` if it needs more bytes; a trailers
    /// frame or `End` once the last chunk is read.
    fn chunk(chunk: &mut Chunk, buf: &mut BytesMut) -> Result<Option<Decoded>, H1Error> {
        loop {
            match *chunk {
                Chunk::Size => match httparse::parse_chunk_size(buf) {
                    // Stricter than httparse, as hyper is: at least one hex
                    // digit, a CRLF end, no control byte in an extension.
                    _ if buf.first().is_some_and(|b| !b.is_ascii_hexdigit()) => {
                        return Err(H1Error::Invalid("chunk size line"));
                    }
                    Ok(httparse::Status::Complete((at, size))) => {
                        let line = &buf[..at];
                        let ok = at <= MAX_CHUNK_LINE
                            && line.ends_with(b"\r\n")
                            && line[..at - 2]
                                .iter()
                                .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f));
                        if !ok {
                            return Err(H1Error::Invalid("chunk size line"));
                        }
                        buf.advance(at);
                        *chunk = if size == 0 {
                            Chunk::Trailers
                        } else {
                            Chunk::Data(size)
                        };
                    }
                    Ok(httparse::Status::Partial) if buf.len() <= MAX_CHUNK_LINE => {
                        return Ok(None);
                    }
                    _ => return Err(H1Error::Invalid("chunk size line")),
                },
                Chunk::Data(rem) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let n = buf.len().min(usize::try_from(rem).unwrap_or(usize::MAX));
                    let rest = rem - n as u64;
                    *chunk = if rest == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(rest)
                    };
                    return Ok(Some(Decoded::Frame(Frame::data(buf.split_to(n).freeze()))));
                }
                Chunk::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(H1Error::Invalid("chunk data does not end with CRLF"));
                    }
                    buf.advance(2);
                    *chunk = Chunk::Size;
                }
                Chunk::Trailers => {
                    if buf.starts_with(b"\r\n") {
                        buf.advance(2);
                        return Ok(Some(Decoded::End));
                    }
                    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    let (len, count) = match httparse::parse_headers(buf, &mut fields) {
                        Ok(httparse::Status::Complete((len, f))) => (len, f.len()),
                        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {
                            return Ok(None);
                        }
                        Ok(httparse::Status::Partial) => return Err(H1Error::TooLarge),
                        Err(e) => return Err(e.into()),
                    };
                    let mut trailers = HeaderMap::with_capacity(count);
                    for f in &fields[..count] {
                        if let (Ok(n), Ok(v)) = (
                            HeaderName::from_bytes(f.name.as_bytes()),
                            HeaderValue::from_bytes(f.value),
                        ) {
                            trailers.append(n, v);
                        }
                    }
                    buf.advance(len);
                    return Ok(Some(Decoded::Frame(Frame::trailers(trailers))));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
