//! `POST /campaign/reports/review`: the level above approves a unit's latest report for a period
//! or returns it with a reason (DHIS2's data approval). The form is on the report page
//! (`templates/campaign/report.html`) for staff whom `kyso_access::decide` allows
//! `Action::ApproveReport` on the unit's area: a province officer for its communes and the
//! agencies beside them, the national administrator for the provinces. The store makes the
//! decision one conditional write; the second of two officers deciding at once is told so.

use super::reports::{area_of, unit_code};
use super::{failure, lang_param};
use crate::input::{self, Bad};
use crate::web::extract::{csrf_forms, StaffForm};
use crate::web::layout::forbidden;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kyso_access::{decide, Action, Resource};
use kyso_campaign::approval::{Decision, MAX_REASON_CHARS};
use kyso_tracker::approval::{self as service, Refused};
use kyso_tracker::reports as data;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ReviewForm {
    csrf: String,
    unit: String,
    freq: String,
    period: String,
    lang: Option<String>,
    /// `approve` or `return`.
    decision: String,
    #[serde(default)]
    reason: String,
}
csrf_forms!(ReviewForm);

pub async fn review(State(s): State<AppState>, post: StaffForm<ReviewForm>) -> Response {
    let (who, f) = (&post.who, &post.form);
    let en = who.ctx.en;
    let typed = (|| {
        let l = lang_param(f.lang.as_deref())?;
        let unit = unit_code(&f.unit)?;
        let freq = input::one_of("freq", &f.freq, &["weekly", "monthly"])?;
        let start = input::day("period", &f.period)?;
        let period = data::period(freq, Some(&start.to_string()))
            .map_err(|_| Bad::new("period", "phải là ngày đầu của một kỳ.", "must be the first day of a period."))?;
        let decision = match input::one_of("decision", &f.decision, &["approve", "return"])? {
            "approve" => Decision::Approve,
            _ => {
                if f.reason.chars().count() > MAX_REASON_CHARS {
                    return Err(input::too_long(kyso_store::approval::REASON));
                }
                if f.reason.trim().is_empty() {
                    return Err(Bad::new(
                        "reason",
                        "còn thiếu: hãy ghi lý do trả lại (cần sửa gì).",
                        "is missing: say why the report is returned (what to correct).",
                    ));
                }
                Decision::Return { reason: f.reason.trim().to_owned() }
            }
        };
        Ok::<_, Bad>((l, unit, period, decision))
    })();
    let (l, unit, period, decision) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(en),
    };
    let store = &s.authority.store;
    match area_of(store, &unit).await {
        Ok(Some(area)) if decide(&who.principal, Action::ApproveReport, &Resource::Unit(&area)).is_ok() => {}
        Ok(Some(_)) => return forbidden(&who.ctx),
        Ok(None) => return (StatusCode::NOT_FOUND, "no such unit\n").into_response(),
        Err(e) => return failure(e),
    }
    let page = format!("/campaign/reports/unit?unit={unit}&freq={}&period={}", period.frequency.name(), period.start);
    match service::decide(store, &unit, &period, &decision, &format!("staff:{}", who.staff.username)).await {
        Ok(row) => {
            tracing::info!(staff = %who.staff.username, unit = %unit, report = row.report_id, state = %row.state, "report reviewed");
            Redirect::to(&l.href(&format!("{page}&reviewed={}", row.state))).into_response()
        }
        Err(Refused::AlreadyDecided(_)) => {
            let mut r = Bad::sentence(
                "decision",
                "Báo cáo này đã được phê duyệt hoặc trả lại, hoặc đơn vị vừa nộp lại; hãy tải lại trang.",
                "This report was approved or returned already, or the unit has just resubmitted; reload the page.",
            );
            r.status = StatusCode::CONFLICT;
            r.page(en)
        }
        Err(Refused::NothingSubmitted) => {
            Bad::new("period", "chưa có báo cáo nào được nộp.", "has no submitted report.").page(en)
        }
        Err(Refused::Invalid(e)) => Bad::new("reason", e.clone(), e).page(en),
        Err(Refused::Failed(e)) => failure(e),
    }
}
