//! Notifications through the real binary and server, on SQLite and PostgreSQL: contacts from the
//! CLI, a citizen opting out on `/me`, a commune officer inviting a hamlet's worklist to a support session from
//! `/campaign/notify` (CSRF-checked, typed, area-scoped), the outbox shown masked on the page and by
//! `kyso notify outbox`, the same invitation again adding nothing, and `kyso notify send-due`
//! refusing to run without `[notify]`. Delivery on the wire is tested in kyso-tracker.

mod support;

use serde_json::Value;
use support::web::Visitor;
use support::{form, on_both_backends, Backend, Env, Request};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01960,T02,Xóm Ba Họ\n\
30856,A1,Ấp Hòa Long\n";

const AN: &str = "019190000001";
const BINH: &str = "019085000002";
const CHI: &str = "019195000003";
const DUNG: &str = "019080000004";

fn register() -> String {
    format!(
        "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
{AN},Nguyễn Thị An,15/03/1990,Nữ,T01,1\n\
{BINH},Trần Văn Bình,01/12/1985,Nam,T01,1\n\
{CHI},Lê Thị Chi,02/02/1995,Nữ,T01,2\n\
{DUNG},Phạm Văn Dũng,09/09/1980,Nam,T02,7\n"
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

on_both_backends!(an_officer_invites_a_hamlet_and_sees_the_outbox_masked);

fn an_officer_invites_a_hamlet_and_sees_the_outbox_masked(b: Backend) {
    let Some(env) = Env::on("notify", b) else { return };
    env.init();
    std::fs::write(env.path("units.csv"), UNITS).unwrap();
    std::fs::write(env.path("hamlets.csv"), HAMLETS).unwrap();
    std::fs::write(env.path("register.csv"), register()).unwrap();
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "register.csv", "--commune", "01960"]);
    // An: a mobile number; Bình: an e-mail (Chi registers below)
    let c =
        json(&env.ok(&["--json", "notify", "contact", "--id", AN, "--channel", "sms", "--address", "+84 912 000 001"]));
    assert_eq!(c["address"], "09******01", "{c}");
    env.ok(&["notify", "contact", "--id", BINH, "--channel", "email", "--address", "binh@example.vn"]);
    let bad = env.kyso(&["notify", "contact", "--id", AN, "--channel", "sms", "--address", "12345"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--address: a mobile number has 10 digits"));
    let _server = env.serve();
    // Chi registers (her mobile number) and opts out on her account page
    let mut chi = Visitor::new(env.port);
    let fields =
        [("id_number", CHI), ("phone", "0912000003"), ("password", "mot hai ba bon"), ("password2", "mot hai ba bon")];
    let r = chi.submit("/register", "/register", &fields);
    assert_eq!((r.status, r.location().as_str()), (303, "/me?done=registered"), "{}", r.text());
    let me = chi.get("/me").text();
    assert!(me.contains("Bạn đang nhận thông báo"), "{me}");
    let r = chi.submit("/me", "/me/notifications", &[("receive", "no")]);
    assert_eq!((r.status, r.location().as_str()), (303, "/me?done=notifications"));
    let me = chi.get("/me?done=notifications").text();
    assert!(me.contains("Đã lưu lựa chọn") && me.contains("Bạn đã từ chối nhận thông báo"), "{me}");
    let r = chi.post("/me/notifications", &[("csrf", "forged"), ("receive", "yes")]);
    assert_eq!(r.status, 403, "a forged form changes nothing");
    let officer = support::officer_cookie(&env, "01960");

    let page = Request::get("/campaign/notify?commune=01960").cookies(&officer).send(env.port);
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains("action=\"/campaign/notify/invite\"") && html.contains("Xóm Đồng Tâm"), "{html}");
    assert!(html.contains("Chưa có tin nhắn nào"), "an empty outbox");
    let csrf = page.csrf();

    let day = kyso_calendar::today() + time::Duration::days(3);
    let fields = |time: &str| {
        form(&[
            ("csrf", &csrf),
            ("commune", "01960"),
            ("hamlet", "T01"),
            ("date", &day.to_string()),
            ("time", time),
            ("venue", "Nhà văn hóa xóm Đồng Tâm"),
            ("sms", "1"),
            ("email", "1"),
        ])
    };
    // a time that is not HH:MM is refused, naming the field in words
    let r = Request::post("/campaign/notify/invite").cookies(&officer).form(&fields("8 giờ")).send(env.port);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Giờ bắt đầu phải có dạng GG:PP"), "{}", r.text());
    let r = Request::post("/campaign/notify/invite").cookies(&officer).form(&fields("08:00")).send(env.port);
    assert_eq!(r.status, 303, "{}", r.text());
    // An by SMS, Bình by e-mail; Chi opted out: kept suppressed, not sent
    assert!(r.location().ends_with("residents=3&queued=2&unreachable=0"), "{}", r.location());
    // the same invitation again: nothing new
    let r = Request::post("/campaign/notify/invite").cookies(&officer).form(&fields("08:00")).send(env.port);
    assert!(r.location().contains("queued=0"), "{}", r.location());

    let html = Request::get("/campaign/notify?commune=01960").cookies(&officer).send(env.port).text();
    assert!(html.contains("<code>09******01</code>") && html.contains("<code>b***@example.vn</code>"), "{html}");
    assert!(!html.contains("0912000001") && !html.contains("binh@"), "recipients masked");
    assert!(html.contains("Mời buổi hỗ trợ") && html.contains("Chờ gửi"), "{html}");
    let en = Request::get("/campaign/notify?commune=01960&lang=en").cookies(&officer).send(env.port).text();
    assert!(en.contains("Session invitation") && en.contains("Queued"), "{en}");

    // the CLI sees the same outbox, masked
    let out = json(&env.ok(&["--json", "notify", "outbox", "--unit", "01960"]));
    assert_eq!(out["messages"].as_array().unwrap().len(), 3, "{out}");
    assert_eq!(out["counts"], serde_json::json!([["queued", 2], ["suppressed", 1]]), "{out}");
    assert!(!out.to_string().contains("0912000001"));

    // another commune's officer may not see or send
    let other = support::officer_cookie(&env, "30856");
    let r = Request::get("/campaign/notify?commune=01960").cookies(&other).send(env.port);
    assert_eq!(r.status, 403);

    // no [notify] in kyso.toml: nothing can be delivered, and the command says so
    let o = env.kyso(&["notify", "send-due"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no [notify] section"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
