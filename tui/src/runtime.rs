//! The event loop: terminal in, events onto one channel, effects run as
//! tasks whose results come back as events.

use crate::app::{App, Settings};
use crate::effects;
use crate::event::Event;
use crate::view;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use lqx_client::Client;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// How often the state hears the time: countdowns move by the second.
const TICK: Duration = Duration::from_secs(1);

/// Runs the console until the operator quits.
pub async fn run(client: Client, settings: Settings) -> anyhow::Result<()> {
    // A serial line reports a size of 0x0 (nothing tells the kernel how big
    // the terminal at the other end is): draw at 80x24 there, which every
    // terminal has. try_init* installs a panic hook that restores the
    // terminal first.
    let mut terminal = match crossterm::terminal::size() {
        Ok((cols, rows)) if cols > 0 && rows > 0 => ratatui::try_init()?,
        _ => ratatui::try_init_with_options(ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 80, 24)),
        })?,
    };
    let result = event_loop(&mut terminal, client, settings).await;
    ratatui::restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    client: Client,
    settings: Settings,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Event>(64);
    tokio::spawn(read_terminal(tx.clone()));
    tokio::spawn(tick(tx.clone(), TICK));
    let mut app = App::new(settings);
    loop {
        terminal.draw(|frame| view::draw(frame, &app))?;
        let Some(event) = rx.recv().await else {
            return Ok(());
        };
        for effect in app.handle(event, OffsetDateTime::now_utc()) {
            let (client, tx) = (client.clone(), tx.clone());
            tokio::spawn(async move {
                let _ = tx.send(effects::perform(&client, effect).await).await;
            });
        }
        if app.quit {
            return Ok(());
        }
    }
}

async fn read_terminal(tx: mpsc::Sender<Event>) {
    let mut events = EventStream::new();
    while let Some(Ok(event)) = events.next().await {
        let event = match event {
            TermEvent::Key(key) => Event::Key(key),
            TermEvent::Resize(..) => Event::Resize,
            _ => continue,
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

async fn tick(tx: mpsc::Sender<Event>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        if tx.send(Event::Tick).await.is_err() {
            return;
        }
    }
}
