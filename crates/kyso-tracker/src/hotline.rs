//! The hotline service shared by `/campaign/hotline`, the guidance page and `kyso campaign
//! hotline`: log a question (the caller masked before it is stored), keep the FAQ (folded for
//! search), the operator hours, and the week's most-asked topics for the weekly report.

use crate::read::Fallible;
use kyso_campaign::deadlines::{Period, VIETNAM};
use kyso_campaign::hotline::{fold, mask_caller, query_words, top_topics, Topic, TopicCount};
use kyso_store::hotline::{CallScope, FaqRow, HotlineCallRow};
use kyso_store::{AuditEvent, Store};

fn err(e: kyso_store::StoreError) -> String {
    e.to_string()
}

/// At most this many words of a search are matched.
pub const MAX_QUERY_WORDS: usize = 8;

/// A question as the operator types it.
pub struct CallInput<'a> {
    /// The commune (5 digits) or province (2 digits) the question concerns.
    pub unit: &'a str,
    pub topic: &'a str,
    pub question: &'a str,
    /// Phone or ID number as said on the phone; stored masked. May be empty.
    pub caller: &'a str,
    pub resolved: bool,
    pub at: i64,
}

/// (province, commune) of a unit code, or a sentence naming the field.
pub async fn unit_place(store: &Store, unit: &str) -> Fallible<(String, Option<String>)> {
    let unit = unit.trim();
    if unit.len() == 5 {
        let c = store.commune(unit).await.map_err(err)?.ok_or_else(|| format!("unit: unknown commune {unit}"))?;
        return Ok((c.province_code, Some(c.code)));
    }
    match store.province_name(unit).await.map_err(err)? {
        Some(_) => Ok((unit.to_owned(), None)),
        None => Err(format!("unit: unknown commune or province {unit}")),
    }
}

/// Logs a question with its audit row (the caller masked in both).
pub async fn log_call(store: &Store, c: &CallInput<'_>, actor: &str) -> Fallible<HotlineCallRow> {
    let topic = Topic::parse(c.topic).ok_or_else(|| {
        format!("topic: one of {}", Topic::ALL.iter().map(|t| t.key()).collect::<Vec<_>>().join(", "))
    })?;
    let caller = mask_caller(c.caller).map_err(|e| format!("caller: {e}"))?;
    let (province_code, commune_code) = unit_place(store, c.unit).await?;
    let row = HotlineCallRow {
        id: 0,
        province_code,
        commune_code,
        topic: topic.key().into(),
        question: c.question.trim().into(),
        caller_masked: caller.clone(),
        resolved: c.resolved,
        operator: actor.into(),
        called_at: c.at,
    };
    let audit = AuditEvent::new(
        actor,
        "hotline.call",
        c.unit.trim(),
        format!(
            "{}, {}, caller {}",
            topic.key(),
            if c.resolved { "resolved" } else { "open" },
            if caller.is_empty() { "anonymous" } else { &caller }
        ),
    );
    store.log_hotline_call(&row, &audit).await.map_err(err)
}

/// The instants `[from, to)` of a period in Vietnam time.
pub fn period_instants(period: &Period) -> (i64, i64) {
    let at = |d: time::Date| d.midnight().assume_offset(VIETNAM).unix_timestamp();
    (at(period.start), at(period.end))
}

/// The scope a unit's figures take calls from: the ministry all, a province its own, a commune its own.
pub fn scope_of(unit: &str) -> CallScope {
    let unit = crate::reports::admin_unit(unit);
    match unit.len() {
        5 => CallScope::Commune(unit.to_owned()),
        2 => CallScope::Province(unit.to_owned()),
        _ => CallScope::All,
    }
}

/// The most-asked topics of a period within `scope`, at most `limit`.
pub async fn topics(store: &Store, scope: &CallScope, period: &Period, limit: usize) -> Fallible<Vec<TopicCount>> {
    let (from, to) = period_instants(period);
    let calls = store.hotline_topics(scope, from, to).await.map_err(err)?;
    Ok(top_topics(calls.iter().map(|(t, r)| (t.as_str(), *r)), limit))
}

/// Adds (`id` 0) or edits an FAQ entry.
pub async fn save_faq(
    store: &Store,
    id: i64,
    topic: &str,
    question: &str,
    answer: &str,
    actor: &str,
) -> Fallible<FaqRow> {
    let topic = Topic::parse(topic).ok_or_else(|| format!("topic: unknown topic {topic}"))?;
    let (question, answer) = (question.trim(), answer.trim());
    if question.is_empty() || answer.is_empty() {
        return Err("question and answer: both are needed".into());
    }
    let row = FaqRow {
        id,
        topic: topic.key().into(),
        question: question.into(),
        answer: answer.into(),
        folded: fold(&format!("{question} {answer}")),
        updated_at: 0,
        updated_by: actor.into(),
    };
    let audit = AuditEvent::new(
        actor,
        "hotline.faq.save",
        &format!("faq {id}"),
        question.chars().take(120).collect::<String>(),
    );
    store.save_faq(&row, &audit).await.map_err(err)
}

/// FAQ entries matching every word of `query` regardless of diacritics; all when it is empty.
pub async fn search_faq(store: &Store, query: &str, limit: i64) -> Fallible<Vec<FaqRow>> {
    store.search_faq(&query_words(query, MAX_QUERY_WORDS), limit).await.map_err(err)
}

/// Sets the hotline's number and operator hours (shown on the guidance page).
pub async fn set_info(store: &Store, phone: &str, hours: &str, actor: &str) -> Fallible<()> {
    let (phone, hours) = (phone.trim(), hours.trim());
    if phone.is_empty() || hours.is_empty() {
        return Err("phone and hours: both are needed".into());
    }
    let audit = AuditEvent::new(actor, "hotline.hours", "hotline", format!("{phone}: {hours}"));
    store.set_hotline_info(phone, hours, &audit).await.map_err(err)
}
