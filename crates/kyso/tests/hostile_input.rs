//! Hostile input against the real server (`kyso serve --demo`), on SQLite and PostgreSQL:
//! bad query values are a 400 in the page's language naming the field (never a 500), an encoded
//! newline cannot forge a log line, a 1,048,576-character value is refused by every form and the
//! operator API, every response carries the security headers (and no-store where it holds personal
//! data), and the reports' text is for authorised staff only while their figures stay public.

mod support;

use std::sync::MutexGuard;
use support::web::DemoEnv;
use support::{enc, form, on_both_backends, Backend, Request, Response, FORM};

type Demo = DemoEnv;
type Resp = Response;

/// The backend's demo, for this case alone; None when PostgreSQL is down outside CI.
fn demo(backend: Backend) -> Option<MutexGuard<'static, Demo>> {
    support::web::shared_demo(backend, "hostile-input", "info", |_| {})
}

fn get(port: u16, path: &str, cookie: &str) -> Resp {
    Request::get(path).cookies(cookie).send(port)
}

fn req(port: u16, method: &str, path: &str, cookie: &str, content_type: &str, body: &str) -> Resp {
    Request::new(method, path).cookies(cookie).body(content_type, body.as_bytes()).send(port)
}

on_both_backends!(
    an_encoded_newline_cannot_forge_a_log_line,
    bad_dates_and_values_are_a_400_naming_the_field,
    a_megabyte_value_is_refused_by_every_form,
    the_operator_api_names_the_field_and_refuses_a_megabyte,
    security_headers_on_every_kind_of_response,
    report_text_is_for_authorised_staff_figures_for_everyone,
    messages_name_the_field_in_words_and_say_what_to_do,
    figures_and_dates_are_written_the_pages_way,
);

/// Signs a demo staff member in; the `Cookie` value of the session.
fn staff(d: &Demo, user: &str) -> String {
    let page = get(d.port, "/staff/login", "");
    let pre = page.cookie_pair("kyso_pre").unwrap();
    let body = form(&[("csrf", &page.csrf()), ("username", user), ("password", &d.password)]);
    let r = req(d.port, "POST", "/staff/login", &pre, FORM, &body);
    assert_eq!(r.status, 303, "{user}: {}", r.text());
    r.cookie_pair("kyso_session").unwrap()
}

/// The words a page names a field by, in Vietnamese and English (issue 18: never the code).
fn field_words(field: &str) -> (&'static str, &'static str) {
    match field {
        "date" => ("Ngày ", "The date "),
        "period" => ("Kỳ báo cáo ", "The reporting period "),
        "freq" => ("Tần suất báo cáo ", "The report frequency "),
        "kind" => ("Loại bảng ", "The table kind "),
        "unit" => ("Đơn vị ", "The unit "),
        "hamlet" => ("Thôn, tổ dân phố ", "The hamlet "),
        other => panic!("no words for {other}"),
    }
}

/// A 400 page in Vietnamese naming `field` in words, and the same in English with `lang=en`.
fn refused_in_both_languages(d: &Demo, path: &str, field: &str, cookie: &str) {
    let (vi_words, en_words) = field_words(field);
    let vi = get(d.port, path, cookie);
    assert_eq!(vi.status, 400, "{path}: {}", vi.text());
    assert!(vi.text().contains(vi_words) && !vi.text().contains(&format!("«{field}»")), "{path}: {}", vi.text());
    assert!(vi.text().contains("lang=\"vi\""), "{path}");
    let sep = if path.contains('?') { '&' } else { '?' };
    let en = get(d.port, &format!("{path}{sep}lang=en"), cookie);
    assert_eq!(en.status, 400, "{path} (en): {}", en.text());
    assert!(en.text().contains(en_words) && en.text().contains("lang=\"en\""), "{path}: {}", en.text());
}

fn security_headers(r: &Resp, what: &str) {
    let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP\n{}", r.head));
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{what}: {csp}");
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"), "{what}");
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"), "{what}");
}

fn no_store(r: &Resp, what: &str) {
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{what}\n{}", r.head);
}

