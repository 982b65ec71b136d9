//! Flows through [`App::handle`]: what keys and answers do to the state,
//! and which effects leave.

use super::*;
use crate::event::{CephOp, Failure, SshOp};
use crate::view::sample::{
    sample_config, sample_host, sample_install, sample_network, sample_now, sample_pending,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lqx_api::{Ipv4Config, LinkKind, PowerAction};

const NOW: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let now = app.now;
    app.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), now)
}

fn letter(app: &mut App, c: char) -> Vec<Effect> {
    key(app, KeyCode::Char(c))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn refused(status: u16, message: &str) -> Failure {
    Failure {
        status: Some(status),
        message: message.into(),
    }
}

fn installed_info() -> lqx_api::InstallInfo {
    lqx_api::InstallInfo {
        available: false,
        ..sample_install()
    }
}

/// An installed host whose password is set; `unlocked` as given.
fn installed(unlocked: bool) -> App {
    let mut app = App::default();
    let now = sample_now();
    app.handle(Event::Host(Ok(Box::new(sample_host()))), now);
    app.handle(Event::Install(Ok(Box::new(installed_info()))), now);
    app.handle(
        Event::Auth(Ok(AuthStatus {
            password_set: true,
            changed_at: None,
        })),
        now,
    );
    if unlocked {
        app.unlocked = true;
        app.last_input = now;
    }
    app
}

/// An unlocked host on the network screen, the agent having no saved
/// configuration.
fn on_network() -> App {
    let mut app = installed(true);
    app.handle(
        Event::Network(NetworkOp::Fetch, Ok(Box::new(sample_network(None)))),
        sample_now(),
    );
    app.screen = Screen::Network;
    app
}

#[test]
fn one_fetch_at_a_time_and_errors_keep_last_host() {
    let mut app = App::default();
    assert_eq!(
        app.handle(Event::Tick, NOW),
        vec![
            Effect::FetchAuth,
            Effect::FetchHost,
            Effect::FetchInstall,
            Effect::FetchNetwork
        ]
    );
    let later = NOW + Duration::seconds(10);
    assert_eq!(app.handle(Event::Tick, later), vec![], "already fetching");
    app.handle(Event::Host(Ok(Box::new(sample_host()))), later);
    assert!(app.host.is_some() && app.error.is_none());
    assert_eq!(key(&mut app, KeyCode::Char('r')), vec![Effect::FetchHost]);
    app.handle(Event::Host(Err(Failure::new("lqxd is not running"))), later);
    assert!(app.host.is_some(), "last host kept");
    assert_eq!(app.error.as_deref(), Some("lqxd is not running"));
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn refresh_waits_for_its_period() {
    let mut app = App::default();
    app.handle(Event::Tick, NOW);
    app.handle(Event::Host(Ok(Box::new(sample_host()))), NOW);
    assert_eq!(app.handle(Event::Tick, NOW + Duration::seconds(1)), vec![]);
    assert_eq!(
        app.handle(Event::Tick, NOW + Duration::seconds(5)),
        vec![Effect::FetchHost]
    );
}

#[test]
fn install_flow_with_refusals() {
    let mut app = App::default();
    app.handle(Event::Install(Ok(Box::new(sample_install()))), NOW);
    assert_eq!(app.access(), Access::Live, "no gate on the live ISO");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.screen, Screen::Install);

    // sda holds the live system: refused with its reason.
    key(&mut app, KeyCode::Enter);
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("sda cannot be used"),
        "{:?}",
        app.notice
    );
    assert_eq!(app.install_step, InstallStep::Choose { cursor: 0 });

    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    assert!(app.typing());
    // 'q' is text here, not quit.
    type_text(&mut app, "vdq");
    assert!(!app.quit);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![],
        "mismatch sends nothing"
    );
    let InstallStep::Confirm { error, .. } = &app.install_step else {
        panic!()
    };
    assert!(
        error
            .as_deref()
            .unwrap()
            .contains("type the disk's name exactly")
    );

    key(&mut app, KeyCode::Esc);
    assert_eq!(app.install_step, InstallStep::Choose { cursor: 0 });
    assert_eq!(
        app.notice.as_deref(),
        Some("Cancelled; nothing was written.")
    );

    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "vdx");
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "b");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::StartInstall {
            disk: "vdb".into(),
            confirm: "vdb".into()
        }]
    );
    app.handle(
        Event::InstallStarted(Err(Failure::new("vdb cannot be used: busy"))),
        NOW,
    );
    let InstallStep::Confirm { error, .. } = &app.install_step else {
        panic!()
    };
    assert_eq!(error.as_deref(), Some("vdb cannot be used: busy"));
}

