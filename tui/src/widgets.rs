//! Reusable input widgets: their state and how keys change it. Drawing
//! them is in `view::widgets`.

use crate::keymap::Command;
use std::fmt;

/// Longest text accepted in a field: enough for a list of addresses,
/// short enough that a stuck key cannot grow the state without bound.
pub const MAX_TEXT: usize = 200;

/// A one-line text field with a cursor. Masked fields draw `*` per
/// character, and keep their text out of `Debug` too.
#[derive(Clone, PartialEq, Eq)]
pub struct TextField {
    value: String,
    /// Cursor position in characters.
    cursor: usize,
    /// Draw `*` instead of the characters.
    pub masked: bool,
    /// Shown on screen but kept out of `Debug` (a join token).
    secret: bool,
    /// Most characters the field takes.
    limit: usize,
}

impl Default for TextField {
    fn default() -> Self {
        Self::new("")
    }
}

impl TextField {
    /// A field holding `value`, cursor at its end.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        Self {
            cursor: value.chars().count(),
            value,
            masked: false,
            secret: false,
            limit: MAX_TEXT,
        }
    }

    /// An empty masked field, for passwords.
    pub fn masked() -> Self {
        Self {
            masked: true,
            ..Self::default()
        }
    }

    /// An empty field for a secret the operator must see to check it (a
    /// pasted join token): drawn as typed, kept out of `Debug`, and
    /// taking up to `limit` characters.
    pub fn secret(limit: usize) -> Self {
        Self {
            secret: true,
            limit,
            ..Self::default()
        }
    }

    /// The text.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Cursor position in characters.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Replaces the text, cursor at its end.
    pub fn set(&mut self, value: impl Into<String>) {
        self.value = value.into();
        self.cursor = self.value.chars().count();
    }

    /// Empties the field.
    pub fn clear(&mut self) {
        self.set(String::new());
    }

    /// What to draw: the text, or one `*` per character when masked.
    pub fn display(&self) -> String {
        if self.masked {
            "*".repeat(self.value.chars().count())
        } else {
            self.value.clone()
        }
    }

    /// Applies an editing command; returns whether the text changed.
    /// Commands that are not editing are left to the caller.
    pub fn edit(&mut self, command: Command) -> bool {
        let len = self.value.chars().count();
        match command {
            Command::Char(c) if len < self.limit && !c.is_control() => {
                let at = self.byte_index(self.cursor);
                self.value.insert(at, c);
                self.cursor += 1;
                true
            }
            Command::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_index(self.cursor);
                self.value.remove(at);
                true
            }
            Command::Delete if self.cursor < len => {
                let at = self.byte_index(self.cursor);
                self.value.remove(at);
                true
            }
            Command::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                false
            }
            Command::Right => {
                self.cursor = (self.cursor + 1).min(len);
                false
            }
            Command::Home => {
                self.cursor = 0;
                false
            }
            Command::End => {
                self.cursor = len;
                false
            }
            _ => false,
        }
    }

    fn byte_index(&self, chars: usize) -> usize {
        self.value
            .char_indices()
            .nth(chars)
            .map_or(self.value.len(), |(i, _)| i)
    }
}

// Secrets (passwords, the Ceph key, a join token) sit in masked or
// secret fields, and the state they belong to is printed by tests and
// could be by logs: such a field shows only how long its text is.
impl fmt::Debug for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TextField");
        if self.masked || self.secret {
            d.field(
                "value",
                &format_args!("<{} chars>", self.value.chars().count()),
            );
        } else {
            d.field("value", &self.value);
        }
        d.field("cursor", &self.cursor)
            .field("masked", &self.masked)
            .finish()
    }
}

/// Edits `field`; a change clears its inline message, which was about
/// the old text.
pub fn edit_clearing(field: &mut TextField, message: &mut Option<String>, command: Command) {
    if field.edit(command) {
        *message = None;
    }
}

/// One of a fixed set of options, cycled with Left/Right or Space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    options: Vec<String>,
    index: usize,
}

impl Choice {
    /// A choice among `options`, the first selected.
    pub fn new<S: Into<String>>(options: impl IntoIterator<Item = S>) -> Self {
        Self {
            options: options.into_iter().map(Into::into).collect(),
            index: 0,
        }
    }

    /// The same choice with option `index` selected.
    pub fn with(mut self, index: usize) -> Self {
        self.select(index);
        self
    }

    /// Index of the selected option.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Selects option `index` (ignored when out of range).
    pub fn select(&mut self, index: usize) {
        if index < self.options.len() {
            self.index = index;
        }
    }

