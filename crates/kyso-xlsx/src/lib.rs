//! A minimal XLSX (Office Open XML spreadsheet) writer and reader for kyso's imports and exports:
//! registers and provider lists come in as spreadsheets, worklists and reports go out as them.
//!
//! - [`Writer`]: one or more sheets streamed row by row (a million rows never sit in memory),
//!   header row bold and frozen, column widths, text (UTF-8, inline strings), numbers and dates.
//! - [`Workbook`]: a sheet by name or the first one, streamed as [`Row`]s of [`Value`]s: shared
//!   and inline strings, numbers, booleans, dates (raw serial kept, [`serial_to_iso`] converts),
//!   sparse cells (`r="C5"` gaps filled with [`Value::Empty`]; row numbers as the sheet shows them).
//!
//! No IO of its own: the caller hands in a `Write + Seek` or `Read + Seek`. Untrusted input never
//! panics; errors name the part and, in a sheet, the cell.

mod capped;
mod date;
mod read;
mod write;

pub use capped::{write_bomb, MAX_OTHER_PART_BYTES, MAX_RATIO, MAX_RUN, MAX_SHARED_STRINGS_BYTES, MAX_SHEET_BYTES};
pub use date::{serial_to_iso, serial_to_ymd, ymd_to_serial, Ymd};
pub use read::{format_number, Row, Rows, Serial, Value, Workbook};
pub use write::{column_name, Cell, Column, Writer};

use std::fmt;

/// Excel's sheet size: 1,048,576 rows by 16,384 columns (A to XFD).
pub const MAX_ROWS: usize = 1_048_576;
pub const MAX_COLUMNS: usize = 16_384;

/// What went wrong, and where: the package part and, inside a sheet, the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub part: String,
    pub cell: Option<String>,
    pub message: String,
}

impl Error {
    pub(crate) fn new(part: &str, cell: Option<String>, message: String) -> Self {
        Self { part: part.to_owned(), cell, message }
    }

    pub(crate) fn zip(part: &str, e: zip::result::ZipError) -> Self {
        Self::new(part, None, format!("ZIP: {e}"))
    }

    pub(crate) fn io(part: &str, e: std::io::Error) -> Self {
        Self::new(part, None, format!("{e}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cell {
            Some(cell) => write!(f, "{}, cell {}: {}", self.part, cell, self.message),
            None => write!(f, "{}: {}", self.part, self.message),
        }
    }
}

impl std::error::Error for Error {}
