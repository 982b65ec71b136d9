//! Snapshots of every screen in its main states, at 80x24 (the serial
//! console's size) and 120x40.

use super::sample::*;
use crate::app::{App, InstallStep, NetView, Screen};
use crate::event::{ClusterOp, Event, Failure, NetworkOp};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lqx_api::AuthStatus;

/// Asserts the snapshots of `app` at both sizes.
fn snap(name: &str, app: &App) {
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app, w, h));
    }
}

fn key(app: &mut App, code: KeyCode) {
    let now = app.now;
    app.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), now);
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// An installed host; password set; locked or not.
fn host(unlocked: bool) -> App {
    let mut app = App::default();
    let now = sample_now();
    app.handle(Event::Host(Ok(Box::new(sample_host()))), now);
    let mut install = sample_install();
    install.available = false;
    app.handle(Event::Install(Ok(Box::new(install))), now);
    app.handle(
        Event::Auth(Ok(AuthStatus {
            password_set: true,
            changed_at: None,
        })),
        now,
    );
    app.unlocked = unlocked;
    app.last_input = now;
    app
}

fn with_network(mut app: App, status: lqx_api::NetworkStatus) -> App {
    let now = app.now;
    app.handle(Event::Network(NetworkOp::Fetch, Ok(Box::new(status))), now);
    app
}

#[test]
fn status() {
    snap("status", &host(true));
    snap("status_locked", &host(false));
    snap(
        "status_pending",
        &with_network(host(false), sample_pending()),
    );
    let mut live = App {
        now: sample_now(),
        ..App::default()
    };
    live.handle(Event::Host(Ok(Box::new(sample_host()))), sample_now());
    live.handle(Event::Install(Ok(Box::new(sample_install()))), sample_now());
    snap("status_live", &live);
    let waiting = App {
        error: Some("lqxd is not running: nothing listens on /run/lqx/lqxd.sock".into()),
        ..App::default()
    };
    snap("status_waiting", &waiting);
}

#[test]
fn set_password() {
    let mut app = App::default();
    app.handle(Event::Host(Ok(Box::new(sample_host()))), sample_now());
    app.handle(
        Event::Auth(Ok(AuthStatus {
            password_set: false,
            changed_at: None,
        })),
        sample_now(),
    );
    snap("set_password_empty", &app);
    type_text(&mut app, "short");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "shirt");
    snap("set_password_errors", &app);
    app.set_password = Default::default();
    type_text(&mut app, "correct horse battery");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "correct horse battery");
    key(&mut app, KeyCode::Enter);
    app.handle(
        Event::PasswordSet(Err(Failure {
            status: Some(422),
            message: "password too weak: this is similar to a commonly used password".into(),
        })),
        sample_now(),
    );
    snap("set_password_refused", &app);
}

#[test]
fn unlock() {
    let mut app = host(false);
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "wrong");
    key(&mut app, KeyCode::Enter);
    app.handle(
        Event::Verified(Err(Failure {
            status: Some(401),
            message: "wrong password".into(),
        })),
        sample_now(),
    );
    type_text(&mut app, "abc");
    snap("unlock_network", &app);
    let mut app = with_network(host(false), sample_pending());
    key(&mut app, KeyCode::Char('c'));
    snap("unlock_popup_for_confirm", &app);
}

#[test]
fn install() {
    let mut app = App {
        screen: Screen::Install,
        install: Some(Box::new(sample_install())),
        host: Some(Box::new(sample_host())),
        now: sample_now(),
        ..App::default()
    };
    snap("install_choose", &app);
    app.install_step = InstallStep::Confirm {
        disk: "vdb".into(),
        typed: "vd".into(),
        error: None,
    };
    snap("install_confirm", &app);
    app.install_step = InstallStep::Running;
    if let Some(info) = app.install.as_mut() {
        info.progress = lqx_api::InstallProgress {
            phase: lqx_api::InstallPhase::Writing,
            disk: Some("vdb".into()),
            bytes_done: 650_000_000,
            bytes_total: 1_300_000_000,
            message: None,
        };
    }
    snap("install_running", &app);
}

fn network_screen(status: lqx_api::NetworkStatus) -> App {
    let mut app = with_network(host(true), status);
    app.screen = Screen::Network;
    app
}

