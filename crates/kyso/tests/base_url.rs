//! The public base URL: certificates name their CRL, OCSP responder and CA certificate under it,
//! so it must be where the server answers. A demo on a non-default port names that port (read
//! back with OpenSSL, then fetched from the addresses the certificates give); a server whose
//! `--listen` is not the base URL refuses to start and says what to do; a wildcard `--listen` is
//! not a base URL; a base URL with a path or another scheme is refused at init.

mod support;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

/// The URIs `openssl x509 -text` prints: (CRL distribution points, OCSP, CA issuers).
fn cert_urls(pem: &Path) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (ok, text) = run(Command::new("openssl").arg("x509").arg("-noout").arg("-text").arg("-in").arg(pem));
    assert!(ok, "openssl x509: {text}");
    let (mut crl, mut ocsp, mut ca) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().map(str::trim) {
        if let Some(u) = line.strip_prefix("OCSP - URI:") {
            ocsp.push(u.to_string());
        } else if let Some(u) = line.strip_prefix("CA Issuers - URI:") {
            ca.push(u.to_string());
        } else if let Some(u) = line.strip_prefix("URI:") {
            crl.push(u.to_string());
        }
    }
    (crl, ocsp, ca)
}

/// GET `url` with the kit's client; the body of a 200.
fn fetch(url: &str) -> Vec<u8> {
    let (status, body) = http("GET", url, None, &[]).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(status, 200, "GET {url} (a URL taken from a certificate): {}", String::from_utf8_lossy(&body));
    body
}

/// A DER certificate fetched from a caIssuers URL, as PEM (for OpenSSL's -issuer/-CAfile).
fn der_cert_to_pem(env: &Env, der: &[u8], name: &str) -> std::path::PathBuf {
    let d = env.path(&format!("{name}.der"));
    let p = env.path(&format!("{name}.pem"));
    std::fs::write(&d, der).unwrap();
    let (ok, out) = run(Command::new("openssl").args(["x509", "-inform", "DER", "-in"]).arg(&d).arg("-out").arg(&p));
    assert!(ok, "the caIssuers URL did not serve a DER certificate: {out}");
    p
}

