//! The console drives a real installation with key presses against a real
//! lqxd: the disk that ends up written is the one typed, and nothing else.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lqx_api::InstallPhase;
use lqx_console::app::{App, InstallStep, Screen};
use lqx_console::effects::perform;
use lqx_console::event::Event;
use lqx_test_support::{AgentFixture, LoopDisk};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Feeds one event and performs every effect it causes, recursively.
async fn feed(app: &mut App, client: &lqx_client::Client, event: Event) {
    let mut queue = vec![event];
    while let Some(event) = queue.pop() {
        for effect in app.handle(event, OffsetDateTime::now_utc()) {
            queue.push(perform(client, effect).await);
        }
    }
}

async fn press(app: &mut App, client: &lqx_client::Client, code: KeyCode) {
    feed(
        app,
        client,
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    )
    .await;
}

async fn type_text(app: &mut App, client: &lqx_client::Client, text: &str) {
    for c in text.chars() {
        press(app, client, KeyCode::Char(c)).await;
    }
}

#[tokio::test]
async fn install_with_keys() {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("lqx.raw");
    let data: Vec<u8> = (0..(8u32 << 20)).map(|i| (i % 251) as u8 ^ 0xa5).collect();
    std::fs::write(&image, &data).unwrap();
    let target = LoopDisk::new(&work.path().join("target.img"), 9 << 30);
    let decoy = LoopDisk::new(&work.path().join("decoy.img"), 9 << 30);
    let agent = AgentFixture::start_installer(&image).await;
    let client = agent.client();

    let mut app = App::default();
    feed(&mut app, &client, Event::Tick).await;
    press(&mut app, &client, KeyCode::Char('i')).await;
    assert_eq!(app.screen, Screen::Install);
    let disks = app.install.as_ref().unwrap().disks.clone();
    let index = |name: &str| disks.iter().position(|d| d.name == name).unwrap();

    // Walk to the decoy, start confirming, then cancel with Esc.
    for _ in 0..index(&decoy.name()) {
        press(&mut app, &client, KeyCode::Down).await;
    }
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.typing(), "confirming {}", decoy.name());
    type_text(&mut app, &client, &decoy.name()).await;
    press(&mut app, &client, KeyCode::Esc).await;
    assert_eq!(app.install_step, InstallStep::Choose { cursor: 0 });

    // Choose the target, mistype, then type it right.
    for _ in 0..index(&target.name()) {
        press(&mut app, &client, KeyCode::Down).await;
    }
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, "sda").await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(matches!(
        &app.install_step,
        InstallStep::Confirm { error: Some(_), .. }
    ));
    for _ in 0..3 {
        press(&mut app, &client, KeyCode::Backspace).await;
    }
    type_text(&mut app, &client, &target.name()).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert_eq!(app.install_step, InstallStep::Running);

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        feed(&mut app, &client, Event::Tick).await;
        let phase = app.install.as_ref().unwrap().progress.phase;
        if phase == InstallPhase::Done {
            break;
        }
        assert_ne!(phase, InstallPhase::Failed, "{:?}", app.install);
        assert!(Instant::now() < deadline, "install did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let screen = lqx_console::view::sample::render(&app, 80, 24);
    assert!(screen.contains("Installed onto"), "{screen}");
    assert_eq!(target.head(data.len()), data);
    assert!(
        decoy.head(1 << 20).iter().all(|b| *b == 0),
        "decoy untouched"
    );

    // Enter asks for a reboot, which a standalone agent refuses: the
    // refusal is shown, the console keeps running.
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(
        app.notice.as_deref().unwrap().contains("appliance mode"),
        "{:?}",
        app.notice
    );
    assert!(!app.quit);
}
