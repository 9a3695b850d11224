//! An independent PKI made with the OpenSSL command line, for interop tests: a root, provider CAs
//! (one RSA CA that signs with RSASSA-PSS, one ECDSA P-256 CA), an OCSP responder per provider CA
//! on a loopback port (each request answered by `openssl ocsp` in responder mode over the CA's
//! index: `openssl ocsp -port` keeps HTTP/1.1 connections open, which stalls clients such as
//! pyHanko's), and the CA certificates and CRLs served over loopback HTTP by a tiny static server. Citizen certificates carry `UID=CCCD:…` in the subject and AIA (OCSP,
//! caIssuers) and CRL distribution points that point at those servers.
//!
//! The root is EC P-384 self-signed with ecdsa-with-SHA384, as national roots are.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a provider CA signs what it issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaKind {
    /// RSA-2048 key, RSASSA-PSS signatures (SHA-256, MGF1-SHA-256, salt 32).
    RsaPss,
    /// ECDSA P-256 with SHA-256.
    EcP256,
}

/// A provider CA of the fixture.
pub struct ProviderCa {
    pub name: String,
    pub kind: CaKind,
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub ocsp_port: u16,
}

/// A citizen's key and certificate (PEM files).
pub struct Leaf {
    pub key: PathBuf,
    pub cert: PathBuf,
    /// The issuing CA's certificate (PEM), for signers that embed the chain.
    pub ca_cert: PathBuf,
    pub serial: String,
}

/// When a leaf is valid.
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// From a day ago for a year.
    Current,
    /// From 30 days ago until yesterday.
    Expired,
}

/// The whole fixture; servers stop when it is dropped.
pub struct IndependentPki {
    pub dir: PathBuf,
    pub root: PathBuf,
    /// A root nobody trusts, with a leaf issuer of its own.
    pub untrusted_root: PathBuf,
    pub cas: Vec<ProviderCa>,
    pub http_port: u16,
    http: Option<StaticServer>,
    responders: Vec<StaticServer>,
}

fn openssl(args: &[&str], cwd: &Path) {
    let o = Command::new("openssl").args(args).current_dir(cwd).output().expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// `YYMMDDHHMMSSZ` (OpenSSL's index and `-startdate`/`-enddate` form) for `t`.
fn asn1_time(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{:02}{:02}{:02}{:02}{:02}{:02}Z", y % 100, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

const EXTENSIONS: &str = r#"
[v3_root]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"#;

fn ca_config(dir: &Path, http: u16, ocsp: u16, name: &str) -> String {
    format!(
        r#"[ca]
default_ca = ca_default
[ca_default]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}/newcerts
certificate = {d}/ca.pem
private_key = {d}/ca.key
serial = {d}/serial
crlnumber = {d}/crlnumber
default_md = sha256
default_crl_days = 1
policy = policy_any
unique_subject = no
preserve = yes
utf8 = yes
string_mask = utf8only
copy_extensions = none
[policy_any]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
commonName = supplied
UID = optional
[crl_ext]
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{ocsp}/,caIssuers;URI:http://127.0.0.1:{http}/ca/{name}.crt
crlDistributionPoints = URI:http://127.0.0.1:{http}/crl/{name}.crl
[provider]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:{http}/crl/root.crl
authorityInfoAccess = caIssuers;URI:http://127.0.0.1:{http}/ca/root.crt
[responder]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"#,
        d = p(dir)
    )
}

impl ProviderCa {
    fn sigopts(&self) -> Vec<&'static str> {
        match self.kind {
            CaKind::RsaPss => vec!["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"],
            CaKind::EcP256 => vec![],
        }
    }

    fn ca(&self, extra: &[&str]) {
        let cnf = self.dir.join("ca.cnf");
        let mut args = vec!["ca", "-batch", "-notext", "-config", p(&cnf)];
        args.extend(self.sigopts());
        args.extend_from_slice(extra);
        openssl(&args, &self.dir);
    }

    /// Sign a fresh CRL into `www/crl/<name>.crl` (DER).
    fn publish_crl(&self, www: &Path) {
        let pem = self.dir.join("crl.pem");
        self.ca(&["-gencrl", "-crlexts", "crl_ext", "-out", p(&pem)]);
        let der = www.join("crl").join(format!("{}.crl", self.name));
        openssl(&["crl", "-in", p(&pem), "-outform", "DER", "-out", p(&der)], &self.dir);
    }
}

