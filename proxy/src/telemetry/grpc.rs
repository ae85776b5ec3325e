//! Counting gRPC messages as a body streams past: the length-prefixed frames
//! (1 byte compressed flag, 4 bytes big-endian length, the message) in DATA
//! that splits and packs them arbitrarily. Nothing is buffered or copied: the
//! counter keeps at most the 4 length bytes of a header cut by a DATA boundary.
//!
//! As Envoy's `FrameInspector` (behind Istio's `istio_request_messages_total`
//! and `istio_response_messages_total`), a message counts when its header
//! starts, and a byte that cannot start a frame (a flag other than 0 or 1)
//! stops the counting for the rest of the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts a request body's messages into a total its call reads when it is
/// recorded (the body may live on in another task).
#[derive(Debug)]
pub(crate) struct MessageTap {
    frames: FrameCounter,
    total: Arc<AtomicU64>,
}

impl MessageTap {
    /// A tap adding to `total`.
    pub(crate) fn new(total: Arc<AtomicU64>) -> Self {
        Self {
            frames: FrameCounter::default(),
            total,
        }
    }

    /// Counts the messages that start in `data`.
    pub(crate) fn feed(&mut self, data: &[u8]) {
        let n = self.frames.feed(data);
        if n > 0 {
            self.total.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// Where the counter is in the frame stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a frame's first byte (the compressed flag).
    Flag,
    /// Inside the length: `got` of its 4 bytes read, accumulated in `len`.
    Length { got: u8, len: u32 },
    /// Inside a message: this many bytes left.
    Message(u64),
    /// Not gRPC framing: counting stopped.
    Broken,
}

/// An incremental counter of gRPC messages.
#[derive(Debug, Clone)]
pub(crate) struct FrameCounter {
    state: State,
    count: u64,
}

impl Default for FrameCounter {
    fn default() -> Self {
        Self {
            state: State::Flag,
            count: 0,
        }
    }
}

impl FrameCounter {
    /// Reads the next bytes of the stream; returns how many messages started in them.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> u64 {
        let before = self.count;
        while !data.is_empty() {
            match self.state {
                State::Flag => {
                    if data[0] > 1 {
                        self.state = State::Broken;
                        break;
                    }
                    self.count += 1;
                    self.state = State::Length { got: 0, len: 0 };
                    data = &data[1..];
                }
                State::Length { got, len } => {
                    let len = (len << 8) | u32::from(data[0]);
                    data = &data[1..];
                    self.state = if got == 3 {
                        if len == 0 {
                            State::Flag
                        } else {
                            State::Message(u64::from(len))
                        }
                    } else {
                        State::Length { got: got + 1, len }
                    };
                }
                State::Message(left) => {
                    let n = left.min(data.len() as u64);
                    data = &data[n as usize..];
                    self.state = if n == left {
                        State::Flag
                    } else {
                        State::Message(left - n)
                    };
                }
                State::Broken => break,
            }
        }
        self.count - before
    }

    /// Messages counted so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(compressed: bool, msg: &[u8]) -> Vec<u8> {
        let mut f = vec![u8::from(compressed)];
        f.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        f.extend_from_slice(msg);
        f
    }

    /// Three messages (one empty, one compressed) as one byte stream.
    fn stream() -> Vec<u8> {
        let mut s = frame(false, b"hello");
        s.extend(frame(false, b""));
        s.extend(frame(true, &[7u8; 300]));
        s
    }

    #[test]
    fn packed_messages_in_one_data_frame() {
        let mut c = FrameCounter::default();
        assert_eq!(c.feed(&stream()), 3);
        assert_eq!(c.count(), 3);
    }

    #[test]
    fn every_split_of_the_stream_counts_the_same() {
        let s = stream();
        for cut in 0..=s.len() {
            for cut2 in cut..=s.len() {
                let mut c = FrameCounter::default();
                let n = c.feed(&s[..cut]) + c.feed(&s[cut..cut2]) + c.feed(&s[cut2..]);
                assert_eq!((n, c.count()), (3, 3), "cut at {cut} and {cut2}");
            }
        }
    }

    #[test]
    fn byte_by_byte_counts_when_each_header_starts() {
        let s = stream();
        let mut c = FrameCounter::default();
        let starts: Vec<usize> = (0..s.len()).filter(|&i| c.feed(&s[i..=i]) == 1).collect();
        // "hello" frame at 0 (10 bytes), the empty one at 10 (5), the last at 15.
        assert_eq!(starts, vec![0, 10, 15]);
    }

    #[test]
    fn zero_length_messages_and_empty_data() {
        let mut c = FrameCounter::default();
        assert_eq!(c.feed(&[]), 0);
        let mut s = frame(false, b"");
        s.extend(frame(false, b""));
        assert_eq!(c.feed(&s), 2);
        assert_eq!(c.feed(&[]), 0);
        assert_eq!(c.count(), 2);
    }

    #[test]
    fn a_message_cut_short_still_counts_once() {
        let s = frame(false, &[1u8; 100]);
        let mut c = FrameCounter::default();
        assert_eq!(c.feed(&s[..20]), 1);
        assert_eq!(c.count(), 1);
    }

    #[test]
    fn a_large_length_is_read_big_endian() {
        // 0x00010000 = 65,536 bytes: a byte at 65,536 is still inside the message.
        let mut c = FrameCounter::default();
        assert_eq!(c.feed(&[0, 0, 1, 0, 0]), 1);
        assert_eq!(c.feed(&vec![9u8; 65_535]), 0);
        assert_eq!(c.feed(&[9]), 0);
        assert_eq!(c.feed(&frame(false, b"x")), 1);
    }

    #[test]
    fn not_grpc_framing_stops_counting() {
        let mut c = FrameCounter::default();
        assert_eq!(c.feed(b"GET / HTTP/1.1\r\n"), 0);
        assert_eq!(c.feed(&frame(false, b"late")), 0);
        assert_eq!(c.count(), 0);
    }
}
