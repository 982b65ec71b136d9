//! The console driven by key presses against a real lqxd (standalone: it
//! renders network files into its state directory and leaves the host's
//! networking alone): first password, lock and unlock, a static address
//! applied and confirmed, and an invalid field that sends nothing; the
//! OVN screen registering the host with a real OVN stack; the Ceph
//! screen joining and leaving a real Ceph cluster; and the Cluster screen
//! creating a cluster on the agent's own etcd, making a join token and
//! dissolving the cluster.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lqx_api::{ApplyResult, Ipv4Config, NetworkConfig};
use lqx_console::app::{Access, App, NetView, Screen};
use lqx_console::effects::perform;
use lqx_console::event::Event;
use lqx_test_support::AgentFixture;
use time::OffsetDateTime;

const PASSWORD: &str = "violet-kettle-orbit-47";

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
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    feed(app, client, Event::Key(key)).await;
}

async fn type_text(app: &mut App, client: &lqx_client::Client, text: &str) {
    for c in text.chars() {
        press(app, client, KeyCode::Char(c)).await;
    }
}

/// Goes to `screen` with Tab, as an operator would.
async fn tab_to(app: &mut App, client: &lqx_client::Client, screen: Screen) {
    for _ in 0..Screen::ALL.len() {
        if app.screen == screen {
            return;
        }
        press(app, client, KeyCode::Tab).await;
    }
    assert_eq!(app.screen, screen, "Tab never reached {screen:?}");
}

/// Replaces the text of the focused field.
async fn retype(app: &mut App, client: &lqx_client::Client, text: &str) {
    press(app, client, KeyCode::End).await;
    for _ in 0..80 {
        press(app, client, KeyCode::Backspace).await;
    }
    type_text(app, client, text).await;
}

async fn saved(client: &lqx_client::Client) -> Option<NetworkConfig> {
    client.network().await.unwrap().desired
}

/// A fresh agent: the password is set by keys, the console is unlocked.
async fn first_boot(agent: &AgentFixture) -> App {
    let client = agent.client();
    let mut app = App::default();
    feed(&mut app, &client, Event::Tick).await;
    assert_eq!(app.access(), Access::SetPassword, "{}", agent.log());

    // Too short first: an inline message, nothing sent.
    type_text(&mut app, &client, "short").await;
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, "short").await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.set_password.new_error.is_some());
    assert!(!client.auth().await.unwrap().password_set);

    // A weak one of the right length: lqxd's verdict is shown.
    retype(&mut app, &client, "password12").await;
    press(&mut app, &client, KeyCode::Down).await;
    retype(&mut app, &client, "password12").await;
    press(&mut app, &client, KeyCode::Enter).await;
    let verdict = app.set_password.new_error.clone().expect("refused as weak");
    assert!(!verdict.is_empty());
    assert!(!client.auth().await.unwrap().password_set);

    retype(&mut app, &client, PASSWORD).await;
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, PASSWORD).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert_eq!(
        app.access(),
        Access::Unlocked,
        "{:?}",
        app.set_password.new_error
    );
    assert!(client.auth().await.unwrap().password_set);
    app
}

#[tokio::test]
async fn password_then_lock_and_unlock_by_keys() {
    let agent = AgentFixture::start().await;
    let client = agent.client();
    let mut app = first_boot(&agent).await;

    press(&mut app, &client, KeyCode::Char('l')).await;
    assert_eq!(app.access(), Access::Locked);

    // Diagnostics stays readable while locked.
    tab_to(&mut app, &client, Screen::Diagnostics).await;
    assert!(!app.unlock_shown());
    assert!(
        app.diag.checks.is_some(),
        "{:?} {}",
        app.diag.checks_error,
        agent.log()
    );

    // SSH needs the password: wrong, then right.
    tab_to(&mut app, &client, Screen::Ssh).await;
    assert!(app.unlock_shown());
    type_text(&mut app, &client, "not the password").await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert_eq!(app.access(), Access::Locked);
    assert!(app.unlock.error.is_some(), "the agent's refusal is shown");
    type_text(&mut app, &client, PASSWORD).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert_eq!(app.access(), Access::Unlocked, "{:?}", app.unlock.error);
    assert!(!app.unlock_shown());

    // A standalone agent refuses SSH; the console shows why and runs on.
    assert!(app.ssh.status.is_some());
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, PASSWORD).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.ssh.message.is_some(), "{:?}", app.ssh);
    assert!(!app.quit);
}