impl IndependentPki {
    /// Build the PKI in `dir` (OpenSSL required) and start its servers.
    pub fn build(dir: &Path) -> IndependentPki {
        std::fs::create_dir_all(dir.join("www/ca")).unwrap();
        std::fs::create_dir_all(dir.join("www/crl")).unwrap();
        let ext = dir.join("ext.cnf");
        std::fs::write(&ext, EXTENSIONS).unwrap();
        let http_port = crate::free_port();
        // the root is an `openssl ca` directory too: it signs the provider CAs and its own CRL
        let root_dir = dir.join("root");
        std::fs::create_dir_all(root_dir.join("newcerts")).unwrap();
        std::fs::write(root_dir.join("index.txt"), "").unwrap();
        std::fs::write(root_dir.join("serial"), "0100\n").unwrap();
        std::fs::write(root_dir.join("crlnumber"), "01\n").unwrap();
        std::fs::write(root_dir.join("ca.cnf"), ca_config(&root_dir, http_port, 0, "root")).unwrap();
        let root = root_dir.join("ca.pem");
        let root_key = root_dir.join("ca.key");
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-sha384",
                "-nodes",
                "-keyout",
                p(&root_key),
                "-out",
                p(&root),
                "-days",
                "3650",
                "-utf8",
                "-subj",
                "/C=VN/O=Kiểm thử độc lập/CN=Root CA Test VN",
                "-config",
                p(&ext),
                "-extensions",
                "v3_root",
            ],
            dir,
        );
        openssl(&["x509", "-in", p(&root), "-outform", "DER", "-out", p(&dir.join("www/ca/root.crt"))], dir);
        let root_ca =
            ProviderCa { name: "root".into(), kind: CaKind::EcP256, dir: root_dir, cert: root.clone(), ocsp_port: 0 };
        root_ca.publish_crl(&dir.join("www"));
        let untrusted_root = dir.join("untrusted-root.pem");
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                p(&dir.join("untrusted-root.key")),
                "-out",
                p(&untrusted_root),
                "-days",
                "3650",
                "-utf8",
                "-subj",
                "/C=VN/O=Không ai tin/CN=Untrusted Root",
                "-config",
                p(&ext),
                "-extensions",
                "v3_root",
            ],
            dir,
        );
        let mut cas = Vec::new();
        for (name, kind, cn) in [
            ("rsapss", CaKind::RsaPss, "Provider RSA-PSS CA Test"),
            ("ecdsa", CaKind::EcP256, "Provider ECDSA CA Test"),
        ] {
            let d = dir.join(name);
            std::fs::create_dir_all(d.join("newcerts")).unwrap();
            std::fs::write(d.join("index.txt"), "").unwrap();
            std::fs::write(d.join("serial"), "1000\n").unwrap();
            std::fs::write(d.join("crlnumber"), "01\n").unwrap();
            let ocsp_port = crate::free_port();
            std::fs::write(d.join("ca.cnf"), ca_config(&d, http_port, ocsp_port, name)).unwrap();
            let newkey: &[&str] = match kind {
                CaKind::RsaPss => &["-newkey", "rsa:2048"],
                CaKind::EcP256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            };
            let mut args = vec!["req", "-new"];
            args.extend_from_slice(newkey);
            let (key, csr, cert) = (d.join("ca.key"), d.join("ca.csr"), d.join("ca.pem"));
            let subj = format!("/C=VN/O={cn}/CN={cn}");
            args.extend_from_slice(&["-nodes", "-keyout", p(&key), "-out", p(&csr), "-utf8", "-subj", &subj]);
            openssl(&args, &d);
            root_ca.ca(&["-extensions", "provider", "-days", "1825", "-in", p(&csr), "-out", p(&cert)]);
            openssl(
                &["x509", "-in", p(&cert), "-outform", "DER", "-out", p(&dir.join(format!("www/ca/{name}.crt")))],
                &d,
            );
            let ca = ProviderCa { name: name.into(), kind, dir: d.clone(), cert, ocsp_port };
            // the delegated OCSP responder: an EC key certified by the CA for OCSP signing
            let (rkey, rcsr, rcert) = (d.join("ocsp.key"), d.join("ocsp.csr"), d.join("ocsp.pem"));
            let rsubj = format!("/C=VN/O={cn}/CN={cn} OCSP");
            openssl(
                &[
                    "req",
                    "-new",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    p(&rkey),
                    "-out",
                    p(&rcsr),
                    "-utf8",
                    "-subj",
                    &rsubj,
                ],
                &d,
            );
            ca.ca(&["-extensions", "responder", "-days", "365", "-in", p(&rcsr), "-out", p(&rcert)]);
            ca.publish_crl(&dir.join("www"));
            cas.push(ca);
        }
        let mut pki = IndependentPki {
            dir: dir.to_path_buf(),
            root,
            untrusted_root,
            cas,
            http_port,
            http: None,
            responders: Vec::new(),
        };
        pki.start();
        pki
    }

    /// A citizen certificate from provider CA `ca` for `name` with `UID=CCCD:<id>`.
    pub fn leaf(&self, ca: usize, file: &str, name: &str, id: &str, validity: Validity) -> Leaf {
        let c = &self.cas[ca];
        let (key, csr, cert) =
            (c.dir.join(format!("{file}.key")), c.dir.join(format!("{file}.csr")), c.dir.join(format!("{file}.pem")));
        let newkey: &[&str] = match c.kind {
            CaKind::RsaPss => &["-newkey", "rsa:2048"],
            CaKind::EcP256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        };
        let subj = format!("/C=VN/ST=Hà Nội/L=Phường Hoàn Kiếm/CN={name}/UID=CCCD:{id}");
        let mut args = vec!["req", "-new"];
        args.extend_from_slice(newkey);
        args.extend_from_slice(&["-nodes", "-keyout", p(&key), "-out", p(&csr), "-utf8", "-subj", &subj]);
        openssl(&args, &c.dir);
        let now = SystemTime::now();
        let (from, to) = match validity {
            Validity::Current => (now - Duration::from_secs(86_400), now + Duration::from_secs(365 * 86_400)),
            Validity::Expired => (now - Duration::from_secs(30 * 86_400), now - Duration::from_secs(86_400)),
        };
        let serial = std::fs::read_to_string(c.dir.join("serial")).unwrap().trim().to_string();
        let (from, to) = (asn1_time(from), asn1_time(to));
        c.ca(&["-extensions", "leaf", "-startdate", &from, "-enddate", &to, "-in", p(&csr), "-out", p(&cert)]);
        Leaf { key, cert, ca_cert: c.cert.clone(), serial }
    }

    /// A leaf issued directly by the untrusted root.
    pub fn untrusted_leaf(&self, file: &str, name: &str, id: &str) -> Leaf {
        let (key, csr, cert) = (
            self.dir.join(format!("{file}.key")),
            self.dir.join(format!("{file}.csr")),
            self.dir.join(format!("{file}.pem")),
        );
        let subj = format!("/C=VN/CN={name}/UID=CCCD:{id}");
        openssl(
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                p(&key),
                "-out",
                p(&csr),
                "-utf8",
                "-subj",
                &subj,
            ],
            &self.dir,
        );
        let ext = self.dir.join("leaf-ext.cnf");
        std::fs::write(
            &ext,
            "[leaf]\nbasicConstraints = critical,CA:false\nkeyUsage = critical,digitalSignature,nonRepudiation\n",
        )
        .unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                p(&csr),
                "-CA",
                p(&self.untrusted_root),
                "-CAkey",
                p(&self.dir.join("untrusted-root.key")),
                "-set_serial",
                "0x77",
                "-days",
                "365",
                "-extfile",
                p(&ext),
                "-extensions",
                "leaf",
                "-out",
                p(&cert),
            ],
            &self.dir,
        );
        Leaf { key, cert, ca_cert: self.untrusted_root.clone(), serial: "77".into() }
    }

    /// Revoke `leaf` (key compromise) as of an hour ago, and publish a new CRL; the responder
    /// re-reads its index.
    pub fn revoke(&self, ca: usize, leaf: &Leaf) {
        let c = &self.cas[ca];
        c.ca(&["-revoke", p(&leaf.cert), "-crl_reason", "keyCompromise"]);
        // backdate the revocation in the index (OpenSSL has no option for it)
        let index = c.dir.join("index.txt");
        let an_hour_ago = asn1_time(SystemTime::now() - Duration::from_secs(3600));
        let text = std::fs::read_to_string(&index).unwrap();
        let out: Vec<String> = text
            .lines()
            .map(|l| {
                let mut f: Vec<String> = l.split('\t').map(String::from).collect();
                if f.len() >= 4 && f[0] == "R" && f[3].eq_ignore_ascii_case(&leaf.serial) {
                    let reason = f[2].split_once(',').map(|(_, r)| format!(",{r}")).unwrap_or_default();
                    f[2] = format!("{an_hour_ago}{reason}");
                }
                f.join("\t")
            })
            .collect();
        std::fs::write(&index, out.join("\n") + "\n").unwrap();
        c.publish_crl(&self.dir.join("www"));
    }

    /// Start the HTTP server and the OCSP responders (again, after [`IndependentPki::stop`]).
    pub fn start(&mut self) {
        if self.http.is_none() {
            self.http = Some(StaticServer::start(Serve::Files(self.dir.join("www")), self.http_port));
        }
        if self.responders.is_empty() {
            for c in &self.cas {
                self.responders.push(StaticServer::start(Serve::Ocsp(c.dir.clone()), c.ocsp_port));
                wait_for_port(c.ocsp_port);
            }
        }
    }

    /// Stop every server: nothing of this PKI answers any more.
    pub fn stop(&mut self) {
        self.responders.clear();
        self.http = None;
    }

    /// OCSP requests answered so far.
    pub fn ocsp_requests(&self) -> u64 {
        self.responders.iter().map(|r| r.served.load(Ordering::Relaxed)).sum()
    }

    /// Requests the HTTP server answered so far (CRLs and CA certificates).
    pub fn http_requests(&self) -> u64 {
        self.http.as_ref().map(|h| h.served.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

impl Drop for IndependentPki {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// A static file server on 127.0.0.1 for GET requests, stopped when dropped.
pub struct StaticServer {
    stop: Arc<AtomicBool>,
    pub served: Arc<AtomicU64>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StaticServer {
    pub fn start(serve: Serve, port: u16) -> StaticServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the static server");
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), served.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(c) = conn else { continue };
                let (serve, n) = (serve.clone(), n.clone());
                // one thread a connection: clients that keep a connection open block no one
                std::thread::spawn(move || answer(c, &serve, &n));
            }
        });
        StaticServer { stop, served, port, thread: Some(thread) }
    }
}