#[test]
fn done_install_offers_reboot() {
    let mut app = App {
        screen: Screen::Install,
        install_step: InstallStep::Running,
        ..App::default()
    };
    let mut info = sample_install();
    info.progress.phase = InstallPhase::Done;
    app.handle(Event::Install(Ok(Box::new(info))), NOW);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Power(PowerAction::Reboot)]
    );
}

#[test]
fn first_boot_sets_the_password_before_anything_else() {
    let mut app = App::default();
    app.handle(Event::Install(Ok(Box::new(installed_info()))), NOW);
    app.handle(
        Event::Auth(Ok(AuthStatus {
            password_set: false,
            changed_at: None,
        })),
        NOW,
    );
    assert_eq!(app.access(), Access::SetPassword);
    assert!(app.typing());
    // Tab moves between the two fields; it does not leave the form.
    key(&mut app, KeyCode::Tab);
    assert_eq!((app.screen, app.set_password.focus), (Screen::Status, 1));
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.set_password.focus, 0);
    assert_eq!(letter(&mut app, 'i'), vec![], "'i' is text here");
    assert_eq!(app.set_password.new.value(), "i");

    // Too short: inline message, nothing sent.
    key(&mut app, KeyCode::Enter);
    assert!(
        app.set_password
            .new_error
            .as_deref()
            .unwrap()
            .contains("At least 10")
    );
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);

    // Long enough but the two differ.
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "correct horse battery");
    assert!(app.set_password.new_error.is_none(), "cleared by typing");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "correct horse batter");
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert!(
        app.set_password
            .again_error
            .as_deref()
            .unwrap()
            .contains("differ")
    );

    type_text(&mut app, "correct horse battery");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::SetPassword {
            new: "correct horse battery".into()
        }]
    );
    // The agent's strength verdict is shown as it says it.
    app.handle(
        Event::PasswordSet(Err(refused(422, "too easy to guess: a common phrase"))),
        NOW,
    );
    assert_eq!(
        app.set_password.new_error.as_deref(),
        Some("too easy to guess: a common phrase")
    );
    assert_eq!(app.access(), Access::SetPassword);
    app.handle(Event::PasswordSet(Ok(())), NOW);
    assert_eq!(app.access(), Access::Unlocked);
    assert_eq!(app.set_password.new.value(), "", "secret dropped");
}

#[test]
fn locked_console_asks_for_the_password_on_protected_screens() {
    let mut app = installed(false);
    assert_eq!(app.access(), Access::Locked);
    // Diagnostics is open while locked.
    for _ in 0..3 {
        key(&mut app, KeyCode::Tab);
    }
    assert_eq!(app.screen, Screen::Diagnostics);
    assert!(!app.unlock_shown());
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.screen, Screen::Names);
    assert!(
        app.in_flight.contains(&Fetch::Network),
        "read for after unlock"
    );
    assert!(app.unlock_shown() && app.typing());

    type_text(&mut app, "wrong");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Verify {
            password: "wrong".into()
        }]
    );
    app.handle(
        Event::Verified(Err(refused(401, "wrong password"))),
        sample_now(),
    );
    assert_eq!(app.unlock.error.as_deref(), Some("wrong password"));
    assert_eq!(app.access(), Access::Locked);
    app.handle(
        Event::Verified(Err(refused(429, "too many attempts; wait 30 s"))),
        sample_now(),
    );
    assert_eq!(
        app.unlock.error.as_deref(),
        Some("too many attempts; wait 30 s")
    );

    type_text(&mut app, "right one!");
    key(&mut app, KeyCode::Enter);
    app.handle(Event::Verified(Ok(())), sample_now());
    assert_eq!(app.access(), Access::Unlocked);
    assert!(!app.unlock_shown());

    // Esc on the prompt goes back to Status.
    letter(&mut app, 'l');
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert!(app.unlock_shown());
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Status);
}