#[tokio::test]
async fn static_address_applied_and_confirmed_by_keys() {
    let agent = AgentFixture::start().await;
    let client = agent.client();
    let mut app = first_boot(&agent).await;

    tab_to(&mut app, &client, Screen::Names).await;
    assert!(app.net.draft.is_some(), "draft built from the host's facts");
    retype(&mut app, &client, "console-test").await;

    tab_to(&mut app, &client, Screen::Network).await;
    let draft = app.net.draft.clone().unwrap();
    let index = draft
        .links
        .iter()
        .position(|l| l.name == draft.management)
        .expect("a management link among the host's NICs");
    let nic = draft.links[index].name.clone();
    for _ in 0..index {
        press(&mut app, &client, KeyCode::Down).await;
    }
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(matches!(app.net.view, NetView::Edit { .. }));
    press(&mut app, &client, KeyCode::Right).await; // DHCP -> static
    press(&mut app, &client, KeyCode::Down).await;
    type_text(&mut app, &client, "198.51.100.300/24").await;
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, "198.51.100.1").await;
    press(&mut app, &client, KeyCode::Esc).await;

    // Invalid: the inline message is there and nothing reaches lqxd.
    let field = format!("links[{index}].ipv4.addresses");
    assert!(app.net.error(&field).is_some(), "{:?}", app.net.errors);
    press(&mut app, &client, KeyCode::Char('a')).await;
    assert_eq!(saved(&client).await, None, "nothing saved");
    assert!(client.network().await.unwrap().pending.is_none());

    // Fixed: saved, applied, pending with a countdown.
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Down).await;
    retype(&mut app, &client, "198.51.100.30/24").await;
    press(&mut app, &client, KeyCode::Esc).await;
    assert!(app.net.errors.is_none(), "{:?}", app.net.errors);
    press(&mut app, &client, KeyCode::Char('a')).await;
    let status = client.network().await.unwrap();
    let pending = status.pending.expect("apply pending confirmation");
    let link = pending.config.links.iter().find(|l| l.name == nic).unwrap();
    assert_eq!(
        link.ipv4,
        Ipv4Config::Static {
            addresses: vec!["198.51.100.30/24".into()],
            gateway: Some("198.51.100.1".into()),
        }
    );
    assert_eq!(pending.config.hostname, "console-test");
    assert!(
        app.net.pending().is_some(),
        "the console shows the countdown"
    );
    let screen = lqx_console::view::sample::render(&app, 80, 24);
    assert!(screen.contains("confirm within"), "{screen}");

    // Confirmed by key.
    press(&mut app, &client, KeyCode::Char('c')).await;
    let status = client.network().await.unwrap();
    assert!(status.pending.is_none());
    assert_eq!(
        status.last_outcome.as_ref().map(|o| o.result),
        Some(ApplyResult::Confirmed)
    );
    assert_eq!(status.applied, status.desired);
    assert!(app.net.pending().is_none());
}

