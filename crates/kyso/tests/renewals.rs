//! The renewal cliff over HTTP, on SQLite and PostgreSQL: `/campaign/renewals` lists exactly a
//! hamlet's holders whose coverage ends in the window (provider-list rows and kyso's own
//! certificates), masked, by expiry date; its XLSX says the same; another commune's officer is
//! refused; the commune dashboard shows the expiries per month and the forecast net of them.

mod support;

use kyso_xlsx::Workbook;
use serde_json::Value;
use support::{http_with, on_both_backends, Backend, Env};

const UNITS: &str = "province_code,province_name,commune_code,commune_name,commune_type,lat,lon,area_km2\n\
19,Tỉnh Thái Nguyên,01960,Xã Hiệp Lực,Xã,22.3273,105.968,105.02\n\
91,Tỉnh An Giang,30856,Xã Tân Hội,Xã,10.3,105.2,50.5\n";

const HAMLETS: &str = "commune_code,hamlet_code,hamlet_name\n01960,T01,Xóm Đồng Tâm\n01960,T02,Xóm Ba Họ\n\
30856,A1,Ấp Hòa Long\n";

const AN: &str = "019190000001";
const BINH: &str = "019085000002";
const CHI: &str = "019195000003";
const DUNG: &str = "019188000004";
const EM: &str = "019187000005";
const GIANG: &str = "019186000006";
const HA: &str = "019184000007";
const KHOA: &str = "019080000008";
const LAN: &str = "019183000009";

fn register() -> String {
    format!(
        "Số định danh,Họ và tên,Ngày sinh,Giới tính,Mã thôn,Hộ\n\
{AN},Nguyễn Thị An,15/03/1990,Nữ,T01,1\n\
{BINH},Trần Văn Bình,01/12/1985,Nam,T01,1\n\
{CHI},Lê Thị Chi,02/02/1995,Nữ,T01,2\n\
{DUNG},Phạm Văn Dũng,01/01/1988,Nam,T01,3\n\
{EM},Hoàng Thị Em,01/01/1987,Nữ,T01,4\n\
{GIANG},Vũ Văn Giang,01/01/1986,Nam,T01,5\n\
{HA},Đỗ Thị Hà,01/01/1984,Nữ,T01,6\n\
{KHOA},Bùi Văn Khoa,01/01/1980,Nam,T02,7\n\
{LAN},Ngô Thị Lan,01/01/1983,Nữ,T01,8\n"
    )
}

/// On 1 June 2026: An, Bình (at two providers: the later end counts), Giang and Hà (revoked on
/// 10 September) lapse within 18 months; Chi's row has no expiry, Dũng's expired in May, Em's runs
/// past the horizon, Khoa lives in T02, Lan holds only a certificate kyso issues today.
fn list() -> String {
    format!(
        "cccd,nha_cung_cap,ngay_cap,ngay_het_han,trang_thai,ngay_thu_hoi\n\
{AN},VNPT-CA,10/01/2026,10/01/2027,,\n\
{BINH},VNPT-CA,01/02/2026,01/02/2027,,\n\
{BINH},Viettel-CA,01/05/2026,15/08/2027,,\n\
{CHI},VNPT-CA,01/03/2026,,,\n\
{DUNG},VNPT-CA,05/01/2026,20/05/2026,,\n\
{EM},MISA-CA,01/04/2026,01/04/2028,,\n\
{GIANG},BKAV-CA,15/02/2026,31/12/2026,,\n\
{HA},VNPT-CA,01/02/2026,01/02/2027,Đã thu hồi,10/09/2026\n\
{KHOA},VNPT-CA,01/03/2026,01/03/2027,,\n"
    )
}

