//! An OVSDB client (RFC 7047, with ovsdb-server's `monitor_cond` and
//! `update2` extensions).
//!
//! - [`frame`]: cutting the byte stream into JSON messages.
//! - [`datum`]: atoms, sets and maps and their JSON.
//! - [`schema`]: tables, columns and their kinds, from `get_schema`.
//! - [`replica`]: monitored tables kept current by `update2`.
//! - [`ops`]: transaction operations.
//! - [`remote`]: `unix:`, `tcp:` and `ssl:` addresses.
//! - [`client`]: one connection: calls, `transact`, monitors, `echo`.
//! - [`tables`]: typed rows of the tables LimiQuantix reads.
//! - [`session`]: reconnecting, following a cluster's leader, monitors
//!   that survive reconnection.

pub mod client;
pub mod datum;
pub mod frame;
pub mod ops;
pub mod remote;
pub mod replica;
pub mod schema;
pub mod session;
pub mod tables;

pub use client::{Client, ClientError, Monitor, TlsSettings};
pub use remote::Remote;
pub use replica::column;
pub use session::{Session, SessionMonitor, SessionOptions};

pub use datum::{Atom, ColumnKind, Datum};
pub use replica::{Replica, Row};
pub use schema::Schema;
