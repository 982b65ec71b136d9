//! Keys to commands. Every command is reachable without function keys
//! (serial terminals often lack them); F-keys are shortcuts only.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for. Screens interpret movement and text themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Re-read now.
    Refresh,
    /// Next screen.
    NextScreen,
    /// Previous screen.
    PrevScreen,
    /// Go to the install screen.
    Install,
    /// Leave the console (the service manager starts it again on a host).
    Quit,
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Accept / confirm.
    Enter,
    /// Go back / cancel.
    Back,
    /// Delete the last typed character.
    Backspace,
    /// A typed character.
    Char(char),
}

/// The command bound to `key` when the focused widget takes text
/// (`typing`), or when it does not.
pub fn command(key: KeyEvent, typing: bool) -> Option<Command> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Command::Quit,
        KeyCode::Char('l') if ctrl => Command::Refresh,
        KeyCode::Tab => Command::NextScreen,
        KeyCode::BackTab => Command::PrevScreen,
        KeyCode::Up => Command::Up,
        KeyCode::Down => Command::Down,
        KeyCode::Enter => Command::Enter,
        KeyCode::Esc => Command::Back,
        KeyCode::Backspace => Command::Backspace,
        KeyCode::F(5) => Command::Refresh,
        KeyCode::F(2) => Command::Install,
        KeyCode::Char(c) if typing && !ctrl => Command::Char(c),
        KeyCode::Char('r' | 'R') => Command::Refresh,
        KeyCode::Char('i' | 'I') => Command::Install,
        KeyCode::Char('q' | 'Q') => Command::Quit,
        KeyCode::Char('k') => Command::Up,
        KeyCode::Char('j') => Command::Down,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_and_f_keys() {
        assert_eq!(
            command(key(KeyCode::Char('r')), false),
            Some(Command::Refresh)
        );
        assert_eq!(command(key(KeyCode::F(5)), false), Some(Command::Refresh));
        assert_eq!(
            command(key(KeyCode::Char('i')), false),
            Some(Command::Install)
        );
        assert_eq!(command(key(KeyCode::F(2)), false), Some(Command::Install));
        assert_eq!(command(key(KeyCode::Char('q')), false), Some(Command::Quit));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(command(ctrl_c, true), Some(Command::Quit));
        assert_eq!(command(key(KeyCode::Char('x')), false), None);
    }

    #[test]
    fn typing_takes_letters() {
        assert_eq!(
            command(key(KeyCode::Char('q')), true),
            Some(Command::Char('q'))
        );
        assert_eq!(command(key(KeyCode::Enter), true), Some(Command::Enter));
        assert_eq!(command(key(KeyCode::Esc), true), Some(Command::Back));
    }
}
