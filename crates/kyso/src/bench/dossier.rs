//! `kyso bench dossier`: a three-file dossier checked over and over through the service path the
//! desk and `POST /api/v1/dossiers` use, beside pyHanko validating the same three PDFs (issue 17
//! item 7; scripts/bench-dossier.sh).
//!
//! Set-up, in a fresh data directory: kyso's own CAs, one commune, the procedure "Cấp phiếu lý
//! lịch tư pháp" (three files the applicant signs), a synthetic level-2 citizen with a credential,
//! and three one-page PDFs the citizen signs PAdES B-LT through kyso's remote-signing path — so
//! every revocation answer is in the PDF's DSS (and kyso's store), and nothing goes to the network.
//!
//! Timed, one dossier after another, each latency kept:
//! - `check`: [`kyso_authority::Authority::check_dossier`] — admission, every signature validated
//!   on the validation pool, the files and dossier judged, the dossier and its audit row stored.
//! - `assess`: [`kyso_authority::Authority::assess_dossier`] — the same without the store write.
//!
//! With `--pyhanko PYTHON`, the same three files and root go to pyHanko in one Python process
//! (interpreter start-up and imports not timed): per file, the DSS read into a validation context
//! (trust root: kyso's root; no fetching; revocation hard-fail), then every signature validated
//! with its time-stamp; one warm-up dossier, then `--pyhanko-count` timed ones.

use super::sign::level2_citizen;
use crate::data::DataDir;
use anyhow::{bail, ensure, Context, Result};
use kyso_authority::dossiers::{DossierLimits, Submission, SubmittedFile};
use kyso_authority::{Authority, PdfJob};
use kyso_custody::Pin;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PIN: &str = "531642";
const PROCEDURE: &str = "ly-lich-tu-phap";
/// Xã Hiệp Lực, Tỉnh Thái Nguyên (a real commune code from data/admin-units-2025.csv).
const UNIT: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
    19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n";
/// The procedure's three roles, each a PDF here.
const FILES: [(&str, &str); 3] = [
    ("to-khai", "To khai yeu cau cap phieu LLTP"),
    ("cccd", "Ban chup the can cuoc"),
    ("uy-quyen", "Van ban uy quyen"),
];

/// pyHanko on the three PDFs: argv = directory, timed dossiers. Prints one JSON line.
const PYHANKO: &str = r#"
import io, json, sys, time
from importlib.metadata import version
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
w, n = sys.argv[1], int(sys.argv[2])
root = load_cert_from_pemder(f"{w}/root.pem")
files = [open(f"{w}/{r}.pdf", "rb").read() for r in sys.argv[3:]]
kw = {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
def dossier():
    for data in files:
        r = PdfFileReader(io.BytesIO(data))
        vc = DocumentSecurityStore.read_dss(r).as_validation_context(kw)
        sigs = r.embedded_signatures
        assert sigs
        for sig in sigs:
            st = validate_pdf_signature(sig, vc)
            ts = st.timestamp_validity
            assert st.bottom_line and ts is not None and ts.valid and ts.trusted, st.pretty_print_details()
dossier()
lat = []
cpu = time.process_time()
for _ in range(n):
    t = time.perf_counter()
    dossier()
    lat.append(time.perf_counter() - t)
cpu = time.process_time() - cpu
print(json.dumps({"version": version("pyHanko"), "latencies": lat, "cpu": cpu}))
"#;

/// What was measured for one side: per-dossier latencies (seconds), the time of the loop, and the
/// CPU the process used in it (user + system, all threads; seconds) — the figure that the other
/// engineers' load on the shared machine disturbs least.
struct Figures {
    latencies: Vec<f64>,
    wall: f64,
    cpu: Option<f64>,
}

impl Figures {
    fn new(mut latencies: Vec<f64>, wall: f64, cpu: Option<f64>) -> Figures {
        latencies.sort_by(f64::total_cmp);
        Figures { latencies, wall, cpu }
    }
    /// CPU milliseconds per dossier.
    fn cpu_ms(&self) -> Option<f64> {
        self.cpu.map(|c| c * 1000.0 / self.latencies.len() as f64)
    }
    fn pct(&self, p: f64) -> f64 {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or(0.0) * 1000.0
    }
    /// Dossiers per second over the whole timed loop.
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.wall
    }
    fn json(&self) -> Value {
        json!({"dossiers": self.latencies.len(), "per_second": self.rate(),
               "p50_ms": self.pct(0.5), "p99_ms": self.pct(0.99), "max_ms": self.pct(1.0), "cpu_ms": self.cpu_ms()})
    }
    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {} dossiers, {:.1} dossiers/s ({:.1} files/s), per dossier p50 {:.2} ms, p99 {:.2} ms, CPU {:.2} ms",
            self.latencies.len(),
            self.rate(),
            self.rate() * 3.0,
            self.pct(0.5),
            self.pct(0.99),
            self.cpu_ms().unwrap_or(f64::NAN)
        )
    }
}

