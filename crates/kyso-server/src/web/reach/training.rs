//! `/campaign/training` (`templates/reach/training.html`): the share of staff and community-team
//! members trained per unit of the signed-in person's area, the sessions held, and (officers
//! allowed to record training for the unit) a session's form: day, trainer, topic and a tick per
//! person on the unit's lists (shown masked, posted by position), plus people on no list.

use super::{area_of, back, own_area, own_unit};
use crate::i18n::Lang;
use crate::input::{self, Bad, Query};
use crate::web::extract::{csrf_forms, StaffForm, StaffIn};
use crate::web::layout::{forbidden, render_for, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kyso_access::{decide, Action, Principal, Resource, Scope};
use kyso_campaign::training::AttendeeKind;
use kyso_store::training::{TRAINER, TRAINING_TOPIC};
use kyso_tracker::training::{self as service, Attendee, NewSession};
use serde::Deserialize;
use std::collections::HashMap;

const PATH: &str = "/campaign/training";

#[derive(Deserialize, Default)]
pub struct Q {
    #[allow(dead_code)] // read by the `Ctx` extractor
    lang: Option<String>,
    unit: Option<String>,
    ok: Option<String>,
    err: Option<String>,
}

#[derive(Template)]
#[template(path = "reach/training.html")]
struct TrainingPage {
    frame: Frame,
    ok: Option<String>,
    err: Option<String>,
    today: String,
    shares: Vec<ShareLine>,
    sessions: Vec<SessionLine>,
    /// The form, for a unit the signed-in officer may record training for.
    form: Option<FormView>,
}

struct ShareLine {
    unit: String,
    people: String,
    trained: String,
    share: String,
    staff: String,
    volunteers: String,
}

struct SessionLine {
    date: String,
    unit: String,
    trainer: String,
    topic: String,
    attendees: String,
}

struct FormView {
    unit: String,
    /// (position, masked ID, name, kind label)
    roster: Vec<(usize, String, String, &'static str)>,
}

/// The province a principal's figures are limited to (`None`: the whole country).
fn province_of(p: &Principal) -> Option<String> {
    match &p.scope {
        Scope::Province(code) => Some(code.clone()),
        Scope::Commune { province, .. } => Some(province.clone()),
        _ => None,
    }
}

fn may_view(p: &Principal) -> bool {
    own_area(p).is_some_and(|a| {
        decide(p, Action::RecordTraining, &Resource::Unit(&a)).is_ok()
            || decide(p, Action::ViewProgress, &Resource::Unit(&a)).is_ok()
    })
}

fn fraction(l: Lang, part: u64, whole: u64) -> String {
    format!("{} / {}", l.num(part), l.num(whole))
}

pub async fn page(State(s): State<AppState>, Query(q): Query<Q>, who: StaffIn) -> Response {
    let c = &who.ctx;
    let l = c.lang();
    let p = &who.principal;
    if !may_view(p) {
        return forbidden(c);
    }
    let unit = match q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) if matches!(u.len(), 2 | 5) && u.bytes().all(|b| b.is_ascii_digit()) => Some(u.to_owned()),
        Some(_) => {
            return Bad::new(
                "unit",
                "phải là mã xã (5 chữ số) hoặc mã tỉnh (2 chữ số).",
                "must be a commune (5 digits) or a province (2 digits) code.",
            )
            .page(c.en)
        }
        None => own_unit(p).filter(|u| u != kyso_tracker::reports::NATIONAL),
    };
    let store = &s.authority.store;
    let built = async {
        let today = kyso_tracker::read::vn_date(kyso_store::now());
        let province = province_of(p);
        let mut shares = service::shares(store, province.as_deref(), &today).await?;
        if let Scope::Commune { commune, .. } = &p.scope {
            shares.retain(|(u, _)| u == commune);
        }
        let visible: std::collections::HashSet<String> = shares.iter().map(|(u, _)| u.clone()).collect();
        let mut sessions = store.training_sessions(None).await.map_err(|e| e.to_string())?;
        sessions.retain(|(row, _)| match &p.scope {
            Scope::National => true,
            Scope::Commune { commune, .. } => &row.unit_code == commune,
            _ => visible.contains(&row.unit_code) || province.as_deref() == Some(row.unit_code.as_str()),
        });
        let form = match &unit {
            Some(u) => match area_of(&s, u).await? {
                Some(area) if decide(p, Action::RecordTraining, &Resource::Unit(&area)).is_ok() => {
                    let roster = service::roster(store, u).await?;
                    Some(FormView {
                        unit: u.clone(),
                        roster: roster
                            .into_iter()
                            .enumerate()
                            .map(|(i, (id, name, kind))| (i, id.masked(), name, l.t(kind.label().0, kind.label().1)))
                            .collect(),
                    })
                }
                _ => None,
            },
            None => None,
        };
        Ok::<_, String>((today, shares, sessions, form))
    }
    .await;
    let (today, shares, sessions, form) = match built {
        Ok(v) => v,
        Err(e) => return crate::web::campaign::failure(e),
    };
    let page = TrainingPage {
        frame: Frame::new(
            c,
            l.t("Tập huấn cán bộ và tổ công nghệ số cộng đồng", "Training of staff and community teams"),
        )
        .at(PATH),
        ok: q.ok,
        err: q.err,
        today: l.date(&today),
        shares: shares
            .iter()
            .map(|(u, t)| ShareLine {
                unit: u.clone(),
                people: l.num(t.people),
                trained: l.num(t.trained),
                share: l.share(t.share()),
                staff: fraction(l, t.staff_trained, t.staff),
                volunteers: fraction(l, t.volunteers_trained, t.volunteers),
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|(r, n)| SessionLine {
                date: l.date(&r.held_on),
                unit: r.unit_code,
                trainer: r.trainer,
                topic: r.topic,
                attendees: l.num(u64::try_from(n).unwrap_or(0)),
            })
            .collect(),
        form,
    };
    render_for(c, &page)
}

#[derive(Deserialize)]
pub struct SessionForm {
    csrf: String,
    unit: String,
    date: String,
    trainer: String,
    topic: String,
    /// How many people the form listed (the list must not have changed since).
    roster: String,
    /// People on no list: one a line, "ID number, name, staff|volunteer".
    #[serde(default)]
    others: String,
    /// `p<position>=1` for each person ticked.
    #[serde(flatten)]
    ticked: HashMap<String, String>,
}
csrf_forms!(SessionForm);

/// The form's other attendees, one a line; a bad line is named.
fn other_lines(text: &str) -> Result<Vec<(String, String, String)>, Bad> {
    let mut out = Vec::new();
    for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        match parts.as_slice() {
            [id, name, kind] if AttendeeKind::parse(kind).is_some() => {
                out.push(((*id).to_owned(), (*name).to_owned(), (*kind).to_owned()))
            }
            _ => {
                return Err(Bad::new(
                    "others",
                    format!("dòng {}: ghi \"số định danh, họ tên, staff hoặc volunteer\".", i + 1),
                    format!("line {}: write \"ID number, name, staff or volunteer\".", i + 1),
                ))
            }
        }
    }
    Ok(out)
}

