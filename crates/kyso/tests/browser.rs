//! The whole citizen journey in a real browser: Debian's Chromium driven by Playwright
//! (`tests/e2e/journey.py`) against `kyso serve --demo`, on a 360-px phone viewport, in Vietnamese.
//! The PDF it downloads must then pass kyso's validator and pyHanko. Screenshots of every step are
//! kept in `target/e2e-screenshots/` for review.
//!
//! Mandatory in CI (KYSO_REQUIRE_BROWSER=1); elsewhere, without Chromium or Playwright, it skips
//! with a notice.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{free_port, wait_ready, Env, Server};

fn python_with(module: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv/bin/python");
    let ok =
        |p: &Path| Command::new(p).args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success());
    ok(&venv).then_some(venv)
}

fn browser_tools() -> Option<PathBuf> {
    let chromium = Path::new("/usr/bin/chromium").exists();
    let py = python_with("playwright");
    match (chromium, py) {
        (true, Some(py)) => Some(py),
        _ if std::env::var("KYSO_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("Chromium (/usr/bin/chromium) and Playwright in .ci/venv are required (run .ci/run)")
        }
        _ => {
            eprintln!("NOTICE: Chromium or Playwright missing; skipping the browser journey (run .ci/run)");
            None
        }
    }
}

const PYHANKO_VALIDATE: &str = r#"
import sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
root = load_cert_from_pemder(sys.argv[2])
with open(sys.argv[1], 'rb') as f:
    sigs = PdfFileReader(f).embedded_signatures
    assert len(sigs) == 1, len(sigs)
    st = validate_pdf_signature(sigs[0], ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode='soft-fail'))
    print('SIG', st.intact, st.valid, st.trusted)
"#;

#[test]
fn citizen_journey_in_chromium_on_a_phone() {
    let Some(py) = browser_tools() else { return };
    let env = Env::new("browser");
    let port = free_port();
    let mut child = env
        .cmd()
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn kyso serve --demo");
    // The demo prints its logins: take the resident without an account and the desk login.
    let mut new_id = None;
    let mut desk_user = None;
    let mut password = None;
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.split("password for all: ").nth(1) {
            password = Some(rest.trim().trim_end_matches("):").to_string());
        }
        if line.contains("no account (try /register)") {
            new_id = line.split_whitespace().last().map(str::to_string);
        }
        if line.contains("support_staff") {
            desk_user = line.split_whitespace().nth(1).map(str::to_string);
        }
        if line.contains("administrator") {
            break;
        }
        line.clear();
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let _server = Server::new(child);
    wait_ready(port);
    let (new_id, desk_user, password) = (
        new_id.expect("demo prints a resident"),
        desk_user.expect("demo prints a desk login"),
        password.expect("demo prints the password"),
    );
    assert_eq!(new_id.len(), 12);

    let input = env.path("don-de-nghi.pdf");
    std::fs::write(&input, support::minimal_pdf("Don de nghi cap ban sao")).unwrap();
    let signed = env.path("don-de-nghi-da-ky.pdf");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/journey.py");
    let o = Command::new(&py)
        .arg(&script)
        .args([&format!("http://127.0.0.1:{port}"), &new_id, &desk_user, &password])
        .arg(&input)
        .arg(&signed)
        .arg(&shots)
        .output()
        .expect("run playwright");
    let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "browser journey failed:\n{log}");
    assert!(log.contains("journey complete"), "{log}");
    for step in [
        "01-register-form",
        "04-desk-verified",
        "05-desk-poster",
        "09-my-certificates",
        "11-verified",
        "13-worklist-phone",
        "16-rollup-phone",
    ] {
        assert!(shots.join(format!("{step}.png")).exists(), "screenshot {step}");
    }
    // The poster's QR code as Chromium drew it, read by zbar: the point's scan address.
    if let Some(zbar) = support::require_tool("zbarimg") {
        let o = Command::new(zbar).args(["-q", "--raw"]).arg(shots.join("05-desk-poster.png")).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(text.trim(), format!("http://127.0.0.1:{port}/g/hl-motcua"), "zbarimg: {text}");
    }

    // The downloaded PDF: kyso's validator …
    let v = env.kyso(&["verify", signed.to_str().unwrap(), "--json"]);
    let report = String::from_utf8_lossy(&v.stdout);
    assert!(v.status.success() && report.contains("\"indication\":\"TOTAL-PASSED\""), "kyso verify: {report}");
    assert!(report.contains("\"level\":\"B-LT\""), "the web signs dossiers at B-LT: {report}");
    // … and pyHanko, with kyso's root as the only trust anchor.
    if let Some(ph) = python_with("pyhanko") {
        let (status, der) = support::http("GET", &format!("http://127.0.0.1:{port}/ca/root.crt"), None, &[]).unwrap();
        assert_eq!(status, 200);
        let root = env.path("root.crt");
        std::fs::write(&root, der).unwrap();
        let o = Command::new(ph).args(["-c", PYHANKO_VALIDATE]).arg(&signed).arg(&root).output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("SIG True True True"), "pyHanko: {out}{}", String::from_utf8_lossy(&o.stderr));
    } else if std::env::var("KYSO_REQUIRE_INTEROP").as_deref() == Ok("1") {
        panic!("pyHanko is required (run .ci/run)");
    }
}
