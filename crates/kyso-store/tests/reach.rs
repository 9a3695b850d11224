//! Reaching people (migrations 21–22) on SQLite and PostgreSQL: hotline questions logged with
//! their audit row and read per area, the FAQ found without diacritics through its folded column,
//! the operator hours; training sessions and attendance; report approval as one conditional
//! write, raced by concurrent approvers.

use kyso_campaign::hotline::{fold, query_words};
use kyso_store::campaign::CommuneRow;
use kyso_store::hotline::{CallScope, FaqRow, HotlineCallRow};
use kyso_store::{AuditEvent, Store};

mod support;
use support::backends;

fn ev(action: &str) -> AuditEvent {
    AuditEvent::new("test", action, "subject", "detail")
}

async fn units(s: &Store) {
    let commune = |code: &str, province: &str| CommuneRow {
        code: code.into(),
        province_code: province.into(),
        province_name: format!("Tỉnh {province}"),
        name: format!("Xã {code}"),
        kind: "commune".into(),
        lat: 22.0,
        lon: 105.0,
        area_km2: None,
    };
    s.upsert_communes(&[commune("01960", "19"), commune("01849", "19"), commune("30292", "91")], &ev("units"))
        .await
        .unwrap();
}

fn call(province: &str, commune: Option<&str>, topic: &str, resolved: bool, at: i64) -> HotlineCallRow {
    HotlineCallRow {
        id: 0,
        province_code: province.into(),
        commune_code: commune.map(Into::into),
        topic: topic.into(),
        question: "Hỏi về chữ ký số".into(),
        caller_masked: "091****678".into(),
        resolved,
        operator: "tongdai".into(),
        called_at: at,
    }
}

async fn audit_actions(s: &Store) -> Vec<String> {
    s.audit_rows(0, 1000).await.unwrap().into_iter().map(|r| r.action).collect()
}