#[test]
fn network() {
    let mut loading = host(true);
    loading.screen = Screen::Network;
    snap("network_loading", &loading);
    snap("network_from_facts", &network_screen(sample_network(None)));
    let saved = network_screen(sample_network(Some(sample_config())));
    snap("network_saved", &saved);
    snap("network_pending", &network_screen(sample_pending()));

    let mut app = saved;
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    snap("network_edit_static", &app);
    key(&mut app, KeyCode::End);
    type_text(&mut app, "0");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::End);
    type_text(&mut app, "0");
    snap("network_edit_errors", &app);
    key(&mut app, KeyCode::Esc);
    snap("network_list_errors", &app);
}

#[test]
fn network_dialogs() {
    let mut app = network_screen(sample_network(Some(sample_config())));
    key(&mut app, KeyCode::Char('v'));
    type_text(&mut app, "10");
    snap("network_add_vlan", &app);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "x");
    snap("network_add_vlan_error", &app);
    let mut app = network_screen(sample_network(Some(sample_config())));
    key(&mut app, KeyCode::Char('b'));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char(' '));
    snap("network_add_bond", &app);
    assert!(matches!(app.net.view, NetView::AddBond(_)));
}

#[test]
fn names() {
    let mut app = with_network(host(true), sample_network(Some(sample_config())));
    app.screen = Screen::Names;
    snap("names", &app);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::End);
    type_text(&mut app, " dns1");
    snap("names_error", &app);
}

#[test]
fn diagnostics() {
    let mut app = host(false);
    app.screen = Screen::Diagnostics;
    snap("diagnostics_loading", &app);
    app.handle(Event::Diagnostics(Ok(sample_diagnostics())), sample_now());
    app.handle(Event::Journal(Ok(sample_journal(200))), sample_now());
    snap("diagnostics", &app);
    for _ in 0..3 {
        key(&mut app, KeyCode::PageUp);
    }
    snap("diagnostics_scrolled", &app);
}

#[test]
fn ssh() {
    let mut app = host(true);
    app.screen = Screen::Ssh;
    snap("ssh_loading", &app);
    app.handle(
        Event::Ssh(crate::event::SshOp::Fetch, Ok(sample_ssh())),
        sample_now(),
    );
    snap("ssh_enabled", &app);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "500");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    snap("ssh_errors", &app);
}

#[test]
fn power() {
    let mut app = host(true);
    app.screen = Screen::Power;
    snap("power", &app);
    key(&mut app, KeyCode::Enter);
    snap("power_confirm", &app);
}

#[test]
fn ovn() {
    let mut app = host(true);
    app.screen = Screen::Ovn;
    snap("ovn_loading", &app);
    let unregistered = lqx_api::ChassisStatus {
        config: None,
        ovs_configured: false,
        sb_reachable: false,
        chassis_present: false,
        encaps: vec![],
        controller_connected: false,
        problem: None,
    };
    let op = crate::event::OvnOp::Fetch;
    app.handle(Event::Ovn(op, Ok(unregistered)), sample_now());
    snap("ovn_unregistered", &app);
    // Every field wrong: inline messages, nothing sent.
    type_text(&mut app, "10.0.0.1:6642");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "198.51.100.7");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "physnet");
    let sent = app.handle(
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        sample_now(),
    );
    assert!(sent.is_empty(), "{sent:?}");
    snap("ovn_errors", &app);
    app.handle(Event::Ovn(op, Ok(sample_chassis())), sample_now());
    let mut fresh = host(true);
    fresh.screen = Screen::Ovn;
    fresh.handle(Event::Ovn(op, Ok(sample_chassis())), sample_now());
    snap("ovn_registered", &fresh);
}