fn xlsx_texts(bytes: &[u8]) -> String {
    let mut book = kyso_xlsx::Workbook::open(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    book.rows(None).unwrap().map(|r| r.unwrap().texts().join("|")).collect::<Vec<_>>().join("\n")
}

/// No forged line in the log, and no bad value reached the failure path (checked after the
/// cases that send bad values; the log holds whatever ran before too).
fn assert_log_clean(d: &Demo) {
    let log = d.demo.log_text();
    for line in log.lines() {
        assert!(!line.starts_with("2026-01-01T00:00:00"), "forged log line: {line}");
        assert!(!line.contains("role=administrator"), "forged log line: {line}");
    }
    assert!(!log.contains("campaign page failed"), "a bad value reached the failure path:\n{log}");
}

/// An encoded newline in a value cannot forge a log line, and no bad value reaches the failure
/// path (the log is read after this case's requests and whatever ran before).
fn an_encoded_newline_cannot_forge_a_log_line(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    let forged =
        "2026-01-01T00:00:00.000000Z  INFO kyso_server::web::desk: staff login staff=quantri role=administrator";
    for path in [
        format!("/campaign?date=x%0A{}", enc(forged)),
        format!("/campaign/worklist?commune=01960&hamlet=T01&date=x%0D%0A{}", enc(forged)),
        format!("/campaign/reports?unit=19&period=x%0A{}", enc(forged)),
        format!("/campaign/ranking?province=19%0A{}", enc(forged)),
    ] {
        let r = get(port, &path, "");
        assert_eq!(r.status, 400, "{path}: {}", r.text());
    }

    assert_log_clean(&d);
}

/// Bad dates and values: 400 in Vietnamese and in English, naming the field.
fn bad_dates_and_values_are_a_400_naming_the_field(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    for date in ["garbage", "2026-02-30", "99999-01-01"] {
        refused_in_both_languages(&d, &format!("/campaign?date={date}"), "date", "");
        refused_in_both_languages(&d, &format!("/campaign/worklist?commune=01960&hamlet=T01&date={date}"), "date", "");
        refused_in_both_languages(&d, &format!("/campaign/ranking?province=19&date={date}"), "date", "");
        refused_in_both_languages(&d, &format!("/campaign/reports?unit=19&period={date}"), "period", "");
    }
    let officer = staff(&d, "canbo.xa");
    for path in [
        "/campaign/worklist?commune=01960&hamlet=T01&date=2026-02-30",
        "/campaign/worklist.xlsx?commune=01960&hamlet=T01&date=garbage",
        "/campaign/reconcile?commune=01960&date=99999-01-01",
        "/campaign/reconcile.xlsx?commune=01960&date=2026-02-30",
    ] {
        refused_in_both_languages(&d, path, "date", &officer);
    }
    refused_in_both_languages(&d, "/campaign/reports?unit=19&freq=yearly", "freq", "");
    refused_in_both_languages(&d, "/campaign/reports/xlsx?unit=01960&kind=pie", "kind", "");
    refused_in_both_languages(&d, "/campaign/reports/unit?unit=%3Cscript%3E", "unit", "");
    refused_in_both_languages(&d, "/campaign/reports?unit=19&period=2026-07-31", "period", "");
    refused_in_both_languages(&d, "/campaign/worklist?commune=01960", "hamlet", &officer);
    refused_in_both_languages(&d, "/campaign/tasks?unit=a%22b", "unit", "");
    // A query axum could not deserialize (a field twice) is ours too, not axum's English text.
    refused_in_both_languages(&d, "/campaign?date=2026-01-01&date=2026-01-02", "date", "");
    // A good date still works, for the officer and for the public.
    assert_eq!(get(port, "/campaign?date=2026-03-01", "").status, 200);
    assert_eq!(get(port, "/campaign/worklist?commune=01960&hamlet=T01&date=2026-03-01", &officer).status, 200);
    assert_log_clean(&d);
}

/// A 1,048,576-character value is refused by the registration, desk and report forms; over
/// a field's limit is a 400 in the page's language; nothing is stored.
fn a_megabyte_value_is_refused_by_every_form(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    let officer = staff(&d, "canbo.xa");
    let huge = "A".repeat(1_048_576);
    // Registration (the page's language: the kyso_lang cookie says English).
    let page = get(port, "/register", "");
    let pre = format!("kyso_pre={}", page.cookie("kyso_pre").unwrap());
    let fields = |phone: &str| {
        form(&[
            ("csrf", &page.csrf()),
            ("id_number", &d.fresh),
            ("phone", phone),
            ("password", "mot cau mat khau dai"),
            ("password2", "mot cau mat khau dai"),
        ])
    };
    let r = req(port, "POST", "/register", &pre, FORM, &fields(&huge));
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("quá lớn"), "{}", r.text());
    let r = req(port, "POST", "/register", &format!("{pre}; kyso_lang=en"), FORM, &fields(&"0".repeat(33)));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("The phone number is longer than 32 characters"), "{}", r.text());
    let r = req(port, "POST", "/register", &pre, FORM, &fields(&"0".repeat(33)));
    assert!(r.text().contains("Số điện thoại dài quá 32 ký tự"), "{}", r.text());
    let r = get(port, "/login", "");
    let pre2 = format!("kyso_pre={}", r.cookie("kyso_pre").unwrap());
    let login = form(&[("csrf", &r.csrf()), ("id_number", &d.fresh), ("password", "mot cau mat khau dai")]);
    assert_ne!(req(port, "POST", "/login", &pre2, FORM, &login).status, 303, "no account was created");

    // Desk forms: level-2 verification and the support session.
    let desk = staff(&d, "hotro.hieplu");
    let csrf = get(port, "/desk", &desk).csrf();
    for (action, fields) in [
        (
            "/desk/verify",
            vec![
                ("csrf", csrf.as_str()),
                ("person", "0123456789abcdef0123456789abcdef"),
                ("activation", "self_activated"),
                ("method", huge.as_str()),
                ("checked", "1"),
            ],
        ),
        (
            "/desk/session",
            vec![
                ("csrf", csrf.as_str()),
                ("person", "0123456789abcdef0123456789abcdef"),
                ("step", huge.as_str()),
                ("outcome", "completed"),
            ],
        ),
    ] {
        let r = req(port, "POST", action, &desk, FORM, &form(&fields));
        assert_eq!(r.status, 413, "{action}: {}", r.text());
        assert!(r.text().contains("quá lớn"), "{action}: {}", r.text());
    }
    let long = "x".repeat(65);
    let fields = [
        ("csrf", csrf.as_str()),
        ("person", "0123456789abcdef0123456789abcdef"),
        ("activation", "self_activated"),
        ("method", &long),
        ("checked", "1"),
    ];
    let r = req(port, "POST", "/desk/verify", &desk, FORM, &form(&fields));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Cách xác minh dài quá 64 ký tự"), "{}", r.text());
    let lookup = req(port, "POST", "/desk/lookup", &desk, FORM, &form(&[("csrf", &csrf), ("id_number", &d.l1)]));
    assert!(lookup.text().contains("Mức 1") || lookup.text().contains("Level 1"), "still level 1: {}", lookup.text());

    // Report text: over its limit, a 400 in the page's language; the report is not stored.
    let report = |difficulties: &str, lang: &str| {
        let csrf = get(port, "/campaign/reports/unit?unit=01960", &officer).csrf();
        let f = form(&[
            ("csrf", &csrf),
            ("unit", "01960"),
            ("freq", "weekly"),
            ("period", "2026-01-01"),
            ("lang", lang),
            ("by", "Trần Văn Bình"),
            ("difficulties", difficulties),
            ("proposals", ""),
        ]);
        req(port, "POST", "/campaign/reports/unit", &officer, FORM, &f)
    };
    let r = report(&"k".repeat(4001), "vi");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Khó khăn, vướng mắc dài quá 4000 ký tự"), "{}", r.text());
    let r = report(&"k".repeat(4001), "en");
    assert!(r.text().contains("The difficulties section is longer than 4000 characters"), "{}", r.text());
    assert_eq!(report(&huge, "vi").status, 413);
}

