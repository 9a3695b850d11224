//! Notifications end to end, on the wire: a session invitation for a hamlet's worklist sent
//! through a real SMTP server (Python's aiosmtpd, started here) and a local HTTP gateway receiver
//! (a std TcpListener here), checking what each received; opt-outs, idempotency, a gateway that
//! fails and a retry; each on SQLite and on PostgreSQL. The SMTP half needs aiosmtpd (`.ci/venv`): without it, and without
//! KYSO_REQUIRE_INTEROP=1, it is skipped with a notice; with KYSO_REQUIRE_INTEROP=1 it must run.

use kyso_campaign::notify::Channel;
use kyso_store::accounts::EidAccountRow;
use kyso_store::campaign::{CommuneRow, HamletRow, ResidentRow};
use kyso_store::notify::RateLimit;
use kyso_store::{AuditEvent, AuditKey, Store, Write};
use kyso_testkit::TempDir;
use kyso_tracker::notify::{invite_hamlet, send_due, Delivery, Gateway, Invitation, Smtp};
use std::io::{Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use time::macros::datetime;

/// 10:00 on Monday 7 December 2026 in Vietnam: outside quiet hours whatever the wall clock says.
fn day_time() -> i64 {
    datetime!(2026-12-07 10:00 +7).unix_timestamp()
}

const SMTPD: &str = r#"
import sys, json, email
from email import policy
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.content, policy=policy.default)
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "subject": str(m["subject"]),
                                "body": m.get_content(), "type": m.get_content_type()}, ensure_ascii=False) + "\n")
        return "250 OK"
c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