#[test]
fn ceph() {
    let op = crate::event::CephOp::Fetch;
    let mut app = host(true);
    app.screen = Screen::Ceph;
    let unjoined = lqx_api::CephStatus {
        config: None,
        cluster: None,
        problem: None,
    };
    app.handle(Event::Ceph(op, Ok(unjoined)), sample_now());
    snap("ceph_unjoined", &app);

    // Every field wrong: inline messages, nothing sent; the key is
    // masked.
    type_text(&mut app, "ceph-mon1, 192.0.2.31:0");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "lqx");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "c2VjcmV0IGtleQ==");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "5e3c1f0a");
    let sent = app.handle(
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        sample_now(),
    );
    assert!(sent.is_empty(), "{sent:?}");
    snap("ceph_errors", &app);
    let screen = render(&app, 120, 40);
    assert!(!screen.contains("c2VjcmV0"), "{screen}");

    let mut joined = host(true);
    joined.screen = Screen::Ceph;
    joined.handle(Event::Ceph(op, Ok(sample_ceph())), sample_now());
    snap("ceph_joined", &joined);
    joined.ceph.row = crate::app::ceph::LEAVE;
    key(&mut joined, KeyCode::Enter);
    snap("ceph_leave_confirm", &joined);

    // Joined, but the cluster does not answer.
    let mut down = host(true);
    down.screen = Screen::Ceph;
    let mut status = sample_ceph();
    status.cluster = None;
    status.problem = Some(
        "not connected to the Ceph cluster: no monitor of \
         192.0.2.31, v2:192.0.2.32:3300 answered within 10s"
            .into(),
    );
    down.handle(Event::Ceph(op, Ok(status)), sample_now());
    snap("ceph_unreachable", &down);
}

#[test]
fn ceph_joining_counts_seconds() {
    let mut app = host(true);
    app.screen = Screen::Ceph;
    type_text(&mut app, "192.0.2.31");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "client.lqx");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "AQBzSk5nAAAAABAAGJ2UxtMqK6IjkGUoJ9DAHQ==");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert!(app.ceph.busy.is_some());
    app.handle(Event::Tick, sample_now() + time::Duration::seconds(4));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("waiting for the monitors to accept client.lqx... 4 s"),
        "{screen}"
    );
}

/// An unlocked host on the Cluster screen, the agent having answered
/// `status` (and, for a member, the sample's three hosts).
fn cluster_screen(status: lqx_api::ClusterStatus) -> App {
    let mut app = host(true);
    app.screen = Screen::Cluster;
    let member = status.cluster.is_some();
    app.handle(Event::Cluster(ClusterOp::Fetch, Ok(status)), sample_now());
    if member {
        app.handle(Event::Members(Ok(sample_members())), sample_now());
    }
    app
}

#[test]
fn cluster_not_a_member() {
    let mut app = cluster_screen(sample_no_cluster());
    snap("cluster_not_member", &app);

    // A bad name and a damaged token: inline messages, nothing sent.
    type_text(&mut app, "-");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    let sent = app.handle(
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        sample_now(),
    );
    assert!(sent.is_empty(), "{sent:?}");
    app.cluster.row = crate::app::cluster::TOKEN;
    let token = sample_token().token;
    type_text(&mut app, &token[..token.len() - 9]);
    key(&mut app, KeyCode::Enter);
    snap("cluster_errors", &app);
    // The field shows the end of the token, where the cursor is.
    // 61 columns after the label: the marker, 59 characters, the cursor.
    let typed = &token[..token.len() - 9];
    let screen = render(&app, 80, 24);
    let end = format!("<{}", &typed[typed.len() - 59..]);
    assert!(screen.contains(&end), "{end}\n{screen}");

    // Joining: the busy line counts the seconds.
    type_text(&mut app, &token[token.len() - 9..]);
    let sent = app.handle(
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        sample_now(),
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
    app.handle(Event::Tick, sample_now() + time::Duration::seconds(12));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Joining... this can take a minute (12 s)"),
        "{screen}"
    );
}

#[test]
fn cluster_member() {
    let app = cluster_screen(sample_cluster());
    snap("cluster_member", &app);
    let screen = render(&app, 80, 24);
    for text in [
        "Member of cluster lab",
        "2 of 3 members ready",
        "hv-01 (this host)",
    ] {
        assert!(screen.contains(text), "{text:?} missing:\n{screen}");
    }
    // More hosts than rows: the table scrolls to the one selected.
    let mut many = cluster_screen(sample_cluster());
    let host = sample_members()[1].clone();
    let members = (0..12u128)
        .map(|i| lqx_api::Member {
            id: uuid::Uuid::from_u128(0x9000 + i),
            hostname: format!("hv-{:02}", i + 10),
            ..host.clone()
        })
        .collect();
    many.handle(Event::Members(Ok(members)), sample_now());
    for _ in 0..14 {
        key(&mut many, KeyCode::Down);
    }
    let screen = render(&many, 80, 24);
    assert!(screen.contains("> hv-21"), "{screen}");
    assert!(screen.contains("(hosts 5-12 of 12)"), "{screen}");

    // The store does not answer: lqxd's reason, the hosts as last read.
    let mut down = app;
    let mut status = sample_cluster();
    status.store_reachable = false;
    status.store_error = Some("etcd: no leader within 5s".into());
    down.handle(Event::Cluster(ClusterOp::Fetch, Ok(status)), sample_now());
    down.handle(
        Event::Members(Err(Failure {
            status: Some(503),
            message: "the cluster store does not answer".into(),
        })),
        sample_now(),
    );
    // The last host selected, asked to be removed.
    for _ in 0..5 {
        key(&mut down, KeyCode::Down);
    }
    key(&mut down, KeyCode::Enter);
    snap("cluster_unreachable_remove", &down);
}

