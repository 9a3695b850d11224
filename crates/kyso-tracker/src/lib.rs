//! The campaign service: the campaign's counterpart to `kyso-authority`, above `kyso-store` (the
//! rows) and `kyso-campaign` (the pure rules). It imports units, hamlets, registers, provider
//! lists and staff lists; builds and loads the register's column index; recomputes adoption
//! snapshots; records plans, visits, reports, tasks and segments (each write audited); and holds
//! the read models and XLSX exports that the web pages, the CLI and the demo all share.
//!
//! Architecture invariant: no HTTP, no argument parsing, no printing. The CLI and kyso-server call
//! this crate and render what it returns; long jobs report through [`Progress`], never to a
//! terminal. Nothing here starts a timer: the server schedules [`adoption::refresh_today`].
//! ID numbers leave this crate masked, except as the store keys them.
//!
//! Errors: the read models shared with the pages return [`Fallible`] (a sentence); the
//! orchestration (imports, writes) returns `anyhow::Result` with the context a user acts on.

pub mod adoption;
pub mod approval;
pub mod eid;
mod feedback;
pub mod hotline;
pub mod import;
pub mod notify;
pub mod plan;
pub mod provider;
pub mod read;
pub mod reconcile;
pub mod register_index;
pub mod registers;
pub mod renewals;
pub mod report_xlsx;
pub mod reports;
pub mod signed_use;
pub mod source;
pub mod training;
pub mod worklist;

pub use feedback::{Logged, Progress, Silent};
pub use read::Fallible;