/// The SMTP server as a child process, stopped when dropped.
struct Smtpd {
    child: Child,
    port: u16,
    out: std::path::PathBuf,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtpd(dir: &TempDir) -> Option<Smtpd> {
    let python = kyso_testkit::tools::python_with("aiosmtpd")
        .or_else(|| kyso_testkit::tools::skip("Python with aiosmtpd (pip install aiosmtpd into .ci/venv)"))?;
    let port = kyso_testkit::free_port();
    let out = dir.path().join("smtp.jsonl");
    let mut child = Command::new(python)
        .args(["-c", SMTPD, &port.to_string(), &out.display().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start aiosmtpd");
    let mut ready = [0u8; 5];
    child.stdout.as_mut().unwrap().read_exact(&mut ready).expect("aiosmtpd says ready");
    assert_eq!(&ready, b"ready");
    Some(Smtpd { child, port, out })
}

/// One request the gateway receiver got: its head and body.
struct Received {
    head: String,
    body: Vec<u8>,
}

/// A gateway receiver answering each request with the next status of `statuses`.
fn gateway(statuses: Vec<u16>) -> (u16, mpsc::Receiver<Received>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for status in statuses {
            let Ok((mut c, _)) = l.accept() else { return };
            let r = read_request(&mut c);
            let reason = if status == 200 { "OK" } else { "Service Unavailable" };
            let _ = c.write_all(
                format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").as_bytes(),
            );
            let _ = tx.send(r);
        }
    });
    (port, rx)
}

fn read_request(c: &mut TcpStream) -> Received {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = c.read(&mut chunk).unwrap();
        assert!(n > 0, "the request ended before its headers");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8(buf[..end].to_vec()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("Content-Length");
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = c.read(&mut chunk).unwrap();
        assert!(n > 0);
        body.extend_from_slice(&chunk[..n]);
    }
    Received { head, body }
}

fn ev() -> AuditEvent {
    AuditEvent::new("test", "campaign.import", "test", "rows")
}

/// Xã Hiệp Lực's hamlet T01: four adults without a certificate — one registered with a phone and
/// an e-mail, one with a phone only, one who opted out, one never registered.
async fn hamlet(store: &Store) {
    let commune = CommuneRow {
        code: "01960".into(),
        province_code: "19".into(),
        province_name: "Tỉnh Thái Nguyên".into(),
        name: "Xã Hiệp Lực".into(),
        kind: "commune".into(),
        lat: 22.0,
        lon: 105.0,
        area_km2: None,
    };
    store.upsert_communes(&[commune], &ev()).await.unwrap();
    let h = HamletRow { commune_code: "01960".into(), code: "T01".into(), name: "Xóm Đồng Tâm".into() };
    store.upsert_hamlets(&[h], &ev()).await.unwrap();
    let resident = |id: &str, name: &str| ResidentRow {
        id_number: id.into(),
        full_name: Some(name.into()),
        date_of_birth: "1980-05-01".into(),
        sex: "F".into(),
        commune_code: "01960".into(),
        hamlet_code: "T01".into(),
        household: Some("12".into()),
    };
    let rows = [
        resident("019180000001", "Nguyễn Thị Lan"),
        resident("019180000002", "Trần Văn Bình"),
        resident("019180000003", "Lê Thị Cúc"),
        resident("019180000004", "Phạm Văn Dũng"),
    ];
    store.upsert_residents(&rows, &ev()).await.unwrap();
    let account = |id: &str, phone: &str| {
        Write::EidAccount(EidAccountRow {
            id_number: id.into(),
            phone: phone.into(),
            password_hash: "$argon2id$test".into(),
            level: 1,
            activation: "registered".into(),
            verified_method: None,
            verified_by: None,
            verified_place: None,
            verified_at: None,
            created_at: 1,
            updated_at: 1,
        })
    };
    store
        .commit(&[
            account("019180000001", "0912000001"),
            account("019180000002", "0912000002"),
            account("019180000003", "0912000003"),
        ])
        .await
        .unwrap();
    store
        .set_person_contact("019180000001", "email", Some(("lan@example.vn", "l***@example.vn")), "test")
        .await
        .unwrap();
    store.set_opt_out("019180000003", true, "citizen", 1).await.unwrap();
}

/// Each test runs on both backends: SQLite in `dir`, PostgreSQL in a fresh schema (None, with a
/// notice, when PostgreSQL is down outside CI; CI requires it).
const BACKENDS: [&str; 2] = ["sqlite", "postgres"];

async fn open(backend: &str, dir: &TempDir, name: &str) -> Option<Store> {
    let store = if backend == "sqlite" {
        Store::open(&format!("sqlite://{}/kyso.db", dir.path().display())).await.unwrap()
    } else {
        let schema = kyso_testkit::postgres::schema_name("tn", name);
        match Store::open_postgres_schema(&kyso_testkit::postgres::base_url(), &schema).await {
            Ok(pg) => pg,
            Err(e) => return kyso_testkit::postgres::unavailable(&format!("test `{name}`"), &e),
        }
    };
    Some(store.with_audit_key(AuditKey::insecure_test_key()))
}

fn limits() -> Vec<RateLimit> {
    ["email", "sms", "zalo"].iter().map(|c| RateLimit { channel: (*c).into(), per_minute: 100 }).collect()
}

fn invitation(channels: Vec<Channel>) -> Invitation {
    Invitation {
        commune: "01960".into(),
        hamlet: "T01".into(),
        at: datetime!(2026-12-12 08:00 +7),
        place: "Nhà văn hóa xóm Đồng Tâm".into(),
        channels,
    }
}

#[tokio::test]
async fn an_invitation_reaches_a_real_smtp_server_and_the_gateway() {
    for backend in BACKENDS {
        an_invitation_reaches_a_real_smtp_server_and_the_gateway_on(backend).await;
    }
}

async fn an_invitation_reaches_a_real_smtp_server_and_the_gateway_on(backend: &str) {
    let dir = TempDir::new("kyso-tracker", &format!("notify-e2e-{backend}"));
    let tag = format!("notify-e2e-{backend}");
    let Some(smtp) = smtpd(&dir) else { return };
    let (gw_port, received) = gateway(vec![200, 200]);
    let Some(store) = open(backend, &dir, &tag).await else { return };
    hamlet(&store).await;
    let now = day_time();

    let r = invite_hamlet(&store, &invitation(vec![Channel::Sms, Channel::Email]), "canbo.xa", now).await.unwrap();
    assert_eq!(r.residents, 4, "four adults without a certificate");
    assert_eq!(r.unreachable, 1, "Dũng never registered: no address");
    // Lan: SMS + e-mail; Bình: SMS; Cúc opted out (kept suppressed, never sent)
    assert_eq!((r.enqueued.queued, r.enqueued.opted_out, r.enqueued.duplicates), (3, 1, 0));
    let again = invite_hamlet(&store, &invitation(vec![Channel::Sms, Channel::Email]), "canbo.xa", now).await.unwrap();
    assert_eq!((again.enqueued.queued, again.enqueued.duplicates), (0, 4), "the same invitation twice: nothing new");

    let delivery = Delivery {
        smtp: Some(Smtp {
            host: "127.0.0.1".into(),
            port: smtp.port,
            from: "UBND xã Hiệp Lực <thongbao@hiepluc.example.vn>".into(),
        }),
        gateway: Some(Gateway { url: format!("http://127.0.0.1:{gw_port}/send"), token: "gw-secret".into() }),
    };
    let sent = send_due(&store, &delivery, &limits(), now, 20).await.unwrap();
    assert_eq!((sent.sent, sent.retried, sent.failed, sent.quiet), (3, 0, 0, false));

    // the e-mail, as the SMTP server received it
    let deadline = Instant::now() + Duration::from_secs(10);
    let mail = loop {
        if let Ok(t) = std::fs::read_to_string(&smtp.out) {
            if !t.is_empty() {
                break t;
            }
        }
        assert!(Instant::now() < deadline, "the SMTP server received nothing");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mails: Vec<serde_json::Value> = mail.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(mails.len(), 1, "{mail}");
    let m = &mails[0];
    assert_eq!(m["to"], serde_json::json!(["lan@example.vn"]));
    assert_eq!(m["from"], "thongbao@hiepluc.example.vn");
    assert_eq!(m["subject"], "Mời tham dự buổi hỗ trợ chữ ký số ngày 12/12/2026");
    let body = m["body"].as_str().unwrap();
    assert!(body.contains("lúc 08:00 ngày 12/12/2026 tại Nhà văn hóa xóm Đồng Tâm"), "{body}");
    assert!(body.contains("UBND xã Hiệp Lực mời bà con xóm Đồng Tâm"), "{body}");
    assert_eq!(m["type"], "text/plain");

    // the two SMS, as the gateway received them
    let mut texts = Vec::new();
    for _ in 0..2 {
        let req = received.recv_timeout(Duration::from_secs(10)).expect("the gateway got a request");
        assert!(req.head.starts_with("POST /send HTTP/1.1"), "{}", req.head);
        assert!(req.head.contains("Authorization: Bearer gw-secret"), "{}", req.head);
        assert!(req.head.to_ascii_lowercase().contains("content-type: application/json"));
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(v["channel"], "sms");
        assert!(v["message_id"].as_str().unwrap().starts_with("kyso-"));
        assert!(v["text"].as_str().unwrap().contains("tại Nhà văn hóa xóm Đồng Tâm"), "{v}");
        texts.push(v["to"].as_str().unwrap().to_owned());
    }
    texts.sort();
    assert_eq!(texts, ["0912000001", "0912000002"]);

    // the outbox: three sent, one suppressed; nothing more to send
    let rows = store.outbox(Some("01960"), 10).await.unwrap();
    let mut status: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    status.sort();
    assert_eq!(status, ["sent", "sent", "sent", "suppressed"]);
    assert_eq!(send_due(&store, &delivery, &limits(), now + 60, 20).await.unwrap().sent, 0);
    // audit rows name recipients masked only
    let audit = store.audit_rows(0, 10_000).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "notify.sent").count(), 3);
    for a in audit.iter().filter(|a| a.action.starts_with("notify.")) {
        for clear in ["0912000001", "0912000002", "lan@example.vn", "019180000003"] {
            assert!(!a.detail.contains(clear) && !a.subject.contains(clear), "{} {}", a.action, a.detail);
        }
    }
    assert!(store.verify_audit().await.unwrap().first_error.is_none());
}