#[test]
fn locks_after_idle_and_on_l() {
    let mut app = installed(true);
    let t0 = app.last_input;
    app.screen = Screen::Ssh;
    app.ssh.row = 1;
    app.handle(Event::Tick, t0 + Duration::seconds(299));
    assert_eq!(app.access(), Access::Unlocked);
    type_text(&mut app, "secret");
    app.handle(Event::Tick, t0 + Duration::seconds(300));
    assert_eq!(app.access(), Access::Unlocked, "a key reset the idle time");
    app.handle(Event::Tick, t0 + Duration::seconds(598));
    assert_eq!(app.access(), Access::Unlocked);
    app.handle(Event::Tick, t0 + Duration::seconds(599));
    assert_eq!(app.access(), Access::Locked);
    assert_eq!(app.screen, Screen::Status);
    assert_eq!(app.ssh.password.value(), "", "typed secret dropped");
    assert!(
        app.notice
            .as_deref()
            .unwrap()
            .contains("Locked after 5 min")
    );

    let mut app = installed(true);
    letter(&mut app, 'l');
    assert_eq!(app.access(), Access::Locked);
}

#[test]
fn network_edit_by_keys_becomes_one_save_and_apply() {
    let mut app = on_network();
    // The first draft comes from the host: DHCP on both NICs,
    // management on the NIC of the default route.
    let draft = app.net.draft.as_ref().unwrap();
    assert_eq!(draft.management, "eno1");
    assert_eq!(draft.links.len(), 2);
    assert!(app.net.errors.is_none(), "{:?}", app.net.errors);

    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Down);
    assert!(app.typing());
    type_text(&mut app, "192.0.2.20/24");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "192.0.2.1");
    key(&mut app, KeyCode::Esc);
    assert!(!app.typing());
    let effects = letter(&mut app, 'a');
    let [Effect::SaveAndApply(config)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(
        config.links[0].ipv4,
        Ipv4Config::Static {
            addresses: vec!["192.0.2.20/24".into()],
            gateway: Some("192.0.2.1".into())
        }
    );
    assert_eq!(config.hostname, "hv-01");
    assert_eq!(config.dns.servers, ["192.0.2.53"]);
    assert_eq!(letter(&mut app, 'a'), vec![], "one apply at a time");
}

#[test]
fn invalid_field_shows_its_message_and_sends_nothing() {
    let mut app = on_network();
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Right);
    key(&mut app, KeyCode::Down);
    type_text(&mut app, "192.0.2.300/24");
    assert!(
        app.net
            .error("links[0].ipv4.addresses")
            .unwrap()
            .contains("192.0.2.300/24"),
        "{:?}",
        app.net.errors
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(letter(&mut app, 'a'), vec![]);
    assert!(
        app.net
            .message
            .as_deref()
            .unwrap()
            .contains("Nothing was sent"),
        "{:?}",
        app.net.message
    );
    // An MTU that is not a number is caught before validation.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    type_text(&mut app, "big");
    assert!(
        app.net
            .error("links[1].mtu")
            .unwrap()
            .contains("not a number")
    );
}

#[test]
fn names_screen_edits_the_same_configuration() {
    let mut app = on_network();
    app.screen = Screen::Names;
    for _ in 0..5 {
        key(&mut app, KeyCode::Backspace);
    }
    assert_eq!(app.net.error("hostname"), Some("enter a hostname"));
    type_text(&mut app, "hv_01");
    assert!(
        app.net
            .error("hostname")
            .unwrap()
            .contains("not a valid name part")
    );
    for _ in 0..5 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "hv-02");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::End);
    type_text(&mut app, ", nameserver");
    assert!(app.net.error("dns.servers").unwrap().contains("nameserver"));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(key(&mut app, KeyCode::Enter), vec![], "invalid DNS server");
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Up);
    for _ in 0.."nameserver".len() {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "192.0.2.54");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    type_text(&mut app, "pool.ntp.org time.example");
    key(&mut app, KeyCode::Down);
    let effects = key(&mut app, KeyCode::Enter);
    let [Effect::SaveAndApply(config)] = effects.as_slice() else {
        panic!("{effects:?} {:?}", app.net.errors)
    };
    assert_eq!(config.hostname, "hv-02");
    assert_eq!(config.dns.servers, ["192.0.2.53", "192.0.2.54"]);
    assert_eq!(config.ntp, ["pool.ntp.org", "time.example"]);
}

