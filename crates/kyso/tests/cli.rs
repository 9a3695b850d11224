//! The CLI end to end: bad input is refused with the field named and nothing written; renewal;
//! the audit log records CA key uses and `kyso audit verify` finds tampering.

mod support;
use support::*;

fn count(env: &Env) -> usize {
    let out = env.ok(&["--json", "cert", "list", "--limit", "100000"]);
    serde_json::from_str::<serde_json::Value>(out.trim()).unwrap().as_array().unwrap().len()
}

fn fails_naming(env: &Env, args: &[&str], field: &str) {
    let o = env.kyso(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(err.contains(field), "error for {args:?} should name `{field}`: {err}");
}

#[test]
fn bad_input_is_refused_with_the_field_named_and_nothing_written() {
    let env = Env::new("badinput");
    env.init();
    let before = count(&env);
    let base = |id: &'static str, name: &'static str, provider: &'static str| {
        vec![
            "cert",
            "issue",
            "--id",
            id,
            "--name",
            name,
            "--province",
            "Tỉnh Thái Nguyên",
            "--provider",
            provider,
            "--eid-level2",
        ]
    };
    fails_naming(&env, &base("00120300123", "Nguyễn Văn An", "vnpt"), "id_number");
    fails_naming(&env, &base("00120300123x", "Nguyễn Văn An", "vnpt"), "id_number");
    fails_naming(&env, &base("001203001234", "Nguyễn\u{1b}[31mVăn", "vnpt"), "full_name");
    fails_naming(&env, &base("001203001234", "Nguyễn Văn An", "acme"), "provider");
    // Plain values but one option out of range.
    let odd = |extra: &[&'static str]| {
        [&["cert", "issue", "--id", "001203001234", "--name", "A", "--province", "X", "--provider", "vnpt"][..], extra]
            .concat()
    };
    fails_naming(&env, &odd(&["--key-alg", "dsa"]), "--key-alg");
    fails_naming(&env, &odd(&["--eid-level2", "--days", "5000"]), "validity_days");
    fails_naming(&env, &["cert", "revoke", "zz-not-hex"], "serial");
    fails_naming(&env, &["cert", "revoke", "0123", "--reason", "bored"], "--reason");
    assert_eq!(count(&env), before, "refused requests must write nothing");
    // the full ID number is never echoed back in errors
    let o = env.kyso(&base("001203001234", "Nguyễn Văn An", "acme"));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("001203001234"));
}

#[test]
fn level_two_e_id_is_required() {
    let env = Env::new("level2");
    env.init();
    let who = ["--id", "019190000021", "--name", "Lê Văn Cường", "--province", "Tỉnh Thái Nguyên"];
    env.ok(&[&["citizen", "add"][..], &who, &["--eid-level", "1"]].concat());
    let o = env.kyso(&[&["cert", "issue"][..], &who, &["--provider", "vnpt"]].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("level-1") && err.contains("0191****0021"), "{err}");
    let o =
        env.kyso(&["cert", "issue", "--id", "019190000099", "--name", "X", "--province", "Y", "--provider", "vnpt"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not in the population register"));
    env.citizen_with_certificate("019190000021", "Lê Văn Cường");
}

#[test]
fn renew_supersedes_and_several_providers_per_person() {
    let env = Env::new("renew");
    env.init();
    let (old, _) = env.issue("019190000031", "vnpt", &[]);
    let (_other, _) = env.issue("019190000031", "viettel", &[]);
    let v: serde_json::Value = serde_json::from_str(env.ok(&["--json", "cert", "renew", &old]).trim()).unwrap();
    let new = v["serial"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let show: serde_json::Value = serde_json::from_str(env.ok(&["--json", "cert", "show", &old]).trim()).unwrap();
    assert_eq!(show["superseded_by"], new.as_str());
    assert_eq!(show["revocation_reason"], "superseded");
    let new_show: serde_json::Value = serde_json::from_str(env.ok(&["--json", "cert", "show", &new]).trim()).unwrap();
    assert_eq!(new_show["status"], "valid");
    // same key by default: the public keys match; --new-key gives a different one
    let pk = |s: &str| {
        let der = env.path(&format!("{s}.der"));
        env.ok(&["cert", "show", s, "--out", der.to_str().unwrap()]);
        run(std::process::Command::new("openssl")
            .args(["x509", "-inform", "DER", "-noout", "-pubkey", "-in"])
            .arg(&der))
        .1
    };
    assert_eq!(pk(&old), pk(&new));
    let v: serde_json::Value =
        serde_json::from_str(env.ok(&["--json", "cert", "renew", &new, "--new-key"]).trim()).unwrap();
    assert_ne!(pk(v["serial"].as_str().unwrap()), pk(&new));
    // renewing a revoked certificate is refused
    assert!(!env.kyso(&["cert", "renew", &old]).status.success());
    // the person holds certificates from both providers
    let list: serde_json::Value =
        serde_json::from_str(env.ok(&["--json", "cert", "list", "--id", "019190000031"]).trim()).unwrap();
    let providers: std::collections::BTreeSet<_> =
        list.as_array().unwrap().iter().map(|c| c["provider"].as_str().unwrap().to_string()).collect();
    assert_eq!(providers.into_iter().collect::<Vec<_>>(), vec!["viettel", "vnpt"]);
    // lists mask the ID number
    let text = env.ok(&["cert", "list"]);
    assert!(text.contains("0191****0031") && !text.contains("019190000031"), "{text}");
}

#[test]
fn audit_log_records_ca_key_use_and_verify_finds_tampering() {
    let env = Env::new("audit");
    env.init();
    let (serial, _) = env.issue("019190000041", "vnpt", &[]);
    env.ok(&["cert", "revoke", &serial, "--reason", "cessationOfOperation"]);
    let v: serde_json::Value = serde_json::from_str(env.ok(&["--json", "audit", "verify"]).trim()).unwrap();
    assert_eq!(v["ok"], true);
    let rows = v["rows"].as_u64().unwrap();
    assert!(rows >= 10, "init, issue, revoke and CRL signing are all audited ({rows} rows)");

    let db = format!("sqlite://{}/kyso.db", env.data_dir().display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = rt.block_on(kyso_store::Store::open(&db)).unwrap();
    let all = rt.block_on(store.audit_rows(0, 1000)).unwrap();
    let actions: Vec<&str> = all.iter().map(|r| r.action.as_str()).collect();
    for a in ["key.generate", "cert.issue", "cert.revoke", "crl.sign", "init"] {
        assert!(actions.contains(&a), "audit has no {a}: {actions:?}");
    }
    assert!(
        all.iter().all(|r| !r.detail.contains("019190000041") && !r.subject.contains("019190000041")),
        "no full ID in the audit log"
    );

    // The log refuses UPDATE (migration 11); a database owner drops the trigger first.
    assert!(rt.block_on(store.execute_raw("UPDATE audit_log SET detail = 'x' WHERE action = 'cert.revoke'")).is_err());
    rt.block_on(store.execute_raw(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'nothing happened' WHERE action = 'cert.revoke'",
    ))
    .unwrap();
    let edited = all.iter().find(|r| r.action == "cert.revoke").unwrap().seq;
    let o = env.kyso(&["--json", "audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "verify must exit 1 on a broken chain");
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    assert_eq!(v["first_bad_row"].as_i64(), Some(edited));
    rt.block_on(store.close());
}
