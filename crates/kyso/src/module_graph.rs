//! Checks on the crate's own shape, read from its source: the top-level modules' imports of one
//! another (`crate::…` paths) form no circle, nothing imports the dispatch table (`commands`), the
//! leaves import nothing from the crate, and no source file is over 800 lines.
//!
//! A top-level module is a file `src/x.rs` or a folder `src/x/`; `super::` paths stay inside one
//! and are not followed. A `crate::Item` that names no module is the crate root's (main.rs), which
//! declares every module: an edge to it is a circle too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = "crate";
/// Modules that import nothing else from the crate.
const LEAVES: &[&str] = &["args", "data", "logging", "output", "public_url"];
const MAX_LINES: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir` but this one (its test text names modules).
fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("module_graph.rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to (`crate` for main.rs).
fn owner(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    match first.strip_suffix(".rs") {
        Some("main") => ROOT.into(),
        Some(stem) => stem.into(),
        None => first,
    }
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first names of the `crate::` paths in `text` (`crate::a::b`, `crate::{a, b::c}`), line
/// comments left out.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `kyso_crate::`
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(item.trim()).to_string());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            names.insert(ident(item.trim()).to_string());
        } else {
            names.insert(ident(rest).to_string());
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Module → the modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let modules: BTreeSet<String> = all.iter().map(|f| owner(f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for f in &all {
        let from = owner(f);
        for name in crate_paths(&std::fs::read_to_string(f).unwrap()) {
            let to = if modules.contains(&name) && name != ROOT { name } else { ROOT.to_string() };
            if to != from {
                g.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    // The root declares (and so depends on) every module.
    let others: BTreeSet<String> = modules.iter().filter(|m| *m != ROOT).cloned().collect();
    g.insert(ROOT.into(), others);
    g
}

/// A circle through the graph, if there is one (as the modules along it).
fn circle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut c = path[i..].to_vec();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in &g[m] {
            if let Some(c) = visit(next, g, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|m| visit(m, g, &mut done, &mut Vec::new()))
}

#[test]
fn paths_are_read_in_every_form() {
    let text = "use crate::data::{open, DataDir};\nuse crate::{audit, bench::run};\n// crate::commented\nlet x = crate::demo::seed(); kyso_crate::no";
    let want: BTreeSet<String> = ["audit", "bench", "data", "demo"].map(String::from).into();
    assert_eq!(crate_paths(text), want);
    let g = BTreeMap::from([("a".to_string(), BTreeSet::from(["b".to_string()])), ("b".into(), ["a".into()].into())]);
    assert_eq!(circle(&g), Some(vec!["a".to_string(), "b".into(), "a".into()]));
}

#[test]
fn the_modules_import_one_another_without_a_circle() {
    let g = graph();
    assert_eq!(circle(&g), None, "imports between the crate's modules: {g:#?}");
    for (m, to) in &g {
        assert!(!to.contains("commands") || m == ROOT, "{m} imports the dispatch table (commands)");
    }
    for leaf in LEAVES {
        assert!(g[*leaf].is_empty(), "{leaf} is a leaf but imports {:?}", g[*leaf]);
    }
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    for f in all {
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        assert!(n <= MAX_LINES, "{} has {n} lines (at most {MAX_LINES})", f.display());
    }
}
