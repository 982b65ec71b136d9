//! Drawing. Pure functions of [`App`]: nothing here reads the system.

mod status;
pub mod summary;

use crate::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    let hostname = app.host.as_ref().map_or("", |h| h.facts.hostname.as_str());
    let bar = Line::from(vec![
        Span::raw(" LimiQuantix").add_modifier(Modifier::BOLD),
        Span::raw(format!(
            "{:>width$} ",
            hostname,
            width = title.width.saturating_sub(13) as usize
        )),
    ]);
    frame.render_widget(Paragraph::new(bar).style(Style::new().reversed()), title);
    status::draw(frame, body, app);
    draw_footer(frame, footer, app);
}

fn draw_footer(frame: &mut Frame<'_>, area: ratatui::layout::Rect, app: &App) {
    let updated = app
        .updated_at
        .map(|t| format!("{:02}:{:02}:{:02} UTC", t.hour(), t.minute(), t.second()));
    let state = match (&app.error, &updated) {
        (Some(err), Some(at)) => Line::from(format!(" {err} (showing data from {at})")).red(),
        (Some(err), None) => Line::from(format!(" {err}")).red(),
        (None, Some(at)) => Line::from(format!(" Updated {at}")),
        (None, None) => Line::from(" Contacting lqxd..."),
    };
    let keys = Line::from(vec![
        Span::raw(" R").bold(),
        Span::raw(" Refresh   "),
        Span::raw("Q").bold(),
        Span::raw(" Quit"),
    ]);
    frame.render_widget(Paragraph::new(vec![state, keys]), area);
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use lqx_api::{
        AddressFamily, AddressScope, AgentInfo, AgentMode, CpuInfo, DefaultRoute, DnsInfo,
        HostFacts, HostInfo, InterfaceAddress, KernelInfo, LinkState, LoadAverage, MemoryInfo,
        NetworkInterface, OsRelease,
    };
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use time::OffsetDateTime;

    fn nic(name: &str, index: u32, addrs: &[(&str, u8)]) -> NetworkInterface {
        NetworkInterface {
            name: name.into(),
            index,
            kind: None,
            mac: Some("52:54:00:12:34:56".into()),
            mtu: 1500,
            admin_up: true,
            link_state: LinkState::Up,
            carrier: Some(true),
            controller: None,
            addresses: addrs
                .iter()
                .map(|(a, p)| {
                    let address: std::net::IpAddr = a.parse().unwrap();
                    InterfaceAddress {
                        address,
                        prefix_len: *p,
                        family: if address.is_ipv4() {
                            AddressFamily::Ipv4
                        } else {
                            AddressFamily::Ipv6
                        },
                        scope: if a.starts_with("fe80") {
                            AddressScope::Link
                        } else {
                            AddressScope::Global
                        },
                        dynamic: false,
                    }
                })
                .collect(),
        }
    }

    pub fn sample_host() -> HostInfo {
        HostInfo {
            host_id: uuid::Uuid::from_u128(0x1234),
            labels: Default::default(),
            agent: AgentInfo {
                version: "0.1.0".into(),
                mode: AgentMode::Appliance,
                pid: 42,
                state_dir: "/var/lib/lqx".into(),
                socket: "/run/lqx/lqxd.sock".into(),
                address: None,
                started_at: OffsetDateTime::UNIX_EPOCH,
            },
            facts: HostFacts {
                hostname: "hv-01".into(),
                machine_id: None,
                os: OsRelease {
                    pretty_name: Some("LimiQuantix 0.1 (Debian trixie)".into()),
                    ..Default::default()
                },
                kernel: KernelInfo {
                    name: "Linux".into(),
                    release: "6.12.57+deb13-amd64".into(),
                    version: "#1".into(),
                    machine: "x86_64".into(),
                },
                boot_time: OffsetDateTime::UNIX_EPOCH,
                uptime_seconds: 3725,
                cpu: CpuInfo {
                    model: Some("AMD EPYC 7302".into()),
                    count: 32,
                },
                memory: MemoryInfo {
                    total_bytes: 128 << 30,
                    available_bytes: 100 << 30,
                },
                load: LoadAverage {
                    one: 0.5,
                    five: 0.25,
                    fifteen: 0.1,
                },
                interfaces: vec![
                    nic("lo", 1, &[("127.0.0.1", 8)]),
                    nic("eno1", 2, &[("192.0.2.10", 24), ("fe80::1", 64)]),
                    nic("eno2", 3, &[]),
                ],
                default_routes: vec![DefaultRoute {
                    family: AddressFamily::Ipv4,
                    gateway: Some("192.0.2.1".parse().unwrap()),
                    interface: Some("eno1".into()),
                    metric: None,
                }],
                dns: DnsInfo {
                    servers: vec!["192.0.2.53".parse().unwrap()],
                    search: vec!["lab.example".into()],
                    source: "/run/systemd/resolve/resolv.conf".into(),
                },
            },
        }
    }

    fn render(app: &App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| draw(f, app)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| {
                let line: String = (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect();
                line.trim_end().to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn status_screen_at_80x24() {
        let app = App {
            host: Some(Box::new(sample_host())),
            updated_at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(3600 * 9 + 65)),
            ..App::default()
        };
        insta::assert_snapshot!(render(&app, 80, 24));
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
    fn small_terminal_does_not_panic() {
        let app = App {
            host: Some(Box::new(sample_host())),
            ..App::default()
        };
        for (w, h) in [(1, 1), (20, 5), (80, 10), (200, 60)] {
            render(&app, w, h);
        }
    }
}