fn masked(id: &str) -> String {
    format!("{}****{}", &id[..4], &id[8..])
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

on_both_backends!(the_renewals_list_is_the_window_masked_and_in_order);

fn get(env: &Env, path: &str, cookie: &str) -> (u16, Vec<u8>) {
    let url = format!("{}{path}", env.base_url());
    http_with("GET", &url, None, &[("Cookie", cookie)], &[]).unwrap()
}

/// The (masked ID, name, provider, expiry) of each line of the page, in order.
fn lines(page: &str) -> Vec<(String, String, String, String)> {
    page.split("<li class=\"person\"><p><strong>")
        .skip(1)
        .map(|li| {
            let name = li.split('<').next().unwrap().to_string();
            let id = li.split("<code>").nth(1).unwrap().split('<').next().unwrap().to_string();
            let provider = li.split("<br>").nth(1).unwrap().split(" · ").next().unwrap().to_string();
            let day = li.split("<time>").nth(1).unwrap().split('<').next().unwrap().to_string();
            (id, name, provider, day)
        })
        .collect()
}

fn the_renewals_list_is_the_window_masked_and_in_order(b: Backend) {
    let Some(env) = Env::on("renewals", b) else { return };
    env.init();
    std::fs::write(env.path("units.csv"), UNITS).unwrap();
    std::fs::write(env.path("hamlets.csv"), HAMLETS).unwrap();
    std::fs::write(env.path("register.csv"), register()).unwrap();
    std::fs::write(env.path("list.csv"), list()).unwrap();
    env.ok(&["campaign", "import-units", "units.csv"]);
    env.ok(&["campaign", "import-hamlets", "hamlets.csv"]);
    env.ok(&["campaign", "import-register", "register.csv", "--commune", "01960"]);
    let imported = json(&env.ok(&["--json", "campaign", "import-provider-list", "list.csv"]));
    assert_eq!(imported["inserted"].as_u64(), Some(9), "{imported}");
    env.plan_2026("01960");
    let (lan_serial, _) = env.issue(LAN, "vnpt", &[]);
    let _server = env.serve();
    let officer = support::officer_cookie(&env, "01960");

    let page_url = "/campaign/renewals?commune=01960&hamlet=T01&date=2026-06-01";
    let (status, body) = get(&env, page_url, &officer);
    let page = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{page}");
    let want = [
        (masked(HA), "Đỗ T. Hà", "VNPT-CA", "10/09/2026"),
        (masked(GIANG), "Vũ V. Giang", "BKAV-CA", "31/12/2026"),
        (masked(AN), "Nguyễn T. An", "VNPT-CA", "10/01/2027"),
        (masked(BINH), "Trần V. Bình", "Viettel-CA", "15/08/2027"),
    ];
    let got = lines(&page);
    let want: Vec<(String, String, String, String)> =
        want.iter().map(|(a, b, c, d)| (a.clone(), b.to_string(), c.to_string(), d.to_string())).collect();
    assert_eq!(got, want, "{page}");
    for id in [AN, BINH, CHI, DUNG, EM, GIANG, HA, KHOA, LAN] {
        assert!(!page.contains(id), "a full ID number on the page");
    }
    assert!(page.contains("Cần gia hạn<b>4</b>") && page.contains("30/11/2027"), "the window's count and end");
    let (status, body) = get(&env, &format!("{page_url}&lang=en"), &officer);
    let en = String::from_utf8(body).unwrap();
    assert_eq!(status, 200);
    assert!(en.contains("To renew<b>4</b>") && en.contains("expires <time>10/09/2026</time>"), "{en}");
    assert_eq!(lines(&en).len(), 4);

    // The workbook: the same lines, the same order, the expiry a date.
    let (status, body) = get(&env, &page_url.replace("renewals?", "renewals.xlsx?"), &officer);
    assert_eq!(status, 200);
    let mut book = Workbook::open(std::io::Cursor::new(body)).unwrap();
    let rows: Vec<Vec<String>> = book.rows(None).unwrap().map(|r| r.unwrap().texts()).collect();
    let xlsx: Vec<(String, String)> = rows[1..].iter().map(|r| (r[0].clone(), r[3].clone())).collect();
    let iso = ["2026-09-10", "2026-12-31", "2027-01-10", "2027-08-15"];
    assert_eq!(xlsx, want.iter().zip(iso).map(|(w, d)| (w.0.clone(), d.to_string())).collect::<Vec<_>>());
    assert_eq!(rows[1][1], "Đỗ Thị Hà", "the workbook carries the full name, for the door");

    // Today, kyso's own certificate counts like a list row: Lan is listed with its expiry day.
    let cert = json(&env.ok(&["--json", "cert", "list", "--id", LAN]));
    let cert = cert.as_array().unwrap().iter().find(|c| c["serial"] == lan_serial.as_str()).unwrap().clone();
    let ends = kyso_calendar::vn_day(cert["not_after"].as_i64().unwrap() + 1);
    let (y, m, d) = kyso_calendar::civil_from_days_wide(ends);
    let (_, body) = get(&env, "/campaign/renewals?commune=01960&hamlet=T01", &officer);
    let today = String::from_utf8(body).unwrap();
    let lan = lines(&today).into_iter().find(|l| l.0 == masked(LAN)).unwrap_or_else(|| panic!("{today}"));
    assert_eq!(lan.3, format!("{d:02}/{m:02}/{y}"));
    assert!(lines(&page).iter().all(|l| l.0 != masked(LAN)), "not yet a holder on 1 June");

    // Another commune's officer, an anonymous visitor, an unknown hamlet.
    let other = support::officer_cookie(&env, "30856");
    let (status, _) = get(&env, page_url, &other);
    assert!(status == 403 || status == 404, "another commune's officer: {status}");
    let (status, _) = get(&env, &page_url.replace("renewals?", "renewals.xlsx?"), &other);
    assert!(status == 403 || status == 404, "another commune's officer, XLSX: {status}");
    let (status, _) = get(&env, page_url, "");
    assert_eq!(status, 303, "anonymous: to the staff login");
    assert_eq!(get(&env, "/campaign/renewals?commune=01960&hamlet=T99", &officer).0, 404);
    let (status, _) = get(&env, "/campaign/renewals?commune=01960&hamlet=T01&date=2026-13-01", &officer);
    assert_eq!(status, 400);

    // Views and exports audited, masked.
    let audit = env.ok(&["audit", "show", "--action", "campaign.renewals.view"]);
    assert!(audit.contains("01960/T01") && audit.contains("4 holders to renew from 2026-06-01"), "{audit}");
    let audit = env.ok(&["audit", "show", "--action", "campaign.renewals.export"]);
    assert!(audit.contains("4 holders to renew from 2026-06-01, xlsx"), "{audit}");

    // The dashboard: 18 months of bars, the forecast to 31 October less Hà's lapse, the links.
    let (status, body) = get(&env, "/campaign?unit=01960&date=2026-06-01", "");
    let dash = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{dash}");
    let section = dash.split("Chứng thư sắp hết hạn").nth(1).expect("the renewals section");
    assert_eq!(section.matches("<rect ").count(), 18, "{section}");
    assert!(section.contains("<title>09/2026: 1</title>") && section.contains("<title>12/2026: 1</title>"));
    // Hà, Giang, An, Bình and Khoa (T02) within 18 months; only Hà before the deadline.
    assert!(section.contains("Trong 18 tháng tới <strong>5</strong>"), "{section}");
    assert!(section.contains("trừ 1 chứng thư hết hạn trước đó"), "{section}");
    assert!(section.contains("/campaign/renewals?commune=01960&amp;hamlet=T01"), "{section}");
    let en = String::from_utf8(get(&env, "/campaign?unit=01960&date=2026-06-01&lang=en", "").1).unwrap();
    assert!(en.contains("Certificates about to expire") && en.contains("In the next 18 months <strong>5</strong>"));
}