#[test]
fn vlan_and_bond_by_keys() {
    let mut app = on_network();
    letter(&mut app, 'v');
    assert!(matches!(app.net.view, NetView::AddVlan(_)));
    type_text(&mut app, "5000");
    let NetView::AddVlan(form) = &app.net.view else {
        panic!()
    };
    assert_eq!(form.name.value(), "eno1.5000");
    assert!(form.error("kind.id").is_some());
    for _ in 0..4 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "10");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let draft = app.net.draft.as_ref().unwrap();
    assert_eq!(draft.links.len(), 3);
    assert_eq!(draft.links[2].name, "eno1.10");
    assert_eq!(
        draft.links[2].kind,
        LinkKind::Vlan {
            parent: "eno1".into(),
            id: 10
        }
    );

    // A bond of eno2: its own link goes away.
    letter(&mut app, 'b');
    let NetView::AddBond(form) = &app.net.view else {
        panic!()
    };
    assert_eq!(form.name.value(), "bond0");
    assert_eq!(
        form.error("kind.members"),
        Some("a bond needs at least one NIC")
    );
    key(&mut app, KeyCode::Down); // eno1 -> eno2
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let draft = app.net.draft.as_ref().unwrap();
    let names: Vec<&str> = draft.links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["eno1", "eno1.10", "bond0"]);
    assert!(app.net.errors.is_none(), "{:?}", app.net.errors);

    // Deleting the VLAN; a NIC cannot be deleted.
    key(&mut app, KeyCode::Up);
    letter(&mut app, 'd');
    key(&mut app, KeyCode::Up);
    letter(&mut app, 'd');
    assert!(app.net.message.as_deref().unwrap().contains("is a NIC"));
    let names: Vec<String> = app
        .net
        .draft
        .as_ref()
        .unwrap()
        .links
        .iter()
        .map(|l| l.name.clone())
        .collect();
    assert_eq!(names, ["eno1", "bond0"]);
}

#[test]
fn pending_apply_is_confirmed_or_needs_the_password() {
    let mut app = installed(false);
    app.handle(
        Event::Network(NetworkOp::Fetch, Ok(Box::new(sample_pending()))),
        sample_now(),
    );
    // Locked: 'c' asks for the password, then confirms.
    assert_eq!(letter(&mut app, 'c'), vec![]);
    assert!(app.unlock_shown());
    type_text(&mut app, "the password");
    key(&mut app, KeyCode::Enter);
    let effects = app.handle(Event::Verified(Ok(())), sample_now());
    assert!(effects.contains(&Effect::ConfirmNetwork), "{effects:?}");

    let mut app = installed(true);
    app.handle(
        Event::Network(NetworkOp::Fetch, Ok(Box::new(sample_pending()))),
        sample_now(),
    );
    assert_eq!(key(&mut app, KeyCode::F(8)), vec![Effect::RevertNetwork]);
    // Past the deadline the status is read every tick until it ends.
    let late = sample_now() + Duration::seconds(103);
    app.last_refresh = Some(late - Duration::seconds(1));
    app.unlocked = false;
    assert_eq!(app.handle(Event::Tick, late), vec![Effect::FetchNetwork]);
}

#[test]
fn saved_configuration_is_the_draft() {
    let mut app = installed(true);
    app.handle(
        Event::Network(
            NetworkOp::Fetch,
            Ok(Box::new(sample_network(Some(sample_config())))),
        ),
        sample_now(),
    );
    let draft = app.net.draft.as_ref().unwrap();
    assert!(draft.links[0].v4_static());
    assert_eq!(draft.links[1].mtu.value(), "9000");
    let (config, errors) = draft.check(app.nics().as_deref());
    assert_eq!((config, errors), (sample_config(), None));
}