pub async fn record(State(s): State<AppState>, post: StaffForm<SessionForm>) -> Response {
    let (who, f) = (&post.who, &post.form);
    let en = who.ctx.en;
    let here = format!("{PATH}?unit={}", crate::web::urlencode(f.unit.trim()));
    let typed = (|| {
        let unit = input::code("unit", f.unit.trim(), 5)?.to_owned();
        input::day("date", &f.date)?;
        input::text(TRAINER, f.trainer.trim())?;
        input::text(TRAINING_TOPIC, f.topic.trim())?;
        input::text(kyso_store::limits::NOTE.named("others"), &f.others)?;
        let size: usize = f.roster.trim().parse().map_err(|_| Bad::new("roster", "không hợp lệ.", "is not valid."))?;
        Ok::<_, Bad>((unit, size, other_lines(&f.others)?))
    })();
    let (unit, size, others) = match typed {
        Ok(v) => v,
        Err(bad) => return back(&here, en, Err(bad.message(en))),
    };
    match area_of(&s, &unit).await {
        Ok(Some(area)) if decide(&who.principal, Action::RecordTraining, &Resource::Unit(&area)).is_ok() => {}
        Ok(Some(_)) => return forbidden(&who.ctx),
        Ok(None) => {
            return back(
                PATH,
                en,
                Err(Bad::new("unit", "không có trong danh mục hành chính.", "is not a known unit.").message(en)),
            )
        }
        Err(e) => return crate::web::campaign::failure(e),
    }
    let store = &s.authority.store;
    let roster = match service::roster(store, &unit).await {
        Ok(r) => r,
        Err(e) => return crate::web::campaign::failure(e),
    };
    if roster.len() != size {
        let msg = who.ctx.t(
            "Danh sách đã thay đổi; hãy tải lại trang và chọn lại.",
            "The lists changed; reload the page and tick again.",
        );
        return back(&here, en, Err(msg.into()));
    }
    let mut attendees: Vec<Attendee<'_>> = roster
        .iter()
        .enumerate()
        .filter(|(i, _)| f.ticked.contains_key(&format!("p{i}")))
        .map(|(_, (id, name, kind))| Attendee { id_number: id.expose(), full_name: name, kind: kind.key() })
        .collect();
    attendees.extend(others.iter().map(|(id, name, kind)| Attendee { id_number: id, full_name: name, kind }));
    let session = NewSession { unit: &unit, held_on: &f.date, trainer: &f.trainer, topic: &f.topic };
    match service::record_session(store, &session, &attendees, &who.staff.username).await {
        Ok(row) => {
            tracing::info!(staff = %who.staff.username, unit = %unit, session = row.id, attendees = attendees.len(), "training recorded");
            back(&here, en, Ok(who.ctx.t("Đã ghi nhận buổi tập huấn.", "Training session recorded.")))
        }
        // Refusals name the field and never carry a full ID number (the service masks them).
        Err(e) if !e.starts_with("database") => back(&here, en, Err(e)),
        Err(e) => crate::web::campaign::failure(e),
    }
}
