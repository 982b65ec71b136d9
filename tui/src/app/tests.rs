//! Flows through [`App::handle`]: what keys and answers do to the state,
//! and which effects leave.

use super::*;
use crate::event::{CephOp, ClusterOp, Failure, SshOp};
use crate::view::sample::{
    sample_cluster, sample_config, sample_host, sample_install, sample_members, sample_network,
    sample_no_cluster, sample_now, sample_pending, sample_token,
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
            Effect::FetchNetwork,
            Effect::FetchCluster
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

/// An unlocked host on the Cluster screen, the agent having answered
/// `status`.
fn on_cluster(status: lqx_api::ClusterStatus) -> App {
    let mut app = installed(true);
    app.screen = Screen::Cluster;
    app.handle(Event::Cluster(ClusterOp::Fetch, Ok(status)), sample_now());
    app
}

/// A member of `lab` whose three hosts were read.
fn in_cluster() -> App {
    let mut app = on_cluster(sample_cluster());
    app.handle(Event::Members(Ok(sample_members())), sample_now());
    app
}

#[test]
fn cluster_create_refuses_a_bad_name_and_sends_a_good_one() {
    let mut app = on_cluster(sample_no_cluster());
    assert!(app.typing(), "the name field takes keys");
    assert_eq!(app.cluster.name.value(), "lqx", "lqxd's default name");
    for _ in 0..3 {
        key(&mut app, KeyCode::Backspace);
    }
    // `q` and `l` are text here, not Quit or Lock.
    type_text(&mut app, "Lab ql");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.cluster.row, cluster::VOTERS);
    assert_eq!(key(&mut app, KeyCode::Enter), vec![], "nothing sent");
    let problem = app.cluster.name_error.clone().unwrap_or_default();
    assert!(
        problem.contains("\"Lab ql\"") && problem.contains("a-z"),
        "{problem}"
    );
    assert_eq!(app.cluster.row, cluster::NAME, "the cursor is on the name");
    assert!(!app.quit && app.access() == Access::Unlocked);

    key(&mut app, KeyCode::End);
    for _ in 0..6 {
        key(&mut app, KeyCode::Backspace);
    }
    assert!(app.cluster.name_error.is_none(), "editing clears it");
    type_text(&mut app, "lab");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Right);
    assert_eq!(app.cluster.voters.label(), "5");
    key(&mut app, KeyCode::Down);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::InitCluster(lqx_api::ClusterInitRequest {
            name: Some("lab".into()),
            voters: Some(5),
        })]
    );
    assert!(app.cluster.busy.is_some());
    assert_eq!(key(&mut app, KeyCode::Up), vec![], "busy: keys wait");
    assert_eq!(app.cluster.row, cluster::CREATE);
    // A poll answered meanwhile predates the creation: no read, and an
    // answer already on its way is dropped.
    assert!(
        !app.handle(Event::Tick, sample_now() + Duration::seconds(60))
            .contains(&Effect::FetchCluster)
    );
    app.handle(
        Event::Cluster(ClusterOp::Fetch, Ok(sample_no_cluster())),
        sample_now(),
    );
    assert!(app.cluster.busy.is_some());
    app.handle(Event::Host(Ok(Box::new(sample_host()))), sample_now());

    let after = app.handle(
        Event::Cluster(ClusterOp::Init, Ok(sample_cluster())),
        sample_now(),
    );
    assert!(app.cluster.is_member() && app.cluster.busy.is_none());
    assert!(after.contains(&Effect::FetchMembers), "{after:?}");
    assert!(
        after.contains(&Effect::FetchHost),
        "the authority changed: {after:?}"
    );
    let message = app.cluster.message.clone().unwrap_or_default();
    assert!(message.starts_with("Created cluster lab"), "{message}");
    assert_eq!(app.cluster.row, cluster::TTL, "the member's rows");
}