    /// The selected option's label; empty when there are no options.
    pub fn label(&self) -> &str {
        self.options.get(self.index).map_or("", String::as_str)
    }

    /// Every option.
    pub fn options(&self) -> &[String] {
        &self.options
    }

    /// Applies Left/Right/Space; returns whether the selection changed.
    pub fn edit(&mut self, command: Command) -> bool {
        let n = self.options.len();
        if n < 2 {
            return false;
        }
        let before = self.index;
        match command {
            Command::Right | Command::Toggle => self.index = (self.index + 1) % n,
            Command::Left => self.index = (self.index + n - 1) % n,
            _ => {}
        }
        before != self.index
    }
}

/// A scroll position counted from the end of a list, so that a list
/// that grows at the end (a journal) keeps showing its newest lines
/// without the state knowing the screen's height.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TailScroll {
    /// Lines scrolled up from the end; 0 shows the newest.
    pub from_end: usize,
}

/// Lines moved by Page Up/Down.
pub const PAGE: usize = 10;

impl TailScroll {
    /// Applies a movement command for a list of `len` lines; returns
    /// whether it was one.
    pub fn scroll(&mut self, command: Command, len: usize) -> bool {
        let max = len.saturating_sub(1);
        self.from_end = match command {
            Command::Up => self.from_end + 1,
            Command::Down => self.from_end.saturating_sub(1),
            Command::PageUp => self.from_end + PAGE,
            Command::PageDown => self.from_end.saturating_sub(PAGE),
            Command::Home => max,
            Command::End => 0,
            _ => return false,
        }
        .min(max);
        true
    }
}

/// Moves a cursor over `len` rows with Up/Down; returns whether the
/// command was a movement. (Home/End stay with text fields.)
pub fn move_cursor(cursor: &mut usize, command: Command, len: usize) -> bool {
    match command {
        Command::Up => *cursor = cursor.saturating_sub(1),
        Command::Down => *cursor = (*cursor + 1).min(len.saturating_sub(1)),
        _ => return false,
    }
    true
}

/// Splits a comma- or space-separated list, dropping empty items.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', ' ', '\t', ';'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_in_the_middle_and_masking() {
        let mut f = TextField::new("ac");
        f.edit(Command::Left);
        assert!(f.edit(Command::Char('b')));
        assert_eq!((f.value(), f.cursor()), ("abc", 2));
        f.edit(Command::Home);
        assert!(f.edit(Command::Delete));
        assert_eq!(f.value(), "bc");
        assert!(!f.edit(Command::Backspace), "nothing before the cursor");
        f.edit(Command::End);
        f.edit(Command::Backspace);
        assert_eq!(f.value(), "b");
        let mut p = TextField::masked();
        p.edit(Command::Char('é'));
        p.edit(Command::Char('x'));
        assert_eq!((p.value(), p.display().as_str()), ("éx", "**"));
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("éx") && debug.contains("<2 chars>"),
            "{debug}"
        );
    }

    #[test]
    fn secret_fields_show_their_text_but_not_in_debug() {
        let mut f = TextField::secret(300);
        for _ in 0..260 {
            f.edit(Command::Char('a'));
        }
        assert_eq!(f.value().len(), 260, "past the usual limit");
        assert_eq!(f.display(), f.value());
        let debug = format!("{f:?}");
        assert!(
            !debug.contains("aaa") && debug.contains("<260 chars>"),
            "{debug}"
        );
        let mut plain = TextField::new("");
        for _ in 0..260 {
            plain.edit(Command::Char('a'));
        }
        assert_eq!(plain.value().len(), MAX_TEXT);
    }

    #[test]
    fn choice_cycles_both_ways() {
        let mut c = Choice::new(["a", "b", "c"]);
        assert!(c.edit(Command::Left));
        assert_eq!(c.label(), "c");
        c.edit(Command::Toggle);
        assert_eq!(c.label(), "a");
        assert!(!Choice::new(["only"]).edit(Command::Right));
    }

    #[test]
    fn tail_scroll_is_clamped() {
        let mut s = TailScroll::default();
        s.scroll(Command::PageUp, 5);
        assert_eq!(s.from_end, 4);
        s.scroll(Command::End, 5);
        assert_eq!(s.from_end, 0);
        s.scroll(Command::Down, 5);
        assert_eq!(s.from_end, 0);
    }

    #[test]
    fn lists_split_on_commas_and_spaces() {
        assert_eq!(split_list(" a, b  c,,"), ["a", "b", "c"]);
        assert!(split_list("  ").is_empty());
    }
}
