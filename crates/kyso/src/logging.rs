//! The server log: one event is always one line. Every field value (the message too) is written
//! with its control characters — newlines, carriage returns, escape sequences — and the Unicode
//! line separators escaped, whatever the handler passed in, so that no value (an encoded newline
//! in a query string, say) can forge a second log line. Handlers also escape what they log from
//! users (`kyso_server::input::Clean`); this is the net under all of them.

use std::fmt;
use tracing::field::Field;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{self, Writer};

/// The field formatter of the subscriber: `name=value` pairs separated by spaces, the message
/// bare, values escaped.
pub fn fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static {
    format::debug_fn(|w: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug| {
        let text = format!("{value:?}");
        if field.name() != "message" {
            write!(w, "{}=", field.name())?;
        }
        write_escaped(w, &text)
    })
    .delimited(" ")
}

fn write_escaped(w: &mut impl fmt::Write, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            '\t' => w.write_str("\\t")?,
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => write!(w, "\\u{{{:x}}}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_event_is_one_line() {
        let buf = Buf::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(super::fields())
            .with_ansi(false)
            .with_writer(move || buf.clone())
            .finish();
        let forged = "garbage\n2026-01-01T00:00:00.000000Z  INFO kyso_server::web::desk: staff login staff=admin role=administrator";
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(error = %forged, "campaign page failed");
            tracing::info!(value = ?forged, "{}", forged);
            tracing::warn!("plain\r\u{1b}[31mred\u{2028}");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains("campaign page failed error=garbage\\n2026-01-01"), "{}", lines[0]);
        assert!(!text.contains('\r') && !text.contains('\u{1b}') && !text.contains('\u{2028}'), "{text}");
        assert!(lines.iter().all(|l| !l.starts_with("2026-01-01T00:00:00.000000Z")));
    }
}
