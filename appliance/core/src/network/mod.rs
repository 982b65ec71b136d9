//! The network configuration: what a valid one is ([`validate`]) and the
//! systemd-networkd, resolved and timesyncd files it becomes ([`render`]).
//! The console validates with the same code as the agent, so an inline
//! message and the agent's refusal never disagree.

pub mod render;
#[doc(hidden)]
pub mod samples;
pub mod validate;

pub use render::{RenderedFile, render};
pub use validate::{FieldError, NicFacts, ValidationErrors, validate};