#[tokio::test]
async fn a_failing_gateway_is_retried_with_backoff_and_quiet_hours_wait() {
    for backend in BACKENDS {
        a_failing_gateway_is_retried_with_backoff_and_quiet_hours_wait_on(backend).await;
    }
}

async fn a_failing_gateway_is_retried_with_backoff_and_quiet_hours_wait_on(backend: &str) {
    let dir = TempDir::new("kyso-tracker", &format!("notify-retry-{backend}"));
    let tag = format!("notify-retry-{backend}");
    let (gw_port, received) = gateway(vec![503, 200]);
    let Some(store) = open(backend, &dir, &tag).await else { return };
    hamlet(&store).await;
    let now = day_time();
    let r = invite_hamlet(&store, &invitation(vec![Channel::Zalo]), "canbo.xa", now).await.unwrap();
    assert_eq!(r.enqueued.queued, 2);
    let delivery = Delivery {
        smtp: None,
        gateway: Some(Gateway { url: format!("http://127.0.0.1:{gw_port}/zalo"), token: String::new() }),
    };
    // one message a minute on Zalo: the first pass tries one, the gateway answers 503
    let one = vec![RateLimit { channel: "zalo".into(), per_minute: 1 }];
    let first = send_due(&store, &delivery, &one, now, 20).await.unwrap();
    assert_eq!((first.sent, first.retried), (0, 1));
    let req = received.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!req.head.contains("Authorization"), "no token configured, no header");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&req.body).unwrap()["channel"], "zalo");
    // the same minute: the limit holds the other message back
    assert_eq!(send_due(&store, &delivery, &one, now + 30, 20).await.unwrap().sent, 0);
    // a minute later the one not yet tried goes first (due earlier); the failed one, due again
    // after its first backoff (1 minute), waits for the next minute's slot
    let second = send_due(&store, &delivery, &one, now + 60, 20).await.unwrap();
    assert_eq!(second.sent, 1);
    received.recv_timeout(Duration::from_secs(10)).unwrap();
    let rows = store.outbox(None, 10).await.unwrap();
    let queued: Vec<_> = rows.iter().filter(|r| r.status == "queued").collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].attempts, 1);
    assert_eq!(queued[0].next_attempt_at, now + 60);
    assert!(queued[0].last_error.as_deref().unwrap().contains("503"));
    // 21:30 in Vietnam: quiet hours, nothing is claimed
    let evening = datetime!(2026-12-07 21:30 +7).unix_timestamp();
    let quiet = send_due(&store, &delivery, &one, evening, 20).await.unwrap();
    assert!(quiet.quiet);
    assert_eq!(store.outbox(None, 10).await.unwrap().iter().filter(|r| r.status == "queued").count(), 1);
}