#[tokio::test]
async fn ovn_chassis_registered_and_unregistered_by_keys() {
    use lqx_test_support::ovn::{OvnCentral, OvnHost, sbctl};
    let central = OvnCentral::start();
    let host = OvnHost::start();
    let ovs_db = host.ovs.server.unix_remote();
    let agent = AgentFixture::start_with(
        lqx_test_support::workspace_bin("lqxd"),
        &["--ovs-db", &ovs_db, "--ovn-wait", "20"],
    )
    .await;
    let client = agent.client();
    let host_id = client.host().await.unwrap().host_id.to_string();
    let mut app = first_boot(&agent).await;
    tab_to(&mut app, &client, Screen::Ovn).await;
    assert!(app.ovn.status.is_some(), "status read on entry");

    // A tunnel address this host does not have: refused inline.
    type_text(&mut app, &client, &central.sb.server.tcp_remote()).await;
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, "198.51.100.7").await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.ovn.errors[1].is_some(), "{:?}", app.ovn.errors);
    assert!(client.ovn_chassis().await.unwrap().config.is_none());

    // Fixed where the cursor went (the faulty field): registered, and the
    // southbound database lists the host.
    assert_eq!(app.ovn.row, 1);
    retype(&mut app, &client, "127.0.0.1").await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.ovn.errors.iter().all(Option::is_none), "{:?}", app.ovn);
    let status = app.ovn.status.clone().unwrap();
    assert!(status.chassis_present, "{status:?} {:?}", app.ovn.message);
    let sb = central.sb.server.unix_remote();
    let find = || {
        sbctl(
            &sb,
            &[
                "--bare",
                "--columns=name",
                "find",
                "Chassis",
                &format!("name={host_id}"),
            ],
        )
    };
    assert_eq!(find(), host_id);
    let screen = lqx_console::view::sample::render(&app, 80, 24);
    assert!(screen.contains("lists it yes"), "{screen}");

    // Down to the Unregister button; U works there too.
    press(&mut app, &client, KeyCode::Down).await;
    press(&mut app, &client, KeyCode::Down).await;
    press(&mut app, &client, KeyCode::Char('u')).await;
    assert!(
        app.ovn.status.as_ref().unwrap().config.is_none(),
        "{:?}",
        app.ovn
    );
    assert_eq!(find(), "");
}