#[test]
fn ssh_minutes_are_checked_before_sending() {
    let mut app = installed(true);
    app.screen = Screen::Ssh;
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "200");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "pw");
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert!(
        app.ssh
            .minutes_error
            .as_deref()
            .unwrap()
            .contains("5 to 120")
    );
    assert_eq!(app.ssh.row, 0);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    assert_eq!(app.ssh.minutes.value(), "2");
    type_text(&mut app, "0");
    key(&mut app, KeyCode::Down);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::EnableSsh {
            minutes: 20,
            password: "pw".into()
        }]
    );
    app.handle(
        Event::Ssh(SshOp::Enable, Err(refused(401, "wrong password"))),
        sample_now(),
    );
    assert_eq!(app.ssh.password_error.as_deref(), Some("wrong password"));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(letter(&mut app, 'd'), vec![Effect::DisableSsh]);
}

#[test]
fn power_needs_an_explicit_yes() {
    let mut app = installed(true);
    app.screen = Screen::Power;
    key(&mut app, KeyCode::Down);
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert_eq!(app.power.confirm, Some(PowerAction::Poweroff));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.power.confirm, None);
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        letter(&mut app, 'y'),
        vec![Effect::Power(PowerAction::Poweroff)]
    );
    app.handle(
        Event::Power(Err(refused(409, "only in appliance mode"))),
        sample_now(),
    );
    assert_eq!(app.notice.as_deref(), Some("only in appliance mode"));
}

#[test]
fn diagnostics_unit_choice_and_typing() {
    let mut app = installed(false);
    app.screen = Screen::Diagnostics;
    assert_eq!(
        key(&mut app, KeyCode::Right),
        vec![Effect::FetchJournal {
            unit: "systemd-networkd.service".into()
        }]
    );
    letter(&mut app, 't');
    assert!(app.typing());
    type_text(&mut app, "foo.service");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::FetchJournal {
            unit: "foo.service".into()
        }]
    );
    assert!(!app.typing());
}

#[test]
fn ceph_screen_polls_while_shown_and_locking_forgets_the_key() {
    let mut app = installed(true);
    let t0 = app.now;
    app.last_refresh = Some(t0);
    key(&mut app, KeyCode::BackTab); // Status -> Cluster
    key(&mut app, KeyCode::BackTab); // -> OVN
    let entered = key(&mut app, KeyCode::BackTab);
    assert_eq!(app.screen, Screen::Ceph);
    assert_eq!(entered, vec![Effect::FetchCeph], "read on entry");
    let empty = lqx_api::CephStatus {
        config: None,
        cluster: None,
        problem: None,
    };
    app.handle(Event::Ceph(CephOp::Fetch, Ok(empty.clone())), t0);
    let polled = app.handle(Event::Tick, t0 + Duration::seconds(5));
    assert!(polled.contains(&Effect::FetchCeph), "{polled:?}");
    app.handle(
        Event::Ceph(CephOp::Fetch, Ok(empty)),
        t0 + Duration::seconds(5),
    );

    // Typing `q` and `l` in the fields is text, not Quit or Lock.
    type_text(&mut app, "ql");
    assert_eq!((app.quit, app.ceph.mons.value()), (false, "ql"));
    app.ceph.row = ceph::KEY;
    type_text(&mut app, "AQBzSk5nAAAAABAAGJ2UxtMqK6IjkGUoJ9DAHQ==");
    assert!(!format!("{app:?}").contains("AQBzSk5n"), "key out of Debug");

    // No poll while a join is under way: the agent would answer it only
    // after the join anyway.
    app.ceph.busy = Some(ceph::Busy {
        op: CephOp::Join,
        since: t0,
    });
    let polled = app.handle(Event::Tick, t0 + Duration::seconds(10));
    assert!(!polled.contains(&Effect::FetchCeph), "{polled:?}");
    app.ceph.busy = None;

    key(&mut app, KeyCode::F(12));
    assert_eq!(app.access(), Access::Locked);
    assert_eq!(app.ceph.key.value(), "", "typed key dropped");
}