/// On Monday 7 December 2026: Lan's certificate ends in 30 days, Bình's in 7, Cúc's (opted out) in
/// 3; Dũng has none. The commune reports by e-mail; the commune police lead an overdue task.
#[tokio::test]
async fn the_days_reminders_go_once_to_holders_units_and_lead_units() {
    for backend in BACKENDS {
        the_days_reminders_go_once_to_holders_units_and_lead_units_on(backend).await;
    }
}

async fn the_days_reminders_go_once_to_holders_units_and_lead_units_on(backend: &str) {
    use kyso_store::campaign::PlanRow;
    use kyso_store::reports::TaskRow;
    use kyso_tracker::notify::run_reminders;
    use time::macros::date;
    let dir = TempDir::new("kyso-tracker", &format!("notify-reminders-{backend}"));
    let tag = format!("notify-reminders-{backend}");
    let Some(store) = open(backend, &dir, &tag).await else { return };
    hamlet(&store).await;
    let list = dir.path().join("list.csv");
    std::fs::write(
        &list,
        "cccd,nha_cung_cap,ngay_cap,ngay_het_han,trang_thai,ngay_thu_hoi\n\
019180000001,VNPT-CA,06/01/2026,06/01/2027,,\n\
019180000002,Viettel-CA,14/12/2025,14/12/2026,,\n\
019180000003,VNPT-CA,10/12/2025,10/12/2026,,\n",
    )
    .unwrap();
    let today = date!(2026 - 12 - 07);
    kyso_tracker::provider::import_provider_list(&store, &list, None, today, None, "test", &mut kyso_tracker::Silent)
        .await
        .unwrap();
    let plan = PlanRow {
        id: 0,
        unit_code: "01960".into(),
        period: "2026".into(),
        version: 0,
        min_age: 15,
        reference_date: "2026-01-01".into(),
        target_kind: "level".into(),
        target_percent_hundredths: Some(7000),
        target_absolute: None,
        baseline_count: 0,
        baseline_date: "2025-12-31".into(),
        baseline_source: "test".into(),
        deadline: "2026-10-31".into(),
        created_at: 0,
    };
    store.add_plan(&plan, &[], &ev()).await.unwrap();
    let task = |number: &str, lead: &str, status: &str| TaskRow {
        id: 0,
        unit_code: "01960".into(),
        number: number.into(),
        name: "Tuyên truyền tại các thôn".into(),
        lead: lead.into(),
        coordinating: String::new(),
        expected_result: String::new(),
        deadline: "Tháng 11/2026".into(),
        status: status.into(),
        note: String::new(),
        updated_at: 0,
    };
    store.add_task(&task("4.1", "Công an xã; các doanh nghiệp viễn thông", "in_progress"), &ev()).await.unwrap();
    store.add_task(&task("4.2", "Công an xã", "done"), &ev()).await.unwrap();
    store
        .set_unit_contact("01960", "", "email", Some(("baocao@hiepluc.example", "b***@hiepluc.example")), "t")
        .await
        .unwrap();
    store.set_unit_contact("01960", "Công an xã", "sms", Some(("0981000113", "09******13")), "t").await.unwrap();
    let now = day_time();

    let r = run_reminders(&store, today, now).await.unwrap();
    // Lan: SMS and e-mail (30 days); Bình: SMS (7 days); Cúc opted out: suppressed
    assert_eq!((r.renewals.queued, r.renewals.opted_out), (3, 1), "{r:?}");
    assert_eq!(r.reports.queued, 0, "Monday: no report is due tomorrow");
    assert_eq!(r.tasks.queued, 1, "task 4.1 is overdue, 4.2 is done");
    let again = run_reminders(&store, today, now + 3600).await.unwrap();
    assert_eq!((again.renewals.queued, again.tasks.queued), (0, 0), "the same day again adds nothing");
    assert_eq!(again.renewals.duplicates, 4);
    // Wednesday: the weekly report is due tomorrow 10:00; the task reminder waits for next week
    let wed = run_reminders(&store, date!(2026 - 12 - 09), now + 2 * 86_400).await.unwrap();
    assert_eq!((wed.reports.queued, wed.tasks.queued), (1, 0), "{wed:?}");
    // the 18th: the monthly report (due the 20th), and the task again (a new week); the 19th:
    // nothing new for the week
    let r18 = run_reminders(&store, date!(2026 - 12 - 18), now).await.unwrap();
    assert_eq!((r18.reports.queued, r18.tasks.queued), (1, 1), "{r18:?}");
    assert_eq!(run_reminders(&store, date!(2026 - 12 - 19), now).await.unwrap().tasks.queued, 0);

    let rows = store.outbox(Some("01960"), 50).await.unwrap();
    let subjects: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r.template.as_str(), r.channel.as_str(), r.recipient_masked.as_str())).collect();
    for want in [
        ("renewal_30", "sms", "09******01"),
        ("renewal_30", "email", "l***@example.vn"),
        ("renewal_7", "sms", "09******02"),
        ("report_weekly", "email", "b***@hiepluc.example"),
        ("report_monthly", "email", "b***@hiepluc.example"),
        ("task_overdue", "sms", "09******13"),
    ] {
        assert!(subjects.contains(&want), "{want:?} in {subjects:?}");
    }
    let weekly = rows.iter().find(|r| r.template == "report_weekly").unwrap();
    assert_eq!(weekly.subject, "Nhắc báo cáo tuần 03/12–09/12/2026");
    let renewal = rows.iter().find(|r| r.template == "renewal_7").unwrap();
    assert_eq!(renewal.subject, "Chứng thư số của bạn hết hạn sau 7 ngày");
}