fn subject(pem: &Path, which: &str) -> String {
    let (ok, out) = run(Command::new("openssl").args(["x509", "-noout", which, "-in"]).arg(pem));
    assert!(ok, "{out}");
    out.trim().split_once('=').map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

#[test]
fn a_demo_on_another_port_issues_certificates_that_point_at_that_port() {
    let env = Env::new("baseurl-demo");
    let listen = format!("127.0.0.1:{}", env.port);
    let mut child = env
        .cmd()
        .args(["serve", "--demo", "--listen", &listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut named = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 && !line.contains("kyso is serving") {
        if line.contains("certificates name") {
            named = line.clone();
        }
        line.clear();
    }
    let mut server = Server::new(child);
    wait_ready(env.port);
    let base = format!("http://{listen}");
    assert!(named.contains(&base), "the server says where certificates point: {named:?}");
    assert_ne!(env.port, 8080);

    // A citizen certificate issued now: its three addresses are under --listen's host and port.
    let (_, leaf) = env.issue("019190000021", "vnpt", &[]);
    let (crl, ocsp, ca) = cert_urls(&leaf);
    assert_eq!(crl, [format!("{base}/crl/vnpt.crl")]);
    assert_eq!(ocsp, [format!("{base}/ocsp/vnpt")]);
    assert_eq!(ca, [format!("{base}/ca/vnpt.crt")]);

    // Follow them. caIssuers gives the certificate that issued the leaf …
    let issuer = der_cert_to_pem(&env, &fetch(&ca[0]), "vnpt-fetched");
    assert_eq!(subject(&issuer, "-subject"), subject(&leaf, "-issuer"));
    // … whose own addresses (set at init, from --listen) lead to the root …
    let (icrl, iocsp, ica) = cert_urls(&issuer);
    assert_eq!(icrl, [format!("{base}/crl/root.crl")]);
    assert!(iocsp.is_empty(), "{iocsp:?}");
    assert_eq!(ica, [format!("{base}/ca/root.crt")]);
    let root = der_cert_to_pem(&env, &fetch(&ica[0]), "root-fetched");
    // … the CRLs at the CRL DPs are DER CRLs those CAs signed …
    for (url, ca_pem, name) in [(&crl[0], &issuer, "vnpt"), (&icrl[0], &root, "root")] {
        let f = env.path(&format!("{name}.crl"));
        std::fs::write(&f, fetch(url)).unwrap();
        let (ok, out) = run(Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-in"])
            .arg(&f)
            .arg("-CAfile")
            .arg(ca_pem));
        assert!(ok && out.contains("verify OK"), "{url}: {out}");
    }
    // … and the OCSP responder at the AIA answers for the leaf, under the fetched root.
    let (_, out) = run(Command::new("openssl")
        .arg("ocsp")
        .arg("-issuer")
        .arg(&issuer)
        .arg("-cert")
        .arg(&leaf)
        .arg("-url")
        .arg(&ocsp[0])
        .arg("-CAfile")
        .arg(&root));
    assert!(out.contains(&format!("{}: good", leaf.display())) && out.contains("Response verify OK"), "{out}");
    server.kill();
}

#[test]
fn a_server_not_listening_at_the_base_url_refuses_to_start_and_says_what_to_do() {
    let env = Env::new("baseurl-mismatch");
    env.init();
    let cfg_path = env.data_dir().join("kyso.toml");
    let other = free_port();
    let serve = |listen: &str, extra: &[&str]| {
        env.cmd().args(["serve", "--listen", listen]).args(extra).stdout(Stdio::null()).output().unwrap()
    };

    // The addresses the refused servers would bind are held here, so that a server which wrongly
    // starts fails (cannot bind) instead of running forever.
    let held: Vec<_> =
        [format!("127.0.0.1:{other}"), format!("127.0.0.2:{}", env.port), format!("127.0.0.1:{}", env.port)]
            .iter()
            .map(|a| std::net::TcpListener::bind(a).unwrap())
            .collect();

    // Another port on the same host.
    let o = serve(&format!("127.0.0.1:{other}"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "serve on the wrong port must not start");
    for want in [
        env.base_url().as_str(),
        &format!("--listen 127.0.0.1:{}", env.port),
        "behind_proxy = true",
        cfg_path.to_str().unwrap(),
        "kyso init --base-url",
    ] {
        assert!(err.contains(want), "the refusal should mention `{want}`: {err}");
    }

    // The right port on another address of the machine: still not where certificates point.
    let o = serve(&format!("127.0.0.2:{}", env.port), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("not an address --listen 127.0.0.2"), "{err}");

    // --base-url on serve cannot move an existing data directory's base URL.
    let o = serve(&format!("127.0.0.1:{}", env.port), &["--base-url", &format!("http://127.0.0.1:{other}")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("differs from base_url") && err.contains("--data-dir"), "{err}");
    // Nor can a second `kyso init`.
    let o = env.kyso(&["init", "--base-url", &format!("http://127.0.0.1:{other}")]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("differs from base_url"));

    drop(held);

    // A wildcard --listen takes the base URL's address (127.0.0.1) too: it starts.
    {
        let _s = Server::new(
            env.cmd()
                .args(["serve", "--listen", &format!("0.0.0.0:{}", env.port)])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_ready(env.port);
        fetch(&format!("{}/crl/vnpt.crl", env.base_url()));
    }

    // Declared behind a proxy: the operator says something forwards base_url here; it starts.
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    let text = text.replacen("\n", "\nbehind_proxy = true\n", 1);
    assert!(text.lines().nth(1) == Some("behind_proxy = true"), "{text}");
    std::fs::write(&cfg_path, text).unwrap();
    let _s = Server::new(
        env.cmd().args(["serve", "--listen", &format!("127.0.0.1:{other}")]).stdout(Stdio::null()).spawn().unwrap(),
    );
    wait_ready(other);
}

#[test]
fn a_wildcard_listen_is_not_a_base_url() {
    let env = Env::new("baseurl-wildcard");
    // Held so that a demo which wrongly starts fails to bind instead of running forever.
    let _held = std::net::TcpListener::bind(format!("0.0.0.0:{}", env.port)).unwrap();
    let o = env
        .cmd()
        .args(["serve", "--demo", "--listen", &format!("0.0.0.0:{}", env.port)])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "a demo on 0.0.0.0 without --base-url must not start");
    assert!(err.contains("--base-url") && err.contains(&format!("http://127.0.0.1:{}", env.port)), "{err}");
    assert!(!env.data_dir().join("kyso.toml").exists(), "nothing is initialised");

    // Nor can one be written as a base URL.
    let o = env.kyso(&["init", "--base-url", &format!("http://0.0.0.0:{}", env.port)]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("wildcard"));
    assert!(!env.data_dir().join("kyso.toml").exists());
}

#[test]
fn init_refuses_a_base_url_kyso_could_not_serve() {
    let env = Env::new("baseurl-init");
    for (url, want) in [
        ("https://ca.example.vn/kyso", "path, query or fragment (`/kyso`)"),
        ("http://ca.example.vn:8080/?a=1", "path, query or fragment"),
        ("ftp://ca.example.vn", "http or https"),
        ("ca.example.vn", "http:// or https://"),
        ("http://ca.example.vn:70000", "port `70000`"),
    ] {
        let o = env.kyso(&["init", "--base-url", url]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{url} accepted");
        assert!(err.contains("--base-url") && err.contains(want), "{url}: {err}");
        assert!(!env.data_dir().exists(), "{url}: nothing is created");
    }
    // A trailing slash is not a path; the stored form is canonical, and an https base URL (a
    // TLS-terminating proxy in front) needs no --listen match.
    env.ok(&["init", "--base-url", "HTTPS://CA.Example.VN/"]);
    let cfg = std::fs::read_to_string(env.data_dir().join("kyso.toml")).unwrap();
    assert!(cfg.contains("base_url = \"https://ca.example.vn\""), "{cfg}");
    let _s = env.serve();
    let vnpt = der_cert_to_pem(&env, &fetch(&format!("{}/ca/vnpt.crt", env.base_url())), "vnpt");
    let (crl, _, ca) = cert_urls(&vnpt);
    assert_eq!(
        (crl, ca),
        (vec!["https://ca.example.vn/crl/root.crl".to_string()], vec!["https://ca.example.vn/ca/root.crt".to_string()])
    );
}
