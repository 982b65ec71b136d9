//! Keys to commands. Every command is reachable without function keys
//! (serial terminals often lack them); F-keys are shortcuts only.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for. Screens interpret movement, letters and text
/// themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Re-read now.
    Refresh,
    /// Next screen (in a form that must not be left: next field).
    NextScreen,
    /// Previous screen (in a form that must not be left: previous field).
    PrevScreen,
    /// Go to the install screen.
    Install,
    /// Lock the console.
    Lock,
    /// Confirm the pending network change.
    ConfirmApply,
    /// Restore the previous network configuration now.
    RevertApply,
    /// Leave the console (the service manager starts it again on a host).
    Quit,
    /// Move up.
    Up,
    /// Move down.
    Down,
    /// Move left / previous option.
    Left,
    /// Move right / next option.
    Right,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// To the start.
    Home,
    /// To the end.
    End,
    /// Accept / confirm / next field.
    Enter,
    /// Go back / cancel.
    Back,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Space outside text: toggle or cycle a choice.
    Toggle,
    /// A character typed into a text field.
    Char(char),
    /// A letter outside text: a screen's action key (lower case).
    Letter(char),
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
        KeyCode::Left => Command::Left,
        KeyCode::Right => Command::Right,
        KeyCode::PageUp => Command::PageUp,
        KeyCode::PageDown => Command::PageDown,
        KeyCode::Home => Command::Home,
        KeyCode::End => Command::End,
        KeyCode::Enter => Command::Enter,
        KeyCode::Esc => Command::Back,
        KeyCode::Backspace => Command::Backspace,
        KeyCode::Delete => Command::Delete,
        KeyCode::F(2) => Command::Install,
        KeyCode::F(5) => Command::Refresh,
        KeyCode::F(8) => Command::RevertApply,
        KeyCode::F(9) => Command::ConfirmApply,
        KeyCode::F(12) => Command::Lock,
        KeyCode::Char(c) if typing && !ctrl => Command::Char(c),
        KeyCode::Char(' ') => Command::Toggle,
        KeyCode::Char(c) if !ctrl => letter(c.to_ascii_lowercase()),
        _ => return None,
    })
}

/// Letters with the same meaning on every screen; the others belong to
/// the screen shown.
fn letter(c: char) -> Command {
    match c {
        'r' => Command::Refresh,
        'i' => Command::Install,
        'q' => Command::Quit,
        'l' => Command::Lock,
        'c' => Command::ConfirmApply,
        'x' => Command::RevertApply,
        'k' => Command::Up,
        'j' => Command::Down,
        other => Command::Letter(other),
    }
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
            command(key(KeyCode::Char('I')), false),
            Some(Command::Install)
        );
        assert_eq!(command(key(KeyCode::F(2)), false), Some(Command::Install));
        assert_eq!(command(key(KeyCode::Char('q')), false), Some(Command::Quit));
        assert_eq!(command(key(KeyCode::Char('l')), false), Some(Command::Lock));
        assert_eq!(command(key(KeyCode::F(12)), true), Some(Command::Lock));
        assert_eq!(
            command(key(KeyCode::Char('c')), false),
            Some(Command::ConfirmApply)
        );
        assert_eq!(
            command(key(KeyCode::F(9)), true),
            Some(Command::ConfirmApply)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(command(ctrl_c, true), Some(Command::Quit));
        assert_eq!(
            command(key(KeyCode::Char('V')), false),
            Some(Command::Letter('v'))
        );
        assert_eq!(
            command(key(KeyCode::Char(' ')), false),
            Some(Command::Toggle)
        );
    }

    #[test]
    fn typing_takes_letters() {
        assert_eq!(
            command(key(KeyCode::Char('q')), true),
            Some(Command::Char('q'))
        );
        assert_eq!(
            command(key(KeyCode::Char(' ')), true),
            Some(Command::Char(' '))
        );
        assert_eq!(command(key(KeyCode::Enter), true), Some(Command::Enter));
        assert_eq!(command(key(KeyCode::Esc), true), Some(Command::Back));
        assert_eq!(command(key(KeyCode::Tab), true), Some(Command::NextScreen));
    }
}
