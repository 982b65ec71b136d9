//! The install screen: choose a disk, confirm by typing its name, watch
//! the write and verification, reboot.

use crate::app::{App, InstallStep};
use lqx_api::{InstallInfo, InstallPhase};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Row, Table, Wrap};

fn gib(bytes: u64) -> String {
    super::summary::gib(bytes)
}

/// Draws the install screen into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let block = Block::new()
        .borders(Borders::TOP)
        .title(" Install to disk ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(info) = app.install.as_deref() else {
        frame.render_widget(Paragraph::new(" Asking the agent for disks..."), inner);
        return;
    };
    if !info.available {
        let text = vec![
            Line::raw(""),
            Line::raw(" This system is installed. Installation runs from the live ISO."),
        ];
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    match &app.install_step {
        InstallStep::Choose { cursor } => choose(frame, inner, info, *cursor),
        InstallStep::Confirm { disk, typed, error } => {
            confirm(frame, inner, info, disk, typed, error.as_deref());
        }
        InstallStep::Running => running(frame, inner, info),
    }
}

fn choose(frame: &mut Frame<'_>, area: Rect, info: &InstallInfo, cursor: usize) {
    let [intro, table] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(area);
    let text = format!(
        " Choose the disk to install LimiQuantix on. Every byte on it is replaced.\n \
         Disks of at least {} are accepted.",
        gib(info.min_disk_bytes)
    );
    frame.render_widget(Paragraph::new(text), intro);
    let rows = info.disks.iter().enumerate().map(|(i, d)| {
        let marker = if i == cursor { ">" } else { " " };
        let row = Row::new(vec![
            format!("{marker} {}", d.name),
            gib(d.size_bytes),
            d.model.clone().unwrap_or_else(|| "-".into()),
            d.reason.clone().unwrap_or_else(|| "available".into()),
        ]);
        match (i == cursor, d.eligible) {
            (true, _) => row.style(Style::new().reversed()),
            (false, false) => row.style(Style::new().dim()),
            (false, true) => row,
        }
    });
    let widths = [
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(18),
        Constraint::Min(10),
    ];
    let table_widget =
        Table::new(rows, widths).header(Row::new(vec!["  DISK", "SIZE", "MODEL", "STATE"]).bold());
    frame.render_widget(table_widget, table);
}

fn confirm(
    frame: &mut Frame<'_>,
    area: Rect,
    info: &InstallInfo,
    disk: &str,
    typed: &str,
    error: Option<&str>,
) {
    let described = info
        .disks
        .iter()
        .find(|d| d.name == disk)
        .map(|d| {
            format!(
                "{} ({}, {})",
                d.name,
                gib(d.size_bytes),
                d.model.as_deref().unwrap_or("unknown model")
            )
        })
        .unwrap_or_else(|| disk.to_owned());
    let mut lines = vec![
        Line::raw(""),
        Line::raw(format!(" Everything on {described} will be erased.")).bold(),
        Line::raw(""),
        Line::raw(format!(
            " Type the disk name ({disk}) and press Enter to install,"
        )),
        Line::raw(" or press Esc to go back without writing anything."),
        Line::raw(""),
        Line::raw(format!(" Disk name: {typed}_")),
    ];
    if let Some(error) = error {
        lines.push(Line::raw(""));
        lines.push(Line::raw(format!(" {error}")).red());
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn running(frame: &mut Frame<'_>, area: Rect, info: &InstallInfo) {
    let p = &info.progress;
    let [text, gauge, after] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let disk = p.disk.as_deref().unwrap_or("?");
    let (title, detail) = match p.phase {
        InstallPhase::Writing => (format!(" Writing the system onto {disk}..."), None),
        InstallPhase::Verifying => (format!(" Verifying {disk}..."), None),
        InstallPhase::Done => (
            format!(" Installed onto {disk} and verified."),
            Some(" Remove the installation medium and press Enter to reboot.".to_owned()),
        ),
        InstallPhase::Failed => (
            format!(" Installation onto {disk} failed."),
            Some(format!(
                " {} Press Enter to choose again.",
                p.message.as_deref().unwrap_or("")
            )),
        ),
        InstallPhase::Idle => (" Starting...".to_owned(), None),
    };
    frame.render_widget(Paragraph::new(format!("\n{title}")), text);
    let ratio = if p.bytes_total == 0 {
        0.0
    } else {
        (p.bytes_done as f64 / p.bytes_total as f64).clamp(0.0, 1.0)
    };
    frame.render_widget(Gauge::default().ratio(ratio), gauge);
    if let Some(detail) = detail {
        let styled = if p.phase == InstallPhase::Failed {
            Line::raw(detail).red()
        } else {
            Line::raw(detail)
        };
        frame.render_widget(
            Paragraph::new(vec![Line::raw(""), styled]).wrap(Wrap { trim: false }),
            after,
        );
    }
}