#[tokio::test]
async fn ceph_joined_and_left_by_keys() {
    use lqx_console::app::ceph::{FSID, KEY, NAME};
    use lqx_console::view::sample::render;
    use lqx_test_support::ceph::CephFixture;
    // The daemons die with the thread that started them: the test's own.
    let ceph = CephFixture::start();
    ceph.create_rbd_pool("vms");
    let key = ceph.create_rbd_client("lqx", &["vms"]);
    let agent = AgentFixture::start_with(
        lqx_test_support::workspace_bin("lqxd"),
        &["--ceph-timeout", "3"],
    )
    .await;
    let client = agent.client();
    let joined = async || client.ceph().await.unwrap().config;
    let mut app = first_boot(&agent).await;
    tab_to(&mut app, &client, Screen::Ceph).await;
    let status = app.ceph.status.clone().expect("status read on entry");
    assert!(status.config.is_none(), "{status:?}");

    // A name that is not client.ID: refused inline, nothing sent.
    let mon = ceph.mon_v2().to_string();
    type_text(&mut app, &client, &mon).await;
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, "lqx").await;
    press(&mut app, &client, KeyCode::Enter).await;
    type_text(&mut app, &client, &key).await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.ceph.errors[NAME].is_some(), "{:?}", app.ceph.errors);
    assert_eq!(app.ceph.row, NAME, "the cursor is on the faulty field");
    assert!(joined().await.is_none());

    // client.admin's key under client.lqx: the monitors refuse it, the
    // screen says so under the key, nothing is joined.
    retype(&mut app, &client, "client.lqx").await;
    press(&mut app, &client, KeyCode::Down).await;
    retype(&mut app, &client, &ceph.admin_key()).await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    let screen = render(&app, 80, 24);
    assert!(screen.contains("authentication failed"), "{screen}");
    assert_eq!(app.ceph.row, KEY);
    assert!(joined().await.is_none());

    // The right key, another cluster's fsid: refused, nothing joined.
    retype(&mut app, &client, &key).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert_eq!(app.ceph.row, FSID);
    type_text(&mut app, &client, "00000000-0000-4000-8000-000000000001").await;
    press(&mut app, &client, KeyCode::Enter).await;
    let message = app.ceph.message.clone().unwrap_or_default();
    assert!(
        message.contains("refused: the cluster's fsid is"),
        "{message}"
    );
    assert!(joined().await.is_none());

    // The cluster's own fsid: joined, as the agent and `lqx` say.
    retype(&mut app, &client, ceph.fsid()).await;
    press(&mut app, &client, KeyCode::Enter).await;
    let config = joined().await.unwrap_or_else(|| panic!("{:?}", app.ceph));
    assert_eq!(config.fsid.to_string(), ceph.fsid());
    assert_eq!(config.name, "client.lqx");
    assert_eq!(config.mons, [format!("v2:{mon}")]);
    let lqx = lqx_test_support::run_lqx(&agent.socket(), &["ceph", "status", "--json"]);
    assert!(lqx.status.success(), "{lqx:?}");
    assert!(String::from_utf8_lossy(&lqx.stdout).contains(ceph.fsid()));
    let cluster = app.ceph.status.as_ref().and_then(|s| s.cluster.clone());
    let cluster = cluster.unwrap_or_else(|| panic!("{:?}", app.ceph));
    assert!(
        cluster
            .pools
            .iter()
            .any(|p| p.name == "vms" && p.rbd_readable),
        "{cluster:?}"
    );
    let screen = render(&app, 120, 40);
    for text in [ceph.fsid(), "Joined as client.lqx", "vms (rbd) readable"] {
        assert!(screen.contains(text), "{text:?} missing:\n{screen}");
    }
    assert!(
        screen.contains(&format!("a {mon}")),
        "monitor map:\n{screen}"
    );

    // The key is nowhere: not on screen, not in the state's Debug, not in
    // the agent's log.
    let debug = format!("{app:?}");
    for (what, text) in [
        ("screen", &screen),
        ("debug", &debug),
        ("log", &agent.log()),
    ] {
        assert!(!text.contains(&key), "the key is in the {what}");
    }

    // Leave: asked first, Esc keeps the membership, Y leaves.
    press(&mut app, &client, KeyCode::Down).await;
    press(&mut app, &client, KeyCode::Down).await;
    press(&mut app, &client, KeyCode::Enter).await;
    assert!(app.ceph.confirm_leave);
    press(&mut app, &client, KeyCode::Esc).await;
    assert!(joined().await.is_some());
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Char('y')).await;
    assert!(joined().await.is_none());
    let status = app.ceph.status.clone().unwrap();
    assert!(status.config.is_none(), "{status:?}");
}

