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
    let at = field.cursor().min(chars.len());
    let before: String = chars[..at].iter().collect();
    let under = chars.get(at).map_or(" ".to_owned(), char::to_string);
    let after: String = chars
        .get(at + 1..)
        .map_or(String::new(), |c| c.iter().collect());
    spans.push(Span::raw(before).underlined());
    spans.push(Span::styled(under, Style::new().reversed()));
    spans.push(Span::raw(after).underlined());
    Line::from(spans)
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
