//! Splitting a byte stream into JSON texts. OVSDB (RFC 7047 §4) sends
//! JSON-RPC objects back to back with no delimiter, so a message ends where
//! its outermost brace closes.

use thiserror::Error;

/// Largest message accepted. OVN southbound snapshots of big deployments
/// reach tens of MiB; anything past this is a broken peer.
pub const MAX_MESSAGE: usize = 256 << 20;

/// Errors of framing.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// Something other than a JSON object started a message.
    #[error("expected a JSON object, found byte {0:#04x}")]
    NotAnObject(u8),
    /// A message grew past [`MAX_MESSAGE`].
    #[error("message larger than {MAX_MESSAGE} bytes")]
    TooLarge,
}

/// Accumulates bytes and yields complete JSON objects.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Scan position within `buf` of the message being assembled.
    pos: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, if the buffer holds one.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        while self.pos < self.buf.len() {
            let byte = self.buf[self.pos];
            self.pos += 1;
            if self.depth == 0 {
                match byte {
                    b' ' | b'\t' | b'\r' | b'\n' => {
                        // Whitespace between messages: drop it.
                        self.buf.drain(..self.pos);
                        self.pos = 0;
                        continue;
                    }
                    b'{' => self.depth = 1,
                    other => return Err(FrameError::NotAnObject(other)),
                }
                continue;
            }
            if self.in_string {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let message: Vec<u8> = self.buf.drain(..self.pos).collect();
                        self.pos = 0;
                        return Ok(Some(message));
                    }
                }
                _ => {}
            }
        }
        if self.buf.len() > MAX_MESSAGE {
            return Err(FrameError::TooLarge);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(framer: &mut Framer) -> Vec<String> {
        let mut out = vec![];
        while let Some(m) = framer.next_message().unwrap() {
            out.push(String::from_utf8(m).unwrap());
        }
        out
    }

    #[test]
    fn back_to_back_objects_with_tricky_strings() {
        let mut f = Framer::new();
        f.push(br#"{"a":"}{"}  {"b":["\"]",{"c":"\\"}]}"#);
        f.push(b"\n{\"id\":1}");
        assert_eq!(
            all(&mut f),
            vec![
                r#"{"a":"}{"}"#,
                r#"{"b":["\"]",{"c":"\\"}]}"#,
                r#"{"id":1}"#
            ]
        );
    }

    #[test]
    fn garbage_is_refused() {
        let mut f = Framer::new();
        f.push(b"[1]");
        assert_eq!(f.next_message(), Err(FrameError::NotAnObject(b'[')));
    }

    proptest! {
        /// However the stream is cut into reads, the same messages come out.
        #[test]
        fn any_split_yields_the_same_messages(
            values in proptest::collection::vec(
                proptest::collection::btree_map("[a-z\"\\\\{}\\[\\] ]{0,6}", "[a-z\"\\\\{}]{0,6}", 0..4),
                1..5,
            ),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            let texts: Vec<String> = values
                .iter()
                .map(|m| serde_json::to_string(m).unwrap())
                .collect();
            let stream = texts.join(" ");
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.sort_unstable();
            let mut f = Framer::new();
            let mut out = vec![];
            let mut last = 0;
            for cut in cuts.into_iter().chain([stream.len()]) {
                f.push(&stream.as_bytes()[last..cut]);
                last = cut;
                out.extend(all(&mut f));
            }
            prop_assert_eq!(out, texts);
        }
    }
}