fn the_operator_api_names_the_field_and_refuses_a_megabyte(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    let huge = "A".repeat(1_048_576);
    let token = std::fs::read_to_string(d.env.data_dir().join("operator-token")).unwrap();
    let auth = format!("Bearer {}", token.trim());
    let api = |body: &str| {
        let (status, out) = support::http_with(
            "POST",
            &format!("http://127.0.0.1:{port}/api/v1/citizens"),
            Some("application/json"),
            &[("Authorization", &auth)],
            body.as_bytes(),
        )
        .unwrap();
        (status, String::from_utf8_lossy(&out).into_owned())
    };
    let citizen = |name: &str| {
        format!(r#"{{"id_number":"{}","full_name":"{name}","province":"Thái Nguyên","eid_level":1}}"#, d.fresh)
    };
    let (status, out) = api(&citizen(&huge));
    assert_eq!(status, 413, "{out}");
    assert!(out.contains("\"invalid_request\""), "{out}");
    let (status, out) = api(&citizen(&"A".repeat(129)));
    assert_eq!(status, 400, "{out}");
    assert!(out.contains("full_name") && out.contains("128"), "{out}");
    let (status, out) = api(r#"{"id_number":"001203001234"}"#);
    assert_eq!(status, 400, "{out}");
    assert!(out.contains("full_name") && out.contains("\"error\""), "{out}");
}

fn security_headers_on_every_kind_of_response(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    let officer = staff(&d, "canbo.xa");
    let desk = staff(&d, "hotro.hieplu");
    let home = get(port, "/", "");
    security_headers(&home, "home page");
    no_store(&home, "home page");
    let error = get(port, "/campaign?date=garbage", "");
    security_headers(&error, "error page");
    no_store(&error, "error page");
    let missing = get(port, "/no/such/page", "");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("Không có trang này"), "{}", missing.text());
    security_headers(&missing, "404");
    let worklist = get(port, "/campaign/worklist?commune=01960&hamlet=T01", &officer);
    assert_eq!(worklist.status, 200);
    security_headers(&worklist, "worklist");
    no_store(&worklist, "worklist");
    // The worklist's forms and inline SVG stay allowed: forms post to kyso itself.
    assert!(worklist.header("content-security-policy").unwrap().contains("form-action 'self'"));
    for path in [
        "/campaign/worklist.xlsx?commune=01960&hamlet=T01",
        "/campaign/reconcile.xlsx?commune=01960",
        "/campaign/reconcile?commune=01960",
        "/desk",
    ] {
        let r = get(port, path, if path == "/desk" { &desk } else { &officer });
        assert_eq!(r.status, 200, "{path}");
        security_headers(&r, path);
        no_store(&r, path);
    }
    let api_answer = get(port, "/api/v1/certificates/01", "");
    assert_eq!(api_answer.status, 401);
    security_headers(&api_answer, "API");
    no_store(&api_answer, "API");
    // The verify page's inline script is allowed by its hash, nothing else inline.
    let verify = get(port, "/verify", "");
    let csp = verify.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self' 'sha256-") && !csp.contains("unsafe-inline' 'sha"), "{csp}");
    assert!(!csp.contains("script-src 'unsafe-inline'"), "{csp}");
    // Public DER resources keep their public caching (linked from the relying parties' page).
    let body = get(port, "/ben-tin-cay", "").text();
    let at = body.find("href=\"/ca/").expect("a CA link") + 6;
    let ca_path = body[at..].split('"').next().unwrap().to_owned();
    let ca = get(port, &ca_path, "");
    assert_eq!(ca.status, 200, "{ca_path}");
    assert_eq!(ca.header("cache-control").as_deref(), Some("public, max-age=86400"), "{ca_path}");
    assert_eq!(ca.header("x-content-type-options").as_deref(), Some("nosniff"));
}

/// Reports: figures for everyone, what officers wrote for authorised staff only.
fn report_text_is_for_authorised_staff_figures_for_everyone(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    let officer = staff(&d, "canbo.xa");
    let writer = "Đàm Văn Trung";
    let wrote = "Một bộ phận người cao tuổi";
    let public = get(port, "/campaign/reports/unit?unit=01960", "");
    assert_eq!(public.status, 200, "{}", public.text());
    let text = public.text();
    assert!(text.contains("Đã có chứng thư số") && text.contains("Người trong độ tuổi"), "figures are public");
    assert!(!text.contains(writer) && !text.contains(wrote), "report text shown to the public:\n{text}");
    no_store(&public, "report page");
    for (user, sees) in [("canbo.xa", true), ("canbo.tinh", true), ("kiemtoan", true), ("hotro.hieplu", false)] {
        let cookie = if user == "canbo.xa" { officer.clone() } else { staff(&d, user) };
        let page = get(port, "/campaign/reports/unit?unit=01960", &cookie).text();
        assert_eq!(page.contains(writer) && page.contains(wrote), sees, "{user}");
        let x = get(port, "/campaign/reports/xlsx?unit=01960", &cookie);
        assert_eq!(x.status, 200, "{user}");
        assert_eq!(xlsx_texts(&x.body).contains(writer), sees, "{user}: XLSX");
    }
    let x = get(port, "/campaign/reports/xlsx?unit=01960", "");
    assert_eq!(x.status, 200);
    security_headers(&x, "report XLSX");
    no_store(&x, "report XLSX");
    let sheet = xlsx_texts(&x.body);
    assert!(sheet.contains("Đã có chứng thư số") && !sheet.contains(writer) && !sheet.contains(wrote), "{sheet}");
    // The roll-up is public: statuses, not submission times.
    let roll = get(port, "/campaign/reports/xlsx?unit=19&kind=rollup", "");
    assert_eq!(roll.status, 200);
    let sheet = xlsx_texts(&roll.body);
    assert!(sheet.contains("Đúng hạn") || sheet.contains("Trễ hạn") || sheet.contains("Chưa nộp"), "{sheet}");
    let province = staff(&d, "canbo.tinh");
    let full = xlsx_texts(&get(port, "/campaign/reports/xlsx?unit=19&kind=rollup", &province).body);
    let times = |s: &str| s.matches(":").count();
    assert!(times(&full) > times(&sheet), "staff see submission times the public does not:\n{full}\n---\n{sheet}");
}

/// Issue 18: every message a person reads in the page's language, the field in words: a date
/// that does not exist, an ID number one digit short or with a letter (register and desk), a
/// file that is not a PDF on /verify, an unknown page (404), a method a page does not take
/// (405) and an unknown province — each in Vietnamese and in English, in the layout.
fn messages_name_the_field_in_words_and_say_what_to_do(b: Backend) {
    let Some(d) = demo(b) else { return };
    let port = d.port;
    let html = |r: &Resp, lang: &str| {
        assert!(r.text().contains(&format!("lang=\"{lang}\"")) && r.text().contains("</html>"), "{}", r.text());
    };
    // A date that does not exist: 400, said with what was typed, never "campaign data unavailable".
    let r = get(port, "/campaign?date=2025-13-45", "");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Ngày phải là một ngày có thật, dạng dd/mm/yyyy") && r.text().contains("2025-13-45"));
    html(&r, "vi");
    let r = get(port, "/campaign?date=2025-13-45&lang=en", "");
    assert!(r.text().contains("The date must be a real date, as dd/mm/yyyy"), "{}", r.text());
    html(&r, "en");

    // The register form: the ID number one digit short, then with a letter.
    let register = |id: &str, cookie: &str| {
        let page = get(port, "/register", cookie);
        let pre = format!("kyso_pre={}{cookie}", page.cookie("kyso_pre").unwrap());
        let f = form(&[
            ("csrf", &page.csrf()),
            ("id_number", id),
            ("phone", "0912345678"),
            ("password", "mot cau mat khau dai"),
            ("password2", "mot cau mat khau dai"),
        ]);
        req(port, "POST", "/register", &pre, FORM, &f)
    };
    let short = &d.fresh[..11];
    let r = register(short, "");
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("Số định danh cá nhân phải có đúng 12 chữ số; bạn đã nhập 11."), "{}", r.text());
    assert!(!r.text().contains("id_number:") && !r.text().contains("got 11"), "{}", r.text());
    let r = register(short, "; kyso_lang=en");
    assert!(r.text().contains("The ID number must have exactly 12 digits; you typed 11."), "{}", r.text());
    let r = register("01908A123456", "");
    assert!(r.text().contains("ký tự thứ 6 là «A»"), "{}", r.text());
    let r = register("01908A123456", "; kyso_lang=en");
    assert!(r.text().contains("The ID number has digits only; character 6 is"), "{}", r.text());

    // The desk's lookup: the same words after the redirect.
    let desk = staff(&d, "hotro.hieplu");
    let csrf = get(port, "/desk", &desk).csrf();
    let r = req(port, "POST", "/desk/lookup", &desk, FORM, &form(&[("csrf", &csrf), ("id_number", short)]));
    assert_eq!(r.status, 303, "{}", r.text());
    let back = get(port, &r.location(), &desk);
    assert!(back.text().contains("Số định danh cá nhân phải có đúng 12 chữ số; bạn đã nhập 11."), "{}", back.text());

    // /verify: a file that is not a PDF, in the page's language (the JSON API keeps its code).
    let not_pdf = Request::post("/verify/report").body("application/pdf", b"GIF89a not a pdf".to_vec()).send(port);
    assert!(not_pdf.text().contains("Tệp này không phải PDF"), "{}", not_pdf.text());
    assert!(!not_pdf.text().contains("does not start with %PDF- ") && !not_pdf.text().contains("PDF: does not"));
    let en = Request::post("/verify/report?lang=en").body("application/pdf", b"GIF89a".to_vec()).send(port);
    assert!(en.text().contains("This file is not a PDF"), "{}", en.text());
    let api = Request::post("/api/validate").body("application/pdf", b"GIF89a".to_vec()).send(port);
    assert_eq!(api.status, 400);
    let v: serde_json::Value = serde_json::from_str(&api.text()).unwrap();
    assert_eq!(v["error"], "invalid_request", "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("Tệp này không phải PDF"), "{v}");
    let unsigned = kyso_testkit::pdf::minimal_pdf("Hồ sơ chưa ký");
    let r = Request::post("/verify/report").body("application/pdf", unsigned.clone()).send(port);
    assert!(r.text().contains("Tệp PDF này không có chữ ký số nào"), "{}", r.text());
    let r = Request::post("/verify/report?lang=en").body("application/pdf", unsigned).send(port);
    assert!(r.text().contains("This PDF has no digital signature"), "{}", r.text());

    // 404 and 405 are pages in the layout; an unknown province is named as such.
    let r = get(port, "/khong-co-trang-nay", "");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("Không có trang này."), "{}", r.text());
    html(&r, "vi");
    let r = get(port, "/khong-co-trang-nay?lang=en", "");
    assert!(r.text().contains("There is no such page."), "{}", r.text());
    html(&r, "en");
    let r = req(port, "DELETE", "/campaign", "", FORM, "");
    assert_eq!(r.status, 405, "{}", r.text());
    assert!(r.header("allow").is_some_and(|a| a.contains("GET")), "{}", r.head);
    assert!(r.text().contains("Trang này không nhận yêu cầu gửi theo cách đó"), "{}", r.text());
    html(&r, "vi");
    let r = req(port, "DELETE", "/campaign?lang=en", "", FORM, "");
    assert!(r.text().contains("This page does not take that kind of request"), "{}", r.text());
    let r = get(port, "/campaign/ranking?province=98", "");
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("Không có tỉnh, thành phố này."), "{}", r.text());
    html(&r, "vi");
}

