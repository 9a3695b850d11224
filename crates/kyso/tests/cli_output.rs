//! What the CLI prints, as issue 18 asked: a reader that stops early (`kyso … | head`) ends the
//! command quietly, no panic; a data directory `kyso init` never made is said so, in Vietnamese
//! and English; log lines carry no colour codes when standard error is not a terminal; a
//! re-imported register says its rows are unchanged; bad rows are named by the list's own STT and
//! the file line; providers are shown as the lists write them. The imports on SQLite and PostgreSQL.

mod support;

use std::io::Read;
use std::process::Stdio;
use support::{on_both_backends, Backend, Env};

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let env = Env::new("pipe");
    env.init();
    for args in [&["ca", "list"][..], &["crl", "--ca", "root"], &["--json", "ca", "list"]] {
        let mut child = env.cmd().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // the reader goes away before kyso writes a byte
        drop(child.stdout.take());
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{args:?}: {err}");
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn without_kyso_init_every_command_says_to_run_it() {
    let env = Env::new("noinit");
    for args in [
        &["campaign", "progress", "--commune", "01960"][..],
        &["campaign", "import-units", "units.csv"],
        &["cert", "list"],
        &["audit", "verify"],
    ] {
        let o = env.kyso(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains("hãy chạy `kyso init`") && err.contains("run `kyso init` first"), "{args:?}: {err}");
        assert!(!err.contains("code 14") && !err.contains("unable to open database"), "{args:?}: {err}");
    }
    assert!(!env.data_dir().join("kyso.db").exists(), "nothing written");
}

#[test]
fn logs_are_plain_when_stderr_is_not_a_terminal() {
    let env = Env::new("ansi");
    env.init();
    // a warning is logged (KYSO_LOG=info shows the info lines too) while stderr is a pipe
    let o = env.cmd().env("KYSO_LOG", "debug").args(["campaign", "adoption", "--refresh"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.lines().any(|l| l.contains("DEBUG") || l.contains("INFO")), "no log line to check: {err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a piped log: {err:?}");
}

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n";
const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01960,T02,Xóm Ba Họ\n";

/// A register as communes keep it: a title row, the list's own STT column, one bad ID number.
const REGISTER: &str = "DANH SÁCH DÂN CƯ XÃ HIỆP LỰC\n\
STT,Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
1,019190000001,Nguyễn Thị An,15/03/1990,Nữ,T01,H1\n\
2,019085000002,Trần Văn Bình,01/12/1985,Nam,T02,H2\n\
17,01908A123456,Lỗi Số,01/01/1985,Nam,T01,H1\n\
3,019080000006,Phạm Văn Dũng,09/09/1980,Nam,T02,H3\n";

fn register_and_provider_names(b: Backend) {
    let Some(env) = Env::on("cli-output", b) else { return };
    env.init();
    std::fs::write(env.path("units.csv"), UNITS).unwrap();
    std::fs::write(env.path("hamlets.csv"), HAMLETS).unwrap();
    std::fs::write(env.path("register.csv"), REGISTER).unwrap();
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);

    // The bad row named by its STT and its line, the letter named where it is.
    let v = json(&env.ok(&["--json", "campaign", "import-register", "register.csv", "--commune", "01960"]));
    assert_eq!((v["inserted"].as_u64(), v["updated"].as_u64(), v["unchanged"].as_u64()), (Some(3), Some(0), Some(0)));
    let bad = &v["rejected"][0];
    assert_eq!((bad["row"].as_u64(), bad["stt"].as_str()), (Some(5), Some("17")), "{v}");
    assert_eq!(bad["reason"], "must be 12 digits: 'A' at position 6 is not a digit", "{v}");

    // The same file again: nothing updated. Then one row changed: one updated.
    let text = env.ok(&["campaign", "import-register", "register.csv", "--commune", "01960"]);
    assert!(text.contains("imported 3 (new 0, updated 0, unchanged 3), rejected 1"), "{text}");
    assert!(text.contains("STT 17 (row 5), field id_number"), "{text}");
    std::fs::write(env.path("register.csv"), REGISTER.replace("T02,H3", "T02,H4")).unwrap();
    let v = json(&env.ok(&["--json", "campaign", "import-register", "register.csv", "--commune", "01960"]));
    assert_eq!((v["inserted"].as_u64(), v["updated"].as_u64(), v["unchanged"].as_u64()), (Some(0), Some(1), Some(2)));

    // Providers as the list writes them; rows matched whatever the case.
    let list = "STT,Số định danh,Nhà cung cấp,Ngày cấp\n\
                1,019190000001,Viettel-CA,05/01/2026\n\
                2,019199999999,Viettel-CA,05/01/2026\n\
                3,019085000002,VIETTEL-CA,06/01/2026\n\
                9,019085000003,Viettel-CA,31/02/2026\n";
    std::fs::write(env.path("viettel.csv"), list).unwrap();
    let v = json(&env.ok(&["--json", "campaign", "import-provider-list", "viettel.csv", "--as-of", "2026-03-01"]));
    assert_eq!(v["certificates"], 3, "{v}");
    let bad = &v["rejected"][0];
    assert_eq!(
        (bad["row"].as_u64(), bad["stt"].as_str(), bad["field"].as_str()),
        (Some(5), Some("9"), Some("issue_date"))
    );
    let text = env.ok(&["campaign", "unmatched"]);
    assert!(text.contains("Viettel-CA") && !text.contains("VIETTEL-CA"), "{text}");
    let v = json(&env.ok(&["--json", "campaign", "unmatched", "--provider", "viettel-ca"]));
    assert_eq!(v["certificates"][0]["provider"], "Viettel-CA", "{v}");
}

on_both_backends!(register_and_provider_names);
