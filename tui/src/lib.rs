//! The LimiQuantix console, as a library so that tests can drive it by
//! key events against a real agent; `main.rs` is a thin wrapper.
//!
//! - [`event`]: the one event channel's events, and the effects the state
//!   asks for.
//! - [`keymap`]: keys to commands.
//! - [`app`]: the state; it changes only in [`app::App::handle`]. One
//!   submodule per screen.
//! - [`widgets`]: input widgets' state (text field, choice, scroll).
//! - [`effects`]: effects performed against the agent's API.
//! - [`view`]: drawing, a pure function of the state; one module per
//!   screen.
//! - [`runtime`]: the terminal and the event loop.

pub mod app;
pub mod effects;
pub mod event;
pub mod keymap;
pub mod runtime;
pub mod view;
pub mod widgets;