/// The text of the first `<b>…</b>` after `label` on a page.
fn card(page: &str, label: &str) -> String {
    let at = page.find(label).unwrap_or_else(|| panic!("no {label} in {page}"));
    let rest = &page[at..];
    let start = rest.find("<b>").unwrap() + 3;
    rest[start..start + rest[start..].find("</b>").unwrap()].to_owned()
}

/// Issue 18: the dashboard writes 5.480 and 6,20 % and 31/12/2025 in Vietnamese, 5,480 and 6.20%
/// in English — never 5480, 6.20 % or 2025-12-31 where a person reads them.
fn figures_and_dates_are_written_the_pages_way(b: Backend) {
    let Some(d) = demo(b) else { return };
    let vi = get(d.port, "/campaign?date=2026-03-01", "").text();
    let en = get(d.port, "/campaign?date=2026-03-01&lang=en", "").text();
    let adults_vi = card(&vi, "Người trong độ tuổi");
    let adults_en = card(&en, "Adults");
    let digits = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
    let n: u64 = digits(&adults_vi).parse().unwrap();
    assert!(n >= 1000, "the demo has thousands of adults: {adults_vi}");
    assert_eq!(adults_vi, kyso_fmt::int(n, kyso_fmt::Style::Vi), "{adults_vi}");
    assert!(adults_vi.contains('.') && !adults_vi.contains(','), "{adults_vi}");
    assert_eq!(adults_en, kyso_fmt::int(n, kyso_fmt::Style::En), "{adults_en}");
    let share_vi = card(&vi, "Tỷ lệ");
    let share_en = card(&en, "Share");
    assert!(share_vi.ends_with(" %") && share_vi.contains(','), "{share_vi}");
    assert!(share_en.ends_with('%') && !share_en.ends_with(" %") && share_en.contains('.'), "{share_en}");
    assert!(vi.contains("<strong>01/03/2026</strong>") && en.contains("<strong>01/03/2026</strong>"));
    assert!(!vi.contains(">2026-03-01<") && !vi.contains("2026-10-31 "), "an ISO date shown");
}
