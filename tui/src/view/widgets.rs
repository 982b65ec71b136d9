//! Drawing input widgets: a labelled row per field, the focused one
//! marked, its inline message on the line below.

use crate::widgets::{Choice, TextField};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};

/// Width of the label column.
pub const LABEL: usize = 16;

/// The marker and label of a row.
fn head(label: &str, focused: bool) -> Vec<Span<'static>> {
    let marker = if focused { " > " } else { "   " };
    let label = Span::raw(format!("{label:<LABEL$}"));
    vec![
        Span::raw(marker),
        if focused { label.bold() } else { label },
    ]
}

/// A text field row; the cursor cell is drawn reversed when focused.
pub fn text(label: &str, field: &TextField, focused: bool, placeholder: &str) -> Line<'static> {
    let mut spans = head(label, focused);
    let shown = field.display();
    if !focused {
        if shown.is_empty() {
            spans.push(Span::raw(placeholder.to_owned()).dim());
        } else {
            spans.push(Span::raw(shown));
        }
        return Line::from(spans);
    }
    let chars: Vec<char> = shown.chars().collect();
    spans.extend(cursor_spans(&chars, field.cursor().min(chars.len())));
    Line::from(spans)
}

/// The text around the cursor: underlined, the cursor cell reversed (a
/// space after the text when the cursor is there).
fn cursor_spans(chars: &[char], at: usize) -> Vec<Span<'static>> {
    let before: String = chars[..at].iter().collect();
    let under = chars.get(at).map_or(" ".to_owned(), char::to_string);
    let after: String = chars
        .get(at + 1..)
        .map_or(String::new(), |c| c.iter().collect());
    vec![
        Span::raw(before).underlined(),
        Span::styled(under, Style::new().reversed()),
        Span::raw(after).underlined(),
    ]
}

/// A text field row no wider than `width` columns, for text longer than
/// a line (a join token): it scrolls sideways to keep the cursor in
/// view, a dim `<` or `>` marking text cut off on that side. Wrapping
/// would push the rows below off the screen instead.
pub fn text_scrolled(
    label: &str,
    field: &TextField,
    focused: bool,
    placeholder: &str,
    width: usize,
) -> Line<'static> {
    let room = width.saturating_sub(3 + LABEL);
    let chars: Vec<char> = field.display().chars().collect();
    // The cursor may sit in the cell after the text.
    let cells = chars.len() + usize::from(focused);
    if cells <= room || room < 4 {
        return text(label, field, focused, placeholder);
    }
    let cursor = field.cursor().min(chars.len());
    let (start, end) = scroll_window(cells, room, focused.then_some(cursor));
    let mut spans = head(label, focused);
    if start > 0 {
        spans.push(Span::raw("<").dim());
    }
    let shown = &chars[start..end.min(chars.len())];
    if focused {
        spans.extend(cursor_spans(shown, cursor - start));
    } else {
        spans.push(Span::raw(shown.iter().collect::<String>()));
    }
    if end < cells {
        spans.push(Span::raw(">").dim());
    }
    Line::from(spans)
}

/// Which cells `[start, end)` of `cells` (more than `room`) to show in
/// `room` columns, one column going to each marker of text cut off: from
/// the start while the cursor is in the first screenful, else ending at
/// the cursor.
fn scroll_window(cells: usize, room: usize, cursor: Option<usize>) -> (usize, usize) {
    match cursor {
        Some(at) if at + 2 > room => {
            let end = at + 1;
            let right = usize::from(end < cells);
            (end - (room - 1 - right), end)
        }
        _ => (0, room - 1),
    }
}

/// Rows `lines` take in `width` columns when wrapped (an estimate for
/// lines longer than that: words may wrap earlier than the last column).
pub fn rows(lines: &[Line<'_>], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let total: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    u16::try_from(total).unwrap_or(u16::MAX)
}

/// A choice row: `< value >` when focused.
pub fn choice(label: &str, choice: &Choice, focused: bool) -> Line<'static> {
    value(label, choice.label(), focused, true)
}

/// A row showing a value; `cycles` draws the Left/Right arrows when
/// focused.
pub fn value(label: &str, text: &str, focused: bool, cycles: bool) -> Line<'static> {
    let mut spans = head(label, focused);
    if focused && cycles {
        spans.push(Span::raw(format!("< {text} >")).reversed());
    } else if focused {
        spans.push(Span::raw(text.to_owned()).reversed());
    } else {
        spans.push(Span::raw(text.to_owned()));
    }
    Line::from(spans)
}

/// A button row.
pub fn button(label: &str, focused: bool) -> Line<'static> {
    let text = format!("[ {label} ]");
    let span = if focused {
        Span::raw(text).reversed().bold()
    } else {
        Span::raw(text)
    };
    Line::from(vec![Span::raw(" ".repeat(LABEL + 3)), span])
}

/// The inline message under a field, if any.
pub fn error(message: Option<&str>) -> Option<Line<'static>> {
    // A short indent: long messages (the agent's) wrap less.
    message.map(|m| Line::from(format!("     ! {m}")).red())
}

/// Pushes `line` and its inline message.
pub fn push(lines: &mut Vec<Line<'static>>, line: Line<'static>, message: Option<&str>) {
    lines.push(line);
    lines.extend(error(message));
}

/// Seconds as `m:ss` (or `h:mm:ss`).
pub fn countdown(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A UTC time of day.
pub fn clock(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::Command;

    fn shown(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn long_text_scrolls_to_keep_the_cursor_in_view() {
        let mut field = TextField::new("abcdefghijklmnopqrstuvwxyz");
        // 3 + 16 columns of marker and label, 10 of text.
        let width = 3 + LABEL + 10;
        let line = text_scrolled("Token", &field, true, "", width);
        let text = shown(&line);
        assert!(text.ends_with("<stuvwxyz "), "{text:?}");
        assert_eq!(line.width(), width);
        field.edit(Command::Home);
        let text = shown(&text_scrolled("Token", &field, true, "", width));
        assert!(text.ends_with("abcdefghi>"), "{text:?}");
        for _ in 0..12 {
            field.edit(Command::Right);
        }
        let line = text_scrolled("Token", &field, true, "", width);
        let text = shown(&line);
        assert!(text.ends_with("<fghijklm>"), "cursor on m: {text:?}");
        assert_eq!(line.width(), width);
        let text = shown(&text_scrolled("Token", &field, false, "", width));
        assert!(text.ends_with("abcdefghi>"), "unfocused: {text:?}");
        let short = TextField::new("abc");
        let text = shown(&text_scrolled("Token", &short, true, "", width));
        assert!(text.ends_with("abc "), "{text:?}");
    }
}
