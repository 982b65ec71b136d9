//! QR codes drawn with half blocks: one character cell holds two modules,
//! one above the other. Light modules are drawn in white, dark ones left
//! to a black background, both set explicitly, so that the code reads
//! the same on dark and light terminals; a quiet zone of light modules
//! surrounds it, as scanners need.

use qrcode::{Color, EcLevel, QrCode};
use ratatui::style::{Color as Colour, Style};
use ratatui::text::{Line, Span};

/// Light modules around the code on each side (the standard's minimum).
pub const QUIET: usize = 4;

/// A QR code's modules, ready to draw.
pub struct Qr {
    /// Modules per side, without the quiet zone.
    size: usize,
    /// Row by row, `true` for dark.
    dark: Vec<bool>,
}

impl Qr {
    /// The code of `text`; `None` when it is too long for any QR code.
    pub fn new(text: &str) -> Option<Self> {
        // Level L keeps a one-host join token (~260 bytes) at version 10,
        // 57 modules, so the code fits more terminals; a screen has no
        // stains or folds for more correction to make up for.
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
        Some(Self {
            size: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Columns it takes, quiet zone included.
    pub fn cols(&self) -> u16 {
        u16::try_from(self.size + 2 * QUIET).unwrap_or(u16::MAX)
    }

    /// Rows it takes: two modules per row.
    pub fn rows(&self) -> u16 {
        self.cols().div_ceil(2)
    }

    /// Whether the module at `(x, y)` of the code with its quiet zone is
    /// dark.
    fn is_dark(&self, x: usize, y: usize) -> bool {
        let inside = |v: usize| (QUIET..QUIET + self.size).contains(&v);
        inside(x) && inside(y) && self.dark[(y - QUIET) * self.size + (x - QUIET)]
    }

    /// The lines to draw, each [`Qr::cols`] wide.
    pub fn lines(&self) -> Vec<Line<'static>> {
        let side = self.size + 2 * QUIET;
        let style = Style::new().fg(Colour::White).bg(Colour::Black);
        (0..side)
            .step_by(2)
            .map(|y| {
                let row: String = (0..side)
                    .map(|x| {
                        // Below an odd-sized code the lower half is quiet
                        // zone too.
                        let top = !self.is_dark(x, y);
                        let bottom = !self.is_dark(x, y + 1);
                        match (top, bottom) {
                            (true, true) => '█',
                            (true, false) => '▀',
                            (false, true) => '▄',
                            (false, false) => ' ',
                        }
                    })
                    .collect();
                Line::from(Span::styled(row, style))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the modules back from the drawn lines.
    fn modules(qr: &Qr) -> Vec<Vec<bool>> {
        let side = usize::from(qr.cols());
        let mut grid = vec![vec![false; side]; side + 1];
        for (row, line) in qr.lines().iter().enumerate() {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            for (x, c) in text.chars().enumerate() {
                let (top, bottom) = match c {
                    '█' => (false, false),
                    '▀' => (false, true),
                    '▄' => (true, false),
                    _ => (true, true),
                };
                grid[2 * row][x] = top;
                grid[2 * row + 1][x] = bottom;
            }
        }
        grid.truncate(side);
        grid
    }

    #[test]
    fn drawn_modules_are_the_codes_with_a_quiet_zone() {
        let text = format!(
            "lqx1.{}",
            "eyJhZGRyZXNzZXMiOlsiMTkyLjAuMi4xMDo4NDQzIl19".repeat(6)
        );
        let qr = Qr::new(&text).unwrap();
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).unwrap();
        let size = code.width();
        assert_eq!(usize::from(qr.cols()), size + 2 * QUIET);
        assert_eq!(usize::from(qr.rows()), (size + 2 * QUIET).div_ceil(2));
        let grid = modules(&qr);
        let colors = code.to_colors();
        for (y, row) in grid.iter().enumerate() {
            for (x, dark) in row.iter().enumerate() {
                let want = (QUIET..QUIET + size).contains(&x)
                    && (QUIET..QUIET + size).contains(&y)
                    && colors[(y - QUIET) * size + (x - QUIET)] == Color::Dark;
                assert_eq!(*dark, want, "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn a_token_sized_text_is_version_10() {
        let qr = Qr::new(&"x".repeat(260)).unwrap();
        assert_eq!(qr.cols(), 57 + 8);
        assert!(Qr::new(&"x".repeat(4000)).is_none(), "too long for QR");
    }
}