#[tokio::test]
async fn cluster_created_token_made_and_dissolved_by_keys() {
    use lqx_console::app::cluster::{self, Confirm, NAME};
    use lqx_console::view::sample::render;
    use lqx_core::cluster_token::JoinToken;
    // The remote API must be served for a cluster (its authority becomes
    // the cluster's); 127.0.0.35 is this test's own address, etcd's
    // ports included.
    let agent = AgentFixture::start_with(
        lqx_test_support::workspace_bin("lqxd"),
        &["--address", "127.0.0.35", "--api-port", "18443"],
    )
    .await;
    let client = agent.client();
    let cluster = async || client.cluster().await.unwrap().cluster;
    let mut app = first_boot(&agent).await;
    tab_to(&mut app, &client, Screen::Cluster).await;
    let status = app
        .cluster
        .status
        .clone()
        .expect("membership read on entry");
    assert!(status.cluster.is_none(), "{status:?}");
    assert_eq!(app.cluster.row, NAME);

    // An upper-case name: refused on the screen, nothing sent.
    retype(&mut app, &client, "Lab").await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    let problem = app.cluster.name_error.clone().unwrap_or_default();
    assert!(problem.contains("a-z"), "{problem}");
    assert_eq!(app.cluster.row, NAME, "the cursor is on the name");
    assert!(cluster().await.is_none());

    // `lab`, 3 voters: lqxd starts etcd, registers the host, answers.
    retype(&mut app, &client, "lab").await;
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Enter).await;
    let config = cluster()
        .await
        .unwrap_or_else(|| panic!("{:?}\n{}", app.cluster, agent.log()));
    assert_eq!((config.name.as_str(), config.voters), ("lab", 3));
    assert!(app.cluster.is_member(), "{:?}", app.cluster);
    let hosts = app.cluster.members.clone().expect("the hosts read after");
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    let screen = render(&app, 80, 24);
    for text in [
        "Created cluster lab",
        "Member of cluster lab",
        "(this host)",
    ] {
        assert!(screen.contains(text), "{text:?} missing:\n{screen}");
    }

    // A join token (T), shown with its text whole at 80x24 and a QR code
    // where there is room for one.
    press(&mut app, &client, KeyCode::Char('t')).await;
    let created = app
        .cluster
        .created
        .clone()
        .unwrap_or_else(|| panic!("{:?}", app.cluster));
    let screen = render(&app, 80, 24);
    let shown: String = screen
        .lines()
        .skip_while(|l| !l.starts_with("lqx1."))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(shown, created.token, "{screen}");
    assert!(screen.contains("Enlarge the terminal"), "{screen}");
    let token = JoinToken::decode(&shown).expect("the screen's token decodes");
    assert_eq!(token.fingerprint, config.fingerprint);
    assert_eq!(token.id, created.id);
    assert!(
        token
            .addresses
            .contains(&"127.0.0.35:18443".parse().unwrap()),
        "{token:?}"
    );
    // The agent keeps the token's record (its secret's hash) in the store.
    let bundle = agent.state_dir().join("admin");
    let record = lqx_test_support::cluster::etcdctl(
        &bundle,
        "https://127.0.0.35:2379",
        &[
            "get",
            "--print-value-only",
            &lqx_core::cluster::token_key(&token.id),
        ],
    );
    let record = String::from_utf8_lossy(&record.stdout);
    assert!(record.contains("secret_sha256"), "{record:?}");
    let large = render(&app, 120, 60);
    assert!(large.contains('▀') && !large.contains("Enlarge"), "{large}");
    press(&mut app, &client, KeyCode::Esc).await;
    assert!(app.cluster.created.is_none());
    assert!(!render(&app, 120, 60).contains(&shown[..40]));

    // Status shows the membership.
    tab_to(&mut app, &client, Screen::Status).await;
    let screen = render(&app, 80, 24);
    assert!(screen.contains("lab, this host a voter"), "{screen}");

    // Leaving as the last host: lqxd refuses, the screen offers to
    // dissolve the cluster, and Y does.
    tab_to(&mut app, &client, Screen::Cluster).await;
    app.cluster.row = cluster::TTL;
    press(&mut app, &client, KeyCode::Down).await;
    press(&mut app, &client, KeyCode::Down).await;
    assert_eq!(app.cluster.row, cluster::LEAVE);
    press(&mut app, &client, KeyCode::Enter).await;
    press(&mut app, &client, KeyCode::Char('y')).await;
    assert_eq!(
        app.cluster.confirm,
        Some(Confirm::Dissolve),
        "{:?}",
        app.cluster
    );
    let refusal = app.cluster.message.clone().unwrap_or_default();
    assert!(refusal.contains("last member"), "{refusal}");
    assert!(cluster().await.is_some());
    press(&mut app, &client, KeyCode::Char('y')).await;
    assert!(cluster().await.is_none(), "{:?}", app.cluster);
    assert!(!app.cluster.is_member());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Left and dissolved"), "{screen}");
}