#[tokio::test]
async fn hotline_calls_are_logged_audited_and_read_per_area() {
    for (s, _d) in backends("reach-hotline").await {
        let b = s.backend();
        units(&s).await;
        s.log_hotline_call(&call("19", Some("01960"), "pin", true, 1_000), &ev("hotline.call")).await.unwrap();
        s.log_hotline_call(&call("19", Some("01960"), "pin", false, 2_000), &ev("hotline.call")).await.unwrap();
        s.log_hotline_call(&call("19", Some("01849"), "fees", true, 3_000), &ev("hotline.call")).await.unwrap();
        s.log_hotline_call(&call("19", None, "eid_level2", true, 4_000), &ev("hotline.call")).await.unwrap();
        let last =
            s.log_hotline_call(&call("91", Some("30292"), "sign", true, 5_000), &ev("hotline.call")).await.unwrap();
        assert_eq!(last.id, 5, "{b}");
        let ids = |rows: Vec<HotlineCallRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(s.hotline_calls(&CallScope::All, 0, 10_000, 100).await.unwrap()), [5, 4, 3, 2, 1], "{b}");
        assert_eq!(
            ids(s.hotline_calls(&CallScope::Province("19".into()), 0, 10_000, 100).await.unwrap()),
            [4, 3, 2, 1]
        );
        assert_eq!(ids(s.hotline_calls(&CallScope::Commune("01960".into()), 0, 10_000, 100).await.unwrap()), [2, 1]);
        // [from, to): the week's window.
        assert_eq!(ids(s.hotline_calls(&CallScope::All, 2_000, 4_000, 100).await.unwrap()), [3, 2], "{b}");
        let mut topics = s.hotline_topics(&CallScope::Commune("01960".into()), 0, 10_000).await.unwrap();
        topics.sort();
        assert_eq!(topics, [("pin".to_owned(), false), ("pin".to_owned(), true)], "{b}");
        let row = &s.hotline_calls(&CallScope::Commune("01960".into()), 0, 1_500, 1).await.unwrap()[0];
        assert_eq!((row.caller_masked.as_str(), row.resolved, row.called_at), ("091****678", true, 1_000));
        assert_eq!(audit_actions(&s).await.iter().filter(|a| *a == "hotline.call").count(), 5, "{b}");
        // A caller longer than a masked number is refused before any SQL.
        let long = HotlineCallRow { caller_masked: "0912345678901234567".into(), ..call("19", None, "pin", true, 1) };
        assert!(s.log_hotline_call(&long, &ev("hotline.call")).await.is_err());
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

fn faq(id: i64, question: &str, answer: &str) -> FaqRow {
    FaqRow {
        id,
        topic: "sign".into(),
        question: question.into(),
        answer: answer.into(),
        folded: fold(&format!("{question} {answer}")),
        updated_at: 0,
        updated_by: "tongdai".into(),
    }
}

#[tokio::test]
async fn faq_is_found_without_diacritics_on_both_backends() {
    for (s, _d) in backends("reach-faq").await {
        let b = s.backend();
        let first =
            s.save_faq(&faq(0, "Chữ ký số là gì?", "Là chữ ký điện tử của người dân."), &ev("faq")).await.unwrap();
        s.save_faq(&faq(0, "Định danh điện tử mức 2 ở đâu?", "Tại Công an xã Hiệp Lực."), &ev("faq")).await.unwrap();
        s.save_faq(&faq(0, "Mã PIN bị khóa", "Đến điểm hỗ trợ để mở khóa chữ ký số."), &ev("faq")).await.unwrap();
        let found = |q: &'static str| {
            let s = s.clone();
            async move { s.search_faq(&query_words(q, 8), 10).await.unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>() }
        };
        assert_eq!(found("chu ky so").await, [1, 3], "{b}");
        assert_eq!(found("CHỮ KÝ SỐ").await, [1, 3], "{b}");
        assert_eq!(found("dinh danh muc 2").await, [2], "{b}");
        assert_eq!(found("cong an hiep luc").await, [2], "{b}");
        assert_eq!(found("chu ky so gia han").await, Vec::<i64>::new(), "{b}");
        assert_eq!(found("").await, [1, 2, 3], "{b}");
        // A word that is not folded never reaches a LIKE pattern.
        assert!(s.search_faq(&["%".to_owned()], 10).await.is_err());
        // Editing re-folds: the old words no longer match, the new ones do.
        s.save_faq(&faq(first.id, "Chứng thư số là gì?", "Là giấy chứng nhận khóa công khai."), &ev("faq"))
            .await
            .unwrap();
        assert_eq!(found("chu ky so").await, [3], "{b}");
        assert_eq!(found("chung thu").await, [1], "{b}");
        assert!(s.save_faq(&faq(99, "x", "y"), &ev("faq")).await.is_err(), "{b}: unknown id");
        s.set_hotline_info("1900 6868", "7:30–20:00", &ev("hotline.hours")).await.unwrap();
        s.set_hotline_info("1900 6869", "7:30–21:00", &ev("hotline.hours")).await.unwrap();
        assert_eq!(s.hotline_info().await.unwrap(), (Some("1900 6869".into()), Some("7:30–21:00".into())), "{b}");
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

use kyso_store::training::{AttendeeRow, TeamMemberRow, TrainingSessionRow};

fn attendee(id: &str, kind: &str) -> AttendeeRow {
    AttendeeRow { id_number: id.into(), full_name: "Nguyễn Văn Học".into(), kind: kind.into() }
}

#[tokio::test]
async fn training_sessions_keep_their_attendance_and_rosters() {
    for (s, _d) in backends("reach-training").await {
        let b = s.backend();
        let session = |day: &str| TrainingSessionRow {
            id: 0,
            unit_code: "01960".into(),
            held_on: day.into(),
            trainer: "VNPT Thái Nguyên".into(),
            topic: "Kích hoạt chữ ký số".into(),
            recorded_by: "canbo.xa".into(),
            recorded_at: 0,
        };
        let first = s
            .add_training_session(
                &session("2026-07-20"),
                &[attendee("019190000001", "staff"), attendee("019190000002", "volunteer")],
                &ev("training"),
            )
            .await
            .unwrap();
        assert_eq!(first.id, 1, "{b}");
        s.add_training_session(
            &session("2026-08-03"),
            &[attendee("019190000001", "staff"), attendee("019190000003", "staff")],
            &ev("training"),
        )
        .await
        .unwrap();
        // A person listed twice: nothing of the session is kept.
        let twice = [attendee("019190000004", "staff"), attendee("019190000004", "volunteer")];
        assert!(s.add_training_session(&session("2026-08-04"), &twice, &ev("training")).await.is_err(), "{b}");
        // A kind the table does not know: refused by its CHECK.
        assert!(s
            .add_training_session(&session("2026-08-04"), &[attendee("019190000005", "guest")], &ev("training"))
            .await
            .is_err());
        let sessions = s.training_sessions(Some("01960")).await.unwrap();
        assert_eq!(
            sessions.iter().map(|(r, n)| (r.held_on.as_str(), *n)).collect::<Vec<_>>(),
            [("2026-08-03", 2), ("2026-07-20", 2)],
            "{b}"
        );
        assert_eq!(s.trained_ids("01960", "2026-07-31").await.unwrap(), ["019190000001", "019190000002"], "{b}");
        assert_eq!(s.trained_ids("01960", "2026-08-31").await.unwrap().len(), 3, "{b}");
        assert!(s.trained_ids("01849", "2026-08-31").await.unwrap().is_empty());
        let member = |id: &str, team: &str| TeamMemberRow {
            unit_code: "01960".into(),
            id_number: id.into(),
            full_name: "Tổ viên".into(),
            team: team.into(),
        };
        let up = s
            .upsert_team_members(&[member("019190000002", "Tổ 1"), member("019190000006", "Tổ 1")], &ev("team"))
            .await
            .unwrap();
        assert_eq!((up.inserted, up.updated), (2, 0), "{b}");
        let up = s.upsert_team_members(&[member("019190000006", "Tổ 2")], &ev("team")).await.unwrap();
        assert_eq!((up.inserted, up.updated), (0, 1), "{b}");
        let teams: Vec<String> = s.team_members(Some("01960")).await.unwrap().into_iter().map(|m| m.team).collect();
        assert_eq!(teams, ["Tổ 1", "Tổ 2"], "{b}");
        let audited = audit_actions(&s).await;
        assert_eq!(audited.iter().filter(|a| *a == "training").count(), 2, "{b}: failed sessions are not audited");
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

use kyso_store::campaign::ReportRow;

fn report(unit: &str, at: i64) -> ReportRow {
    ReportRow {
        id: 0,
        unit_code: unit.into(),
        frequency: "weekly".into(),
        period_start: "2026-07-30".into(),
        submitted_at: at,
        submitted_by: "Phó Chủ tịch".into(),
        difficulties: String::new(),
        proposals: String::new(),
    }
}

fn figures(holders: i64) -> Vec<(String, i64)> {
    vec![("holders".into(), holders), ("adults".into(), 100)]
}

#[tokio::test]
async fn a_returned_report_is_resubmitted_an_approved_one_freezes() {
    for (s, _d) in backends("reach-approval").await {
        let b = s.backend();
        let first =
            s.submit_report(&report("01960", 1_000), &figures(10), &ev("campaign.report.submit")).await.unwrap();
        let returned = s
            .review_report(first.id, "returned", "canbo.tinh", "Số liệu chưa khớp", &ev("campaign.report.return"))
            .await
            .unwrap();
        assert_eq!((returned.state.as_str(), returned.reason.as_str()), ("returned", "Số liệu chưa khớp"), "{b}");
        // A returned report cannot be approved afterwards; it is corrected and resubmitted.
        assert!(matches!(
            s.review_report(first.id, "approved", "canbo.tinh", "", &ev("campaign.report.approve")).await,
            Err(kyso_store::StoreError::Conflict(_))
        ));
        let second =
            s.submit_report(&report("01960", 2_000), &figures(12), &ev("campaign.report.submit")).await.unwrap();
        let approved =
            s.review_report(second.id, "approved", "canbo.tinh", "", &ev("campaign.report.approve")).await.unwrap();
        assert_eq!((approved.state.as_str(), approved.reviewed_by.as_deref()), ("approved", Some("canbo.tinh")), "{b}");
        // Frozen: no later submission for the unit and period, through either write path.
        let third = s.submit_report(&report("01960", 3_000), &figures(99), &ev("campaign.report.submit")).await;
        assert!(matches!(third, Err(kyso_store::StoreError::Conflict(_))), "{b}: {third:?}");
        assert!(s.add_report(&report("01960", 3_000), &ev("campaign.report.submit")).await.is_err(), "{b}");
        let all = s.period_reports("weekly", "2026-07-30").await.unwrap();
        assert_eq!(all.len(), 2, "{b}");
        assert_eq!(
            all[1].1.iter().find(|(n, _)| n == "holders").map(|(_, v)| *v),
            Some(12),
            "{b}: the approved figures"
        );
        let states: Vec<String> =
            s.period_reviews("weekly", "2026-07-30").await.unwrap().into_iter().map(|r| r.state).collect();
        assert_eq!(states, ["returned", "approved"], "{b}");
        // Another unit's report of the same period is not frozen by it.
        s.submit_report(&report("01849", 2_500), &figures(3), &ev("campaign.report.submit")).await.unwrap();
        // An older submission cannot be approved once a newer one replaced it.
        let old = s.submit_report(&report("01864", 1_000), &figures(1), &ev("campaign.report.submit")).await.unwrap();
        s.submit_report(&report("01864", 1_500), &figures(2), &ev("campaign.report.submit")).await.unwrap();
        assert!(
            matches!(
                s.review_report(old.id, "approved", "canbo.tinh", "", &ev("campaign.report.approve")).await,
                Err(kyso_store::StoreError::Conflict(_))
            ),
            "{b}"
        );
        assert!(matches!(
            s.review_report(999, "approved", "x", "", &ev("a")).await,
            Err(kyso_store::StoreError::NotFound(_))
        ));
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvers_decide_once() {
    for (s, _d) in backends("reach-approval-race").await {
        let b = s.backend();
        for round in 0..3 {
            let unit = format!("0196{round}");
            let row = s.submit_report(&report(&unit, 1_000), &figures(5), &ev("campaign.report.submit")).await.unwrap();
            let before = audit_actions(&s).await.len();
            // Eight officers at once, half approving, half returning.
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        let (state, action) = if i % 2 == 0 {
                            ("approved", "campaign.report.approve")
                        } else {
                            ("returned", "campaign.report.return")
                        };
                        s.review_report(
                            row.id,
                            state,
                            &format!("officer{i}"),
                            "Lý do",
                            &AuditEvent::new(&format!("officer{i}"), action, "u", "d"),
                        )
                        .await
                    })
                })
                .collect();
            let mut won = Vec::new();
            for t in tasks {
                match t.await.unwrap() {
                    Ok(r) => won.push(r),
                    Err(kyso_store::StoreError::Conflict(_)) => {}
                    Err(e) => panic!("{b}: {e}"),
                }
            }
            assert_eq!(won.len(), 1, "{b}: exactly one decision lands");
            let stored = s
                .period_reviews("weekly", "2026-07-30")
                .await
                .unwrap()
                .into_iter()
                .find(|r| r.report_id == row.id)
                .unwrap();
            assert_eq!(
                (stored.state.as_str(), stored.reviewed_by.as_deref()),
                (won[0].state.as_str(), won[0].reviewed_by.as_deref()),
                "{b}"
            );
            assert_eq!(audit_actions(&s).await.len(), before + 1, "{b}: one audit row for one decision");
        }
        assert!(s.verify_audit().await.unwrap().first_error.is_none(), "{b}");
    }
}

#[tokio::test]
async fn agencies_are_registered_beside_units() {
    for (s, _d) in backends("reach-agencies").await {
        let b = s.backend();
        let agency = |code: &str, unit: &str, kind: &str| kyso_store::approval::AgencyRow {
            code: code.into(),
            unit_code: unit.into(),
            name: format!("Cơ quan {code}"),
            kind: kind.into(),
        };
        s.upsert_agency(&agency("01960-CA", "01960", "police"), &ev("agency")).await.unwrap();
        s.upsert_agency(&agency("19-VNPT", "19", "telecom"), &ev("agency")).await.unwrap();
        s.upsert_agency(&agency("01960-CA", "01960", "police"), &ev("agency")).await.unwrap();
        assert!(s.upsert_agency(&agency("01960-X", "01960", "bank"), &ev("agency")).await.is_err(), "{b}: kind CHECK");
        let codes: Vec<String> = s.agencies(None).await.unwrap().into_iter().map(|a| a.code).collect();
        assert_eq!(codes, ["01960-CA", "19-VNPT"], "{b}");
        assert_eq!(s.agencies(Some("19")).await.unwrap().len(), 1, "{b}");
    }
}

/// A staff list imported twice: the second import updates the rows it knows (on PostgreSQL the
/// existence check once failed to decode, so a re-import was refused there).
#[tokio::test]
async fn a_staff_list_imports_again_as_updates_on_both_backends() {
    use kyso_store::reports::StaffRow;
    for (s, _d) in backends("reach-staff-again").await {
        let b = s.backend();
        units(&s).await;
        let row = |id: &str, name: &str| StaffRow {
            unit_code: "01960".into(),
            id_number: id.into(),
            full_name: name.into(),
            agency: "UBND xã".into(),
            segment_key: None,
            deadline: Some("2026-07-31".into()),
        };
        let first = s.upsert_staff(&[row("001090000001", "Lê Văn A")], &ev("staff.import")).await.unwrap();
        assert_eq!((first.inserted, first.updated), (1, 0), "{b}");
        let again = s
            .upsert_staff(&[row("001090000001", "Lê Văn Anh"), row("001090000002", "Trần Thị B")], &ev("staff.import"))
            .await
            .unwrap();
        assert_eq!((again.inserted, again.updated), (1, 1), "{b}");
        let names: Vec<String> = s.staff(Some("01960")).await.unwrap().into_iter().map(|r| r.full_name).collect();
        assert_eq!(names, ["Lê Văn Anh", "Trần Thị B"], "{b}");
    }
}