#[test]
fn cluster_join_refuses_an_empty_or_damaged_token() {
    let mut app = on_cluster(sample_no_cluster());
    app.cluster.row = cluster::JOIN;
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    let problem = app.cluster.token_error.clone().unwrap_or_default();
    assert!(problem.contains("Paste the join token"), "{problem}");
    assert_eq!(app.cluster.row, cluster::TOKEN);
    type_text(&mut app, "hello");
    assert!(app.cluster.token_error.is_none());
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    let problem = app.cluster.token_error.clone().unwrap_or_default();
    assert!(
        problem.contains("not a LimiQuantix join token"),
        "{problem}"
    );

    // Pasted with a line break in it: the token without it is sent.
    let token = sample_token().token;
    let (head, tail) = token.split_at(80);
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::End);
    for _ in 0..5 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, &format!("{head} {tail}"));
    assert!(
        !format!("{app:?}").contains(tail),
        "the token is out of Debug"
    );
    let sent = key(&mut app, KeyCode::Enter);
    assert_eq!(
        sent,
        vec![Effect::JoinCluster(lqx_api::JoinRequest {
            token: token.clone()
        })]
    );
    assert!(
        !format!("{sent:?}").contains(tail),
        "and out of the effect's"
    );
    assert!(matches!(
        app.cluster.busy.as_ref().map(|b| &b.work),
        Some(cluster::Work::Join)
    ));

    // The agent's refusal is shown as it words it; the token stays for
    // another try.
    let refusal = "the token was already used or has expired";
    app.handle(
        Event::Cluster(ClusterOp::Join, Err(refused(409, refusal))),
        sample_now(),
    );
    assert_eq!(app.cluster.message.as_deref(), Some(refusal));
    assert!(app.cluster.busy.is_none() && !app.cluster.is_member());
    assert_eq!(app.cluster.token.value(), format!("{head} {tail}"));

    key(&mut app, KeyCode::Enter);
    app.handle(
        Event::Cluster(ClusterOp::Join, Ok(sample_cluster())),
        sample_now(),
    );
    assert_eq!(
        app.cluster.message.as_deref(),
        Some("Joined cluster lab as a voter.")
    );
    assert_eq!(app.cluster.token.value(), "", "used: dropped");
}

#[test]
fn cluster_replies_update_the_screen_and_status_reads_them() {
    let mut app = installed(false);
    app.last_refresh = Some(sample_now());
    // Status (open while locked) reads the membership, then the members.
    let read = app.handle(Event::Tick, sample_now() + Duration::seconds(5));
    assert!(read.contains(&Effect::FetchCluster), "{read:?}");
    let then = app.handle(
        Event::Cluster(ClusterOp::Fetch, Ok(sample_cluster())),
        sample_now(),
    );
    assert_eq!(then, vec![Effect::FetchMembers]);
    app.handle(Event::Members(Ok(sample_members())), sample_now());
    assert_eq!(app.cluster.members.as_ref().map(Vec::len), Some(3));

    // A failed read keeps the last list and says why.
    app.handle(
        Event::Members(Err(refused(503, "the cluster store does not answer"))),
        sample_now(),
    );
    assert_eq!(app.cluster.members.as_ref().map(Vec::len), Some(3));
    assert!(app.cluster.members_error.is_some());

    // Another screen does not read the cluster.
    app.screen = Screen::Diagnostics;
    let read = app.handle(Event::Tick, sample_now() + Duration::seconds(10));
    assert!(!read.contains(&Effect::FetchCluster), "{read:?}");
    // Locked, the Cluster screen asks for the password first.
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::BackTab);
    app.screen = Screen::Cluster;
    assert!(app.unlock_shown());
}

#[test]
fn cluster_token_is_shown_until_esc_and_forgotten_on_lock() {
    let mut app = in_cluster();
    assert!(!app.typing(), "letters are actions for a member");
    // The lifetime: 1 h by default, 15 min chosen.
    assert_eq!(app.cluster.ttl.label(), "1h");
    key(&mut app, KeyCode::Left);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::CreateToken(lqx_api::TokenRequest {
            ttl_seconds: Some(900)
        })]
    );
    app.handle(Event::TokenCreated(Ok(sample_token())), sample_now());
    assert!(app.cluster.created.is_some() && app.cluster.busy.is_none());
    assert!(!format!("{app:?}").contains(&sample_token().token));
    // Only Esc closes it: it is not shown again.
    for code in [KeyCode::Enter, KeyCode::Down, KeyCode::Char('t')] {
        assert_eq!(key(&mut app, code), vec![]);
    }
    app.handle(Event::Tick, sample_now() + Duration::seconds(30));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::BackTab);
    assert!(app.cluster.created.is_some(), "kept across screens");
    key(&mut app, KeyCode::Esc);
    assert!(app.cluster.created.is_none());

    // T anywhere on the member's screen; locking drops the token.
    app.cluster.row = cluster::LEAVE;
    assert_eq!(
        letter(&mut app, 't'),
        vec![Effect::CreateToken(lqx_api::TokenRequest {
            ttl_seconds: Some(900)
        })]
    );
    app.handle(Event::TokenCreated(Ok(sample_token())), sample_now());
    key(&mut app, KeyCode::F(12));
    assert!(app.cluster.created.is_none());

    // A refusal is shown as worded.
    let mut app = in_cluster();
    letter(&mut app, 't');
    app.handle(
        Event::TokenCreated(Err(refused(503, "the cluster store does not answer"))),
        sample_now(),
    );
    assert_eq!(
        app.cluster.message.as_deref(),
        Some("the cluster store does not answer")
    );
}