/// The bench's data directory, citizen, procedure and three signed PDFs.
struct Setup {
    auth: Arc<Authority>,
    applicant: String,
    pdfs: Vec<(&'static str, Vec<u8>)>,
    root_pem: String,
}

async fn setup(tmp: &Path) -> Result<Setup> {
    let dir = DataDir::new(&tmp.join("data"));
    dir.create()?;
    let cfg = tmp.join("kyso.toml");
    // the base URL only goes into the certificates' AIA and CRL addresses: nothing is fetched
    std::fs::write(&cfg, super::sign::config("http://127.0.0.1:9", "vault", None))?;
    crate::init::init(&dir, None, Some(&cfg), None, true).await?;
    let auth = crate::data::open(&dir, None).await?;
    kyso_tracker::import::import_units(&auth.store, UNIT, "bench").await?;
    auth.put_procedure(&crate::procedure_cli::from_toml(crate::demo::PROCEDURES[1])?, "bench").await?;
    let pin = Pin::parse(PIN)?;
    let req = level2_citizen(&auth, 910_000).await?;
    let applicant = req.id_number.clone();
    let credential = auth.activate(req, &pin).await?.credential_id;
    let mut pdfs = Vec::new();
    for (role, text) in FILES {
        let job = PdfJob {
            id_number: &applicant,
            credential: &credential,
            pin: &pin,
            otp: None,
            pdf: &kyso_sign::pdf::one_page_pdf(text),
            reason: Some("Nộp hồ sơ".into()),
            level: kyso_validate::Level::BLt,
            visible: None,
        };
        let signed = auth.sign_pdf(job).await.map_err(|e| anyhow::anyhow!("signing {role}: {e}"))?;
        pdfs.push((role, signed));
    }
    let root = auth.ca("root").context("no root CA")?;
    let root_pem = kyso_pki::pem("CERTIFICATE", &root.cert_der);
    Ok(Setup { auth, applicant, pdfs, root_pem })
}

fn submission(s: &Setup) -> Submission {
    Submission {
        procedure: PROCEDURE.into(),
        applicant_id: s.applicant.clone(),
        unit_code: "01960".into(),
        channel: "api",
        actor: "bench".into(),
        files: s
            .pdfs
            .iter()
            .map(|(role, pdf)| SubmittedFile {
                role: (*role).into(),
                file_name: format!("{role}.pdf"),
                content: pdf.clone(),
                signature: None,
            })
            .collect(),
    }
}

/// `count` dossiers through `check` (stored) or `assess` (not stored), each asserted fully signed.
async fn time_kyso(s: &Setup, count: usize, store: bool) -> Result<Figures> {
    let limits = DossierLimits::default();
    let mut lat = Vec::with_capacity(count);
    let mut spent = Duration::ZERO;
    let cpu0 = super::issue::process_cpu();
    for _ in 0..count {
        let sub = submission(s);
        let t = Instant::now();
        let fully = if store {
            s.auth.check_dossier(sub, &limits).await?.fully_signed
        } else {
            s.auth.assess_dossier(&sub, &limits).await?.outcome.fully_signed
        };
        let d = t.elapsed();
        spent += d;
        lat.push(d.as_secs_f64());
        ensure!(fully, "the bench dossier should be fully signed");
    }
    let cpu = super::issue::process_cpu().zip(cpu0).map(|((u1, s1), (u0, s0))| (u1 + s1) - (u0 + s0));
    // the copies of the files made for each submission are left out of the time (not the CPU)
    Ok(Figures::new(lat, spent.as_secs_f64(), cpu))
}

fn run_pyhanko(py: &Path, dir: &Path, count: usize) -> Result<(String, Figures)> {
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(PYHANKO)
        .arg(dir)
        .arg(count.to_string())
        .args(FILES.iter().map(|(role, _)| role))
        .output()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !out.status.success() {
        bail!("pyHanko failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(out.stdout.trim_ascii()).context("pyHanko's answer")?;
    let lat: Vec<f64> = v["latencies"].as_array().context("latencies")?.iter().filter_map(Value::as_f64).collect();
    ensure!(lat.len() == count, "pyHanko timed {} dossiers, not {count}", lat.len());
    let wall = lat.iter().sum();
    Ok((v["version"].as_str().unwrap_or("?").to_string(), Figures::new(lat, wall, v["cpu"].as_f64())))
}

pub async fn run(
    count: usize,
    pyhanko: Option<&Path>,
    pyhanko_count: usize,
    out_dir: Option<&Path>,
    json_mode: bool,
) -> Result<()> {
    ensure!(count > 0 && pyhanko_count > 0, "--count and --pyhanko-count: at least 1");
    let tmp = std::env::temp_dir().join(format!("kyso-bench-dossier-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let result = measure(&tmp, count, pyhanko, pyhanko_count, out_dir, json_mode).await;
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

async fn measure(
    tmp: &Path,
    count: usize,
    pyhanko: Option<&Path>,
    pyhanko_count: usize,
    out_dir: Option<&Path>,
    json_mode: bool,
) -> Result<()> {
    let s = setup(tmp).await?;
    let files_dir: PathBuf = out_dir.map(Path::to_path_buf).unwrap_or_else(|| tmp.join("files"));
    std::fs::create_dir_all(&files_dir)?;
    for (role, pdf) in &s.pdfs {
        std::fs::write(files_dir.join(format!("{role}.pdf")), pdf)?;
    }
    std::fs::write(files_dir.join("root.pem"), &s.root_pem)?;
    // warm-up (and the answer checked once in full: every file signed by the applicant)
    let v = s.auth.check_dossier(submission(&s), &DossierLimits::default()).await?;
    let verdicts: Vec<&str> = v.files.iter().map(|f| f.verdict.as_str()).collect();
    ensure!(v.fully_signed && verdicts == ["signed_by_applicant"; 3], "warm-up dossier: {verdicts:?}");
    let assess = time_kyso(&s, count, false).await?;
    let check = time_kyso(&s, count, true).await?;
    let bytes: usize = s.pdfs.iter().map(|(_, p)| p.len()).sum();
    let py = match pyhanko {
        Some(p) => Some(run_pyhanko(p, &files_dir, pyhanko_count)?),
        None => None,
    };
    let ratio = |k: &Figures| py.as_ref().map(|(_, p)| k.rate() / p.rate());
    let cpu_ratio = |k: &Figures| py.as_ref().and_then(|(_, p)| Some(p.cpu_ms()? / k.cpu_ms()?));
    if json_mode {
        println!(
            "{}",
            json!({"files": 3, "bytes": bytes, "level": "B-LT", "check": check.json(), "assess": assess.json(),
                   "pyhanko": py.as_ref().map(|(ver, f)| json!({"version": ver, "figures": f.json()})),
                   "ratio_check": ratio(&check), "ratio_assess": ratio(&assess),
                   "cpu_ratio_check": cpu_ratio(&check), "cpu_ratio_assess": cpu_ratio(&assess)})
        );
        return Ok(());
    }
    println!("dossier: 3 PDFs, PAdES B-LT, {bytes} bytes in all, revocation from the DSS and kyso's store");
    println!("{}", assess.line("kyso assess_dossier (validate + judge, not stored)"));
    println!("{}", check.line("kyso check_dossier (validate + judge + store with audit row)"));
    if let Some((ver, p)) = &py {
        println!("{}", p.line(&format!("pyHanko {ver} (DSS → validation context, hard-fail, in process)")));
        println!(
            "ratio (dossiers/s): check_dossier {:.1}× pyHanko, assess_dossier {:.1}× pyHanko",
            ratio(&check).unwrap_or(0.0),
            ratio(&assess).unwrap_or(0.0)
        );
        println!(
            "ratio (CPU per dossier): check_dossier {:.1}× pyHanko, assess_dossier {:.1}× pyHanko",
            cpu_ratio(&check).unwrap_or(f64::NAN),
            cpu_ratio(&assess).unwrap_or(f64::NAN)
        );
    }
    Ok(())
}
