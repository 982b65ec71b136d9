//! The guest's serial console: everything it prints is kept (and written
//! to a log file), and text can be typed into it.

use crate::{HarnessError, io};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;

/// Size of the terminal emulated for [`Serial::screen`]: the console draws
/// at 80x24 on a serial line.
const ROWS: std::num::NonZeroU16 = std::num::NonZeroU16::new(24).unwrap();
const COLS: std::num::NonZeroU16 = std::num::NonZeroU16::new(80).unwrap();

/// A connected serial console.
pub struct Serial {
    output: Arc<Mutex<Vec<u8>>>,
    screen: Arc<Mutex<vt100::Parser>>,
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
}

/// Removes ANSI escape sequences (the console draws with them) and
/// carriage returns, leaving the text a person would read.
pub fn plain(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // Character-set designation (ESC ( B) takes one more byte.
                Some('(' | ')') => {
                    chars.next();
                    chars.next();
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

impl Serial {
    /// Connects to QEMU's serial chardev socket, logging to `log`.
    pub async fn connect(socket: &Path, log: &Path) -> Result<Self, HarnessError> {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(io(format!("connect to serial socket {}", socket.display())))?;
        let (mut reader, writer) = stream.into_split();
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let term = Arc::clone(&screen);
        let mut file = tokio::fs::File::create(log)
            .await
            .map_err(io(format!("create {}", log.display())))?;
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
                term.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .process(&buf[..n]);
                let _ = file.write_all(&buf[..n]).await;
            }
        });
        Ok(Self {
            output,
            screen,
            writer: tokio::sync::Mutex::new(writer),
        })
    }

    /// How many bytes have been received so far (a mark for
    /// [`Serial::wait_for_after`]).
    pub fn mark(&self) -> usize {
        self.output.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Everything received since byte `mark`, as plain text.
    pub fn text_after(&self, mark: usize) -> String {
        let out = self.output.lock().unwrap_or_else(|e| e.into_inner());
        plain(&out[mark.min(out.len())..])
    }

    /// The last `n` characters of plain text, for error messages.
    pub fn tail(&self, n: usize) -> String {
        let text = self.text_after(0);
        let start = text.char_indices().rev().nth(n).map_or(0, |(i, _)| i);
        text[start..].to_owned()
    }

    /// Waits until `needle` appears in the output.
    pub async fn wait_for(&self, needle: &str, timeout: Duration) -> Result<(), HarnessError> {
        self.wait_for_after(0, needle, timeout).await
    }

    /// Waits until `needle` appears in the output after byte `mark`.
    pub async fn wait_for_after(
        &self,
        mark: usize,
        needle: &str,
        timeout: Duration,
    ) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.text_after(mark).contains(needle) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Timeout {
                    what: format!("{needle:?} on the serial console"),
                    seconds: timeout.as_secs(),
                    tail: self.tail(2000),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What a terminal attached to the serial line shows now (80x24):
    /// full-screen programs redraw only what changed, so their text is
    /// read from an emulated screen rather than from the byte stream.
    pub fn screen(&self) -> String {
        self.screen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .screen()
            .contents()
    }

    /// Waits until `needle` is on the emulated screen.
    pub async fn wait_for_screen(
        &self,
        needle: &str,
        timeout: Duration,
    ) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.screen().contains(needle) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Timeout {
                    what: format!("{needle:?} on the serial terminal's screen"),
                    seconds: timeout.as_secs(),
                    tail: self.screen(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Types `bytes` into the serial console.
    pub async fn send(&self, bytes: &[u8]) -> Result<(), HarnessError> {
        let mut writer = self.writer.lock().await;
        writer
            .write_all(bytes)
            .await
            .map_err(io("write to the serial console"))?;
        writer.flush().await.map_err(io("flush the serial console"))
    }
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn strips_escapes() {
        assert_eq!(
            plain(b"\x1b[1;1H\x1b[7m Host\x1b[0m  hv-01\r\n"),
            " Host  hv-01\n"
        );
        assert_eq!(plain(b"a\x1b(Bb"), "ab");
    }
}