#[test]
fn cluster_leave_asks_then_offers_to_dissolve_for_the_last_host() {
    let mut app = on_cluster(sample_cluster());
    app.handle(
        Event::Members(Ok(sample_members()[..1].to_vec())),
        sample_now(),
    );
    app.cluster.row = cluster::LEAVE;
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert_eq!(app.cluster.confirm, Some(cluster::Confirm::Leave));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.cluster.confirm, None);
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        letter(&mut app, 'y'),
        vec![Effect::LeaveCluster { force: false }]
    );
    let refusal = "this host is the last member of cluster lab: leaving dissolves the cluster \
                   and deletes its store; leave with force to do that";
    app.handle(
        Event::Cluster(ClusterOp::Leave, Err(refused(409, refusal))),
        sample_now(),
    );
    assert_eq!(app.cluster.message.as_deref(), Some(refusal));
    assert_eq!(app.cluster.confirm, Some(cluster::Confirm::Dissolve));
    assert_eq!(
        letter(&mut app, 'y'),
        vec![Effect::LeaveCluster { force: true }]
    );
    let after = app.handle(
        Event::Cluster(ClusterOp::Leave, Ok(sample_no_cluster())),
        sample_now(),
    );
    assert!(after.contains(&Effect::FetchHost), "{after:?}");
    assert!(!app.cluster.is_member() && app.cluster.members.is_none());
    assert_eq!(app.cluster.row, cluster::NAME, "the form's rows");
    assert!(
        app.cluster
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("dissolved")
    );

    // With other hosts, a refusal is only shown: forcing is not offered.
    let mut app = in_cluster();
    app.cluster.row = cluster::LEAVE;
    key(&mut app, KeyCode::Enter);
    letter(&mut app, 'y');
    app.handle(
        Event::Cluster(ClusterOp::Leave, Err(refused(409, "too few voters answer"))),
        sample_now(),
    );
    assert_eq!(app.cluster.confirm, None);
}

#[test]
fn cluster_member_removed_after_a_yes() {
    let mut app = in_cluster();
    // Down past the actions to the first host: this one.
    for _ in 0..3 {
        key(&mut app, KeyCode::Down);
    }
    assert_eq!(app.cluster.row, cluster::MEMBERS);
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert!(
        app.cluster
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("this host")
    );
    assert_eq!(app.cluster.confirm, None);
    for _ in 0..5 {
        key(&mut app, KeyCode::Down);
    }
    assert_eq!(
        app.cluster.row,
        cluster::MEMBERS + 2,
        "stops at the last host"
    );
    key(&mut app, KeyCode::Enter);
    assert!(matches!(
        app.cluster.confirm,
        Some(cluster::Confirm::Remove { .. })
    ));
    let id = sample_members()[2].id.to_string();
    assert_eq!(
        letter(&mut app, 'y'),
        vec![Effect::RemoveMember { host: id }]
    );
    app.handle(
        Event::MemberRemoved(Ok(sample_members()[..2].to_vec())),
        sample_now(),
    );
    assert!(
        app.cluster
            .message
            .as_deref()
            .unwrap_or_default()
            .starts_with("Removed hv-03")
    );
    assert_eq!(
        app.cluster.row,
        cluster::MEMBERS + 1,
        "on a host that is left"
    );
}