#[test]
fn cluster_token() {
    let mut app = cluster_screen(sample_cluster());
    app.handle(Event::TokenCreated(Ok(sample_token())), sample_now());
    let token = sample_token().token;
    for (w, h) in [(80, 24), (120, 60)] {
        let screen = render(&app, w, h);
        insta::assert_snapshot!(format!("cluster_token_{w}x{h}"), screen);
        // The token's lines, joined, are the token.
        let joined: String = screen
            .lines()
            .skip_while(|l| !l.starts_with("lqx1."))
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(joined, token, "{w}x{h}:\n{screen}");
    }
    let small = render(&app, 80, 24);
    assert!(
        small.contains("Enlarge the terminal to at least 80x"),
        "{small}"
    );
    let large = render(&app, 120, 60);
    assert!(large.contains('▀') && !large.contains("Enlarge"), "{large}");

    // The size the hint asks for is enough, and one row less is not.
    let needed = small
        .split("at least 80x")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|h| h.parse::<u16>().ok())
        .unwrap();
    assert!(!render(&app, 80, needed).contains("Enlarge"));
    assert!(render(&app, 80, needed - 1).contains("Enlarge"));
}

#[test]
fn status_with_a_cluster() {
    let mut app = host(true);
    app.handle(
        Event::Cluster(ClusterOp::Fetch, Ok(sample_cluster())),
        sample_now(),
    );
    app.handle(Event::Members(Ok(sample_members())), sample_now());
    insta::assert_snapshot!("status_cluster_80x24", render(&app, 80, 24));
    let mut status = sample_cluster();
    status.store_reachable = false;
    app.handle(Event::Cluster(ClusterOp::Fetch, Ok(status)), sample_now());
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("lab, this host a voter: store unreachable"),
        "{screen}"
    );
    app.handle(
        Event::Cluster(ClusterOp::Fetch, Ok(sample_no_cluster())),
        sample_now(),
    );
    assert!(render(&app, 80, 24).contains("not a member"));
}

#[test]
fn agent_unreachable_is_shown_not_fatal() {
    let app = App {
        error: Some("lqxd is not running: nothing listens on /run/lqx/lqxd.sock".into()),
        ..App::default()
    };
    let screen = render(&app, 80, 24);
    assert!(screen.contains("lqxd is not running"), "{screen}");
    assert!(screen.contains("Waiting for the host agent"), "{screen}");
}

#[test]
fn small_and_large_terminals_do_not_panic() {
    let mut app = with_network(host(true), sample_pending());
    app.handle(Event::Diagnostics(Ok(sample_diagnostics())), sample_now());
    app.handle(Event::Journal(Ok(sample_journal(200))), sample_now());
    for screen in crate::app::Screen::ALL {
        app.screen = screen;
        for (w, h) in [(1, 1), (20, 5), (80, 10), (200, 60)] {
            render(&app, w, h);
        }
    }
    // The Cluster screen's views: the form, a member's, a token's.
    let mut app = cluster_screen(sample_no_cluster());
    app.cluster.row = crate::app::cluster::TOKEN;
    type_text(&mut app, &sample_token().token);
    let mut member = cluster_screen(sample_cluster());
    member.cluster.row = crate::app::cluster::MEMBERS + 2;
    let mut token = cluster_screen(sample_cluster());
    token.handle(Event::TokenCreated(Ok(sample_token())), sample_now());
    for app in [app, member, token] {
        for (w, h) in [(1, 1), (20, 5), (80, 10), (200, 60)] {
            render(&app, w, h);
        }
    }
}
