//! Campaign tracker core: administrative units, adult denominators, targets and milestones,
//! adoption counting, door-to-door worklists, forecasts and report deadlines.
//!
//! Architecture invariant: no IO. Every import reads a `&str` (or an `impl Read` the caller
//! opened, see [`csv::read_utf8`], or bytes the caller read, see [`provider_import`]); dates and
//! instants come in as arguments, never from a clock. Threads are allowed (scoped, pure work).
//! Architecture invariant: a full ID number never appears in `Debug`/`Display` output or in an
//! import issue; [`population::CitizenId`] masks itself (`0191****0001`).
//!
//! Modules, in the order a campaign uses them: [`units`] (province → commune → hamlet),
//! [`population`] (the police register), [`eid`] (level-2 e-ID: the police list, coverage, needs), [`denominator`] (the age line), [`plan`] (targets,
//! milestones, segments), [`adoption`] (who holds a valid certificate on a date), [`worklist`]
//! (who to visit tomorrow), [`reconcile`] (the corrections the register, the lists and the visits
//! owe each other), [`provider_list`] and [`provider_import`] (lists of certificates the
//! providers issued), [`renewals`] (who lapses when, unless they renew), [`forecast`] (run rate
//! against the required rate, net of known expiries) and [`deadlines`]
//! (weekly and monthly reports, completeness and timeliness).

pub mod adoption;
pub mod approval;
pub mod csv;
pub mod deadlines;
pub mod denominator;
pub mod eid;
pub mod forecast;
pub mod hotline;
pub mod notify;
pub mod plan;
pub mod population;
pub mod provider_import;
pub mod provider_list;
pub mod reconcile;
pub mod register_index;
pub mod renewals;
pub mod reports;
pub mod signed_use;
pub mod staff;
pub mod tasks;
pub mod training;
pub mod units;
pub mod worklist;

pub use csv::{ImportReport, RowIssue};
