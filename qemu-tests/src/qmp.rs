//! QEMU Machine Protocol: screenshots of the display (tty1) and key
//! presses.

use crate::{HarnessError, io};
use serde_json::{Value, json};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// A QMP session.
pub struct Qmp {
    reader: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Qmp {
    /// Connects, reads the greeting and enters command mode.
    pub async fn connect(socket: &Path) -> Result<Self, HarnessError> {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(io(format!("connect to QMP {}", socket.display())))?;
        let (reader, writer) = stream.into_split();
        let mut qmp = Self {
            reader: BufReader::new(reader).lines(),
            writer,
        };
        let greeting = qmp.next_message().await?;
        if greeting.get("QMP").is_none() {
            return Err(HarnessError::Qmp(format!("unexpected greeting {greeting}")));
        }
        qmp.execute("qmp_capabilities", json!({})).await?;
        Ok(qmp)
    }

    async fn next_message(&mut self) -> Result<Value, HarnessError> {
        let line = self
            .reader
            .next_line()
            .await
            .map_err(io("read from QMP"))?
            .ok_or_else(|| HarnessError::Qmp("connection closed".into()))?;
        serde_json::from_str(&line).map_err(|e| HarnessError::Qmp(format!("{e}: {line}")))
    }

    /// Runs a command and returns its `return` value (events are skipped).
    pub async fn execute(
        &mut self,
        command: &str,
        arguments: Value,
    ) -> Result<Value, HarnessError> {
        let mut line = json!({"execute": command, "arguments": arguments}).to_string();
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .await
            .map_err(io("write to QMP"))?;
        loop {
            let msg = self.next_message().await?;
            if let Some(ret) = msg.get("return") {
                return Ok(ret.clone());
            }
            if let Some(err) = msg.get("error") {
                return Err(HarnessError::Qmp(format!("{command}: {err}")));
            }
        }
    }

    /// Saves the display (tty1) as a PNG.
    pub async fn screendump(&mut self, path: &Path) -> Result<(), HarnessError> {
        self.execute(
            "screendump",
            json!({"filename": path.display().to_string(), "format": "png"}),
        )
        .await
        .map(drop)
    }

    /// Presses one key chord, given as QEMU qcodes (`["shift", "a"]`).
    pub async fn send_key(&mut self, qcodes: &[&str]) -> Result<(), HarnessError> {
        let keys: Vec<Value> = qcodes
            .iter()
            .map(|k| json!({"type": "qcode", "data": k}))
            .collect();
        self.execute("send-key", json!({"keys": keys}))
            .await
            .map(drop)
    }

    /// Types text on the keyboard, one key press per character.
    pub async fn type_text(&mut self, text: &str) -> Result<(), HarnessError> {
        for c in text.chars() {
            let chord = qcodes(c).ok_or_else(|| HarnessError::Qmp(format!("no key for {c:?}")))?;
            let refs: Vec<&str> = chord.iter().map(String::as_str).collect();
            self.send_key(&refs).await?;
        }
        Ok(())
    }
}

/// The qcodes that type `c` on a US keyboard.
fn qcodes(c: char) -> Option<Vec<String>> {
    let plain = |k: &str| Some(vec![k.to_owned()]);
    match c {
        'a'..='z' | '0'..='9' => plain(&c.to_string()),
        'A'..='Z' => Some(vec!["shift".into(), c.to_ascii_lowercase().to_string()]),
        ' ' => plain("spc"),
        '\n' => plain("ret"),
        '-' => plain("minus"),
        '.' => plain("dot"),
        '/' => plain("slash"),
        ',' => plain("comma"),
        '=' => plain("equal"),
        ':' => Some(vec!["shift".into(), "semicolon".into()]),
        '_' => Some(vec!["shift".into(), "minus".into()]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::qcodes;

    #[test]
    fn keys() {
        assert_eq!(qcodes('v').unwrap(), ["v"]);
        assert_eq!(qcodes('D').unwrap(), ["shift", "d"]);
        assert_eq!(qcodes('\n').unwrap(), ["ret"]);
        assert!(qcodes('é').is_none());
    }
}
