//! Printing a command's result: JSON under `--json`, text otherwise. A leaf: it imports nothing
//! else from this crate.

pub fn out(json_mode: bool, v: serde_json::Value, text: &str) {
    if json_mode {
        println!("{v}");
    } else if !text.is_empty() {
        println!("{text}");
    }
}
