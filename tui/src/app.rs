//! The console's state; it changes only in [`App::handle`].

use crate::event::{Effect, Event};
use crate::keymap::{self, Command};
use lqx_api::HostInfo;
use time::OffsetDateTime;

/// What the console knows.
#[derive(Debug, Default)]
pub struct App {
    /// The host as last read.
    pub host: Option<Box<HostInfo>>,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
    /// When the last successful read finished.
    pub updated_at: Option<OffsetDateTime>,
    /// A read is under way.
    pub loading: bool,
    /// The operator asked to leave.
    pub quit: bool,
}

impl App {
    /// Applies one event at time `now`, returning the work to start.
    pub fn handle(&mut self, event: Event, now: OffsetDateTime) -> Vec<Effect> {
        match event {
            Event::Key(key) => match keymap::command(key) {
                Some(Command::Quit) => {
                    self.quit = true;
                    vec![]
                }
                Some(Command::Refresh) => self.fetch(),
                None => vec![],
            },
            Event::Tick => self.fetch(),
            Event::Resize => vec![],
            Event::Host(Ok(host)) => {
                self.loading = false;
                self.host = Some(host);
                self.error = None;
                self.updated_at = Some(now);
                vec![]
            }
            Event::Host(Err(message)) => {
                // Keep showing the last known host, marked stale.
                self.loading = false;
                self.error = Some(message);
                vec![]
            }
        }
    }

    fn fetch(&mut self) -> Vec<Effect> {
        if self.loading {
            return vec![];
        }
        self.loading = true;
        vec![Effect::FetchHost]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn one_fetch_at_a_time_and_errors_keep_last_host() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut app = App::default();
        assert_eq!(app.handle(Event::Tick, now), vec![Effect::FetchHost]);
        assert_eq!(app.handle(Event::Tick, now), vec![], "already loading");
        let host = crate::view::tests::sample_host();
        app.handle(Event::Host(Ok(Box::new(host))), now);
        assert!(app.host.is_some() && app.error.is_none());
        let key = Event::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE));
        assert_eq!(app.handle(key, now), vec![Effect::FetchHost]);
        app.handle(Event::Host(Err("lqxd is not running".into())), now);
        assert!(app.host.is_some(), "last host kept");
        assert_eq!(app.error.as_deref(), Some("lqxd is not running"));
        let quit = Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
        app.handle(quit, now);
        assert!(app.quit);
    }
}
