//! Keys to commands. Every command is reachable without function keys;
//! F-keys are shortcuts only (serial terminals often lack them).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Re-read the host now.
    Refresh,
    /// Leave the console (the service manager starts it again on a host).
    Quit,
}

/// The command bound to `key`, if any.
pub fn command(key: KeyEvent) -> Option<Command> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    match (key.code, key.modifiers) {
        (KeyCode::Char('r') | KeyCode::Char('R') | KeyCode::F(5), _) => Some(Command::Refresh),
        (KeyCode::Char('q') | KeyCode::Char('Q'), _) => Some(Command::Quit),
        (KeyCode::Char('c'), m) if m.contains(KeyModifiers::CONTROL) => Some(Command::Quit),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_f_keys() {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        assert_eq!(command(key(KeyCode::Char('r'))), Some(Command::Refresh));
        assert_eq!(command(key(KeyCode::F(5))), Some(Command::Refresh));
        assert_eq!(command(key(KeyCode::Char('q'))), Some(Command::Quit));
        assert_eq!(
            command(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(command(key(KeyCode::Char('x'))), None);
    }
}
