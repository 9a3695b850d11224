//! `/campaign/tasks[?unit=…]` (`templates/campaign/tasks.html`): the task register of the plans,
//! overdue tasks flagged, with the day's summary.

use super::reports::unit_code;
use super::{asks_en, failure, frame, lang_param};
use crate::i18n::Lang;
use crate::input::{Bad, Query};
use crate::web::layout::{render, Frame};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kyso_campaign::tasks::{TaskStatus, TaskSummary};
use kyso_store::Store;
use kyso_tracker::read::Fallible;
use kyso_tracker::reports as data;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Params {
    lang: Option<String>,
    unit: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign/tasks.html")]
struct Tasks {
    frame: Frame,
    today: String,
    sum: TaskSummary,
    tasks: Vec<TaskView>,
}

struct TaskView {
    number: String,
    name: Vec<String>,
    status: String,
    /// The badge's colour: done, overdue, else under way.
    class: &'static str,
    overdue: bool,
    /// Lead, coordinating, expected result, deadline (`—` when the plan leaves them empty).
    lead: String,
    coordinating: String,
    expected: String,
    deadline: String,
    note: String,
}

pub async fn tasks_page(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    let typed = (|| {
        let l = lang_param(p.lang.as_deref())?;
        let unit = p.unit.as_deref().filter(|u| !u.trim().is_empty()).map(unit_code).transpose()?;
        Ok::<_, Bad>((l, unit))
    })();
    let (l, unit) = match typed {
        Ok(v) => v,
        Err(bad) => return bad.page(asks_en(p.lang.as_deref())),
    };
    match tasks(&s.authority.store, l, unit.as_deref()).await {
        Ok(page) => render(&page),
        Err(e) => failure(e),
    }
}

async fn tasks(store: &Store, l: Lang, unit: Option<&str>) -> Fallible<Tasks> {
    let today = data::today()?;
    let list = data::tasks(store, unit).await?;
    let sum = kyso_campaign::tasks::summary(list.iter().map(|(_, t)| t), today);
    let dash = |s: &str| if s.is_empty() { "—".to_owned() } else { s.to_owned() };
    let tasks = list
        .iter()
        .map(|(row, t)| {
            let overdue = t.overdue(today);
            TaskView {
                number: row.number.clone(),
                name: row.name.split('\n').map(str::to_owned).collect(),
                status: if l.en() { t.status.name().replace('_', " ") } else { t.status.vietnamese().to_owned() },
                class: match t.status {
                    TaskStatus::Done => "green",
                    _ if overdue => "red",
                    _ => "amber",
                },
                overdue,
                lead: dash(&row.lead),
                coordinating: dash(&row.coordinating),
                expected: dash(&row.expected_result),
                deadline: row.deadline.clone(),
                note: row.note.clone(),
            }
        })
        .collect();
    let title = l.t("Danh mục nhiệm vụ", "Task register");
    Ok(Tasks { frame: frame(l, title, "/campaign/tasks"), today: today.to_string(), sum, tasks })
}