/// What a [`StaticServer`] answers.
#[derive(Clone)]
pub enum Serve {
    /// GET: the files under this directory.
    Files(PathBuf),
    /// POST: an OCSP request answered by `openssl ocsp` in responder mode over this CA
    /// directory's index (`ca.pem`, `ocsp.pem`, `ocsp.key`, `index.txt`), one process a request,
    /// nextUpdate an hour on.
    Ocsp(PathBuf),
}

fn answer(mut c: TcpStream, serve: &Serve, n: &AtomicU64) {
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(e) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break e + 4;
        }
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => req.extend_from_slice(&buf[..k]),
        }
        if req.len() > 65536 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0)
        .min(1 << 20);
    while req.len() < head_end + length {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => req.extend_from_slice(&buf[..k]),
        }
    }
    let line = head.lines().next().unwrap_or_default().to_string();
    let path = line.split(' ').nth(1).unwrap_or("/").trim_start_matches('/').to_string();
    let body = match serve {
        Serve::Files(root) => (!path.contains("..")).then(|| root.join(&path)).and_then(|f| std::fs::read(f).ok()),
        Serve::Ocsp(dir) => ocsp_answer(dir, &req[head_end..]),
    };
    let _ = match body {
        Some(body) => {
            n.fetch_add(1, Ordering::Relaxed);
            c.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes(),
            )
            .and_then(|_| c.write_all(&body))
        }
        None => c.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
}

fn ocsp_answer(dir: &Path, request: &[u8]) -> Option<Vec<u8>> {
    static N: AtomicU64 = AtomicU64::new(0);
    let k = N.fetch_add(1, Ordering::Relaxed);
    let (rq, rs) = (dir.join(format!("req-{k}.der")), dir.join(format!("resp-{k}.der")));
    std::fs::write(&rq, request).ok()?;
    let ok = Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "index.txt",
            "-CA",
            "ca.pem",
            "-rsigner",
            "ocsp.pem",
            "-rkey",
            "ocsp.key",
            "-nmin",
            "60",
        ])
        .arg("-reqin")
        .arg(&rq)
        .arg("-respout")
        .arg(&rs)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let out = if ok { std::fs::read(&rs).ok() } else { None };
    let _ = std::fs::remove_file(&rq);
    let _ = std::fs::remove_file(&rs);
    out
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn asn1_times() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(super::asn1_time(UNIX_EPOCH + Duration::from_secs(1_795_000_000)), "261118110640Z");
        assert_eq!(super::asn1_time(UNIX_EPOCH + Duration::from_secs(951_782_400)), "000229000000Z");
    }
}
