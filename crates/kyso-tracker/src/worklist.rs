//! The door-to-door worklist as rows and as an XLSX file, shared by `kyso campaign worklist`
//! (`--csv`, `--xlsx FILE`) and the worklist page's "Tải XLSX" link; and the append-only visit log,
//! its people kept as keyed hashes. ID numbers masked; callers audit every export.

use crate::read::{load, Fallible};
use anyhow::{anyhow, bail, Context};
use kyso_campaign::adoption::Adoption;
use kyso_campaign::csv::parse_date;
use kyso_campaign::denominator::AdultsDenominator;
use kyso_campaign::eid::Need;
use kyso_campaign::population::{CitizenId, Register};
use kyso_campaign::worklist::{build_first_signature_list, build_worklist, Outcome, Visit, VisitLog, Worklist};
use kyso_store::{AuditEvent, Store};
use kyso_xlsx::{Cell, Column, Writer};
use std::collections::HashMap;

/// One worklist line, masked: household, masked ID, name, last outcome, what the person needs
/// next (when the commune's e-ID list tells it).
pub type WorklistLine = (String, String, String, String, Option<Need>);

/// The key of the visit log's ID hashes (a setting), created on first use when `create`.
pub async fn visit_key(store: &Store, create: bool) -> Fallible<Option<String>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    if let Some(k) = store.setting("campaign_visit_key").await.map_err(err)? {
        return Ok(Some(k));
    }
    if !create {
        return Ok(None);
    }
    let key = kyso_custody::Kek::generate().map_err(|e| e.to_string())?.to_hex();
    let setting = kyso_store::Write::Setting { name: "campaign_visit_key".into(), value: key.clone() };
    store.commit(&[setting]).await.map_err(err)?;
    Ok(Some(key))
}

/// A visit to append (the store numbers it): the person as the log keeps them — keyed hash and
/// masked ID, never the number — and the outcome by name, with its provider when it names one.
pub fn visit_row(
    key: &str,
    id: &CitizenId,
    (commune, hamlet): (&str, &str),
    outcome: &Outcome,
    team: &str,
    date: &str,
) -> kyso_store::campaign::VisitRow {
    kyso_store::campaign::VisitRow {
        seq: 0,
        commune_code: commune.to_owned(),
        hamlet_code: hamlet.to_owned(),
        id_hash: visit_hash(key, id),
        id_masked: id.masked(),
        outcome: outcome.name().into(),
        provider: match outcome {
            Outcome::AlreadyHolds { provider } => Some(provider.clone()),
            _ => None,
        },
        team: team.to_owned(),
        visit_date: date.to_owned(),
        at: 0,
    }
}

/// The keyed hash the visit log stores instead of the ID number.
pub fn visit_hash(key: &str, id: &CitizenId) -> Vec<u8> {
    kyso_pki::alg::sha256(format!("kyso-visit\0{key}\0{}", id.expose()).as_bytes())
}

/// The visit log of a commune (or one of its hamlets), its ID hashes matched back to the register;
/// visits of people no longer in it, or of outcomes this version does not know, are left out.
pub async fn visit_log(store: &Store, register: &Register, commune: &str, hamlet: Option<&str>) -> Fallible<VisitLog> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let mut log = VisitLog::new();
    let Some(key) = visit_key(store, false).await? else { return Ok(log) };
    let hamlets = match hamlet {
        Some(h) => vec![h.to_owned()],
        None => store.hamlets(commune).await.map_err(err)?.into_iter().map(|h| h.code).collect(),
    };
    let by_hash: HashMap<Vec<u8>, &CitizenId> =
        register.residents().iter().map(|r| (visit_hash(&key, &r.id), &r.id)).collect();
    for hamlet in hamlets {
        for v in store.visits(commune, &hamlet).await.map_err(err)? {
            let (Some(person), Some(outcome), Ok(date)) =
                (by_hash.get(&v.id_hash), Outcome::parse(&v.outcome, v.provider.as_deref()), parse_date(&v.visit_date))
            else {
                continue;
            };
            log.record(Visit { person: (*person).clone(), date, team: v.team, outcome });
        }
    }
    Ok(log)
}

/// Everyone known to have signed with kyso (a signature or a signed dossier), ever.
async fn signed_ever(store: &Store) -> Fallible<std::collections::HashSet<CitizenId>> {
    let rows = store.signers_between(0, i64::MAX).await.map_err(|e| e.to_string())?;
    Ok(rows.iter().filter_map(|(id, _)| CitizenId::parse(id).ok()).collect())
}

/// The list of a hamlet for `need`: the first-signature list for [`Need::FirstSignature`], the
/// people without a certificate otherwise; each line's need said when the commune's e-ID list is
/// known, and only the lines with `need` kept when one is asked for.
async fn list_for(
    store: &Store,
    (register, adoption, line, log): (&Register, &Adoption, &AdultsDenominator, &VisitLog),
    (commune, hamlet): (&str, &str),
    as_of: time::Date,
    need: Option<Need>,
) -> Fallible<Worklist> {
    let mut list = if need == Some(Need::FirstSignature) {
        let signed = signed_ever(store).await?;
        build_first_signature_list(register, adoption, line, log, (commune, hamlet), as_of, &signed)
    } else {
        build_worklist(register, adoption, line, log, (commune, hamlet), as_of)
    };
    if crate::eid::list_known(store, commune).await? {
        list.mark_needs(&crate::eid::level2_ids(store, commune, Some(hamlet)).await?);
    }
    if let Some(n) = need {
        list.only(n);
    }
    Ok(list)
}

/// The worklist of a hamlet on `date` (ISO), in walking order.
pub async fn worklist_lines(store: &Store, commune: &str, hamlet: &str, date: &str) -> Fallible<Vec<WorklistLine>> {
    worklist_lines_for(store, (commune, hamlet), date, None).await
}

/// [`worklist_lines`] of the people with `need` only (the first-signature list for that need).
pub async fn worklist_lines_for(
    store: &Store,
    (commune, hamlet): (&str, &str),
    date: &str,
    need: Option<Need>,
) -> Fallible<Vec<WorklistLine>> {
    let list = worklist_of(store, (commune, hamlet), date, need).await?;
    Ok(list
        .entries
        .iter()
        .map(|e| {
            (
                e.household.clone().unwrap_or_default(),
                e.masked_id.clone(),
                e.full_name.clone().unwrap_or_default(),
                e.last_outcome.as_ref().map(Outcome::name).unwrap_or_default().to_owned(),
                e.need,
            )
        })
        .collect())
}

/// The worklist of a hamlet on `date` (ISO) with the people in it (notifications reach them).
pub(crate) async fn worklist_of(
    store: &Store,
    (commune, hamlet): (&str, &str),
    date: &str,
    need: Option<Need>,
) -> Fallible<Worklist> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let as_of = parse_date(date)?;
    let (register, adoption) = load(store, commune, Some(hamlet)).await?;
    let min_age = match store.plans(Some(commune)).await.map_err(err)?.into_iter().next_back() {
        Some((p, _)) => u8::try_from(p.min_age).map_err(|e| e.to_string())?,
        None => 15,
    };
    let line = AdultsDenominator::new(min_age, as_of).map_err(|e| e.to_string())?;
    let log = visit_log(store, &register, commune, Some(hamlet)).await?;
    list_for(store, (&register, &adoption, &line, &log), (commune, hamlet), as_of, need).await
}

/// The worklist as an XLSX workbook: one sheet, a bold frozen header, a column to fill in at the door.
pub fn worklist_xlsx(lines: &[WorklistLine]) -> Fallible<Vec<u8>> {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    let columns = [
        Column::new("Hộ", 10.0),
        Column::new("Số định danh (đã che)", 20.0),
        Column::new("Họ và tên", 30.0),
        Column::new("Lần thăm trước", 16.0),
        Column::new("Kết quả", 24.0),
        Column::new("Cần làm tiếp", 30.0),
    ];
    let e = |e: kyso_xlsx::Error| e.to_string();
    w.add_sheet("Danh sách", &columns).map_err(e)?;
    for (household, id, name, outcome, need) in lines {
        let need = need.map_or("", |n| n.label().0);
        // "Kết quả" stays empty: it is filled in at the door
        let row = [
            Cell::Text(household),
            Cell::Text(id),
            Cell::Text(name),
            Cell::Text(outcome),
            Cell::Text(""),
            Cell::Text(need),
        ];
        w.write_row(&row).map_err(e)?;
    }
    Ok(w.finish().map_err(e)?.into_inner())
}

/// A visit outcome by name (`done`, `already-holds` …), with the provider `already-holds` needs.
pub fn outcome_of(name: &str, provider: Option<&str>) -> anyhow::Result<Outcome> {
    match Outcome::parse(name, provider) {
        Some(o) => Ok(o),
        None if name.replace('_', "-") == "already-holds" => bail!("already-holds needs --provider"),
        None => bail!(
            "--outcome: unknown outcome '{name}' (done, assisted, not-at-home, refused, moved-away, deceased, already-holds)"
        ),
    }
}

/// Appends a visit to a resident of the register (audited), creating the visit key on first use.
pub async fn record_visit(
    store: &Store,
    id: &CitizenId,
    outcome: &Outcome,
    team: &str,
    date: &str,
    actor: &str,
) -> anyhow::Result<kyso_store::campaign::VisitRow> {
    let r = store.resident(id.expose()).await?.with_context(|| format!("{id} is not in the register"))?;
    let key = visit_key(store, true).await.map_err(|e| anyhow!(e))?.context("visit key")?;
    let place = (r.commune_code.as_str(), r.hamlet_code.as_str());
    let row = visit_row(&key, id, place, outcome, team, date);
    let audit = AuditEvent::new(actor, "campaign.visit", &id.masked(), format!("{} by {team}", row.outcome));
    Ok(store.append_visit(&row, &audit).await?)
}

/// The worklist of a hamlet on `date` (ISO) for export, only the people with `need` when one is
/// given, audited; `how` is appended to the audit's detail (`", csv"`, `", xlsx"` or nothing).
pub async fn export_worklist(
    store: &Store,
    (commune, hamlet): (&str, &str),
    date: &str,
    need: Option<Need>,
    how: &str,
    actor: &str,
) -> anyhow::Result<Vec<WorklistLine>> {
    if !store.hamlets(commune).await?.iter().any(|h| h.code == hamlet) {
        bail!("--hamlet: commune {commune} has no hamlet {hamlet}");
    }
    let lines = worklist_lines_for(store, (commune, hamlet), date, need).await.map_err(|e| anyhow!(e))?;
    let detail = format!("{} entries on {date}{how}", lines.len());
    let audit = AuditEvent::new(actor, "campaign.worklist.export", &format!("{commune}/{hamlet}"), detail);
    store.commit(&[kyso_store::Write::Audit(audit)]).await?;
    Ok(lines)
}

/// Lines per worklist page: a phone scrolls through 50 visit forms, not 700.
pub const PAGE_SIZE: usize = 50;

/// A page of a hamlet's worklist for the web: the whole list's totals, and the lines of one page
/// of those matching the search (name or house number, searched by the database).
pub struct WorklistPage {
    /// People and households on the whole list.
    pub total: usize,
    pub households: usize,
    /// People matching the search (the whole list without one).
    pub matched: usize,
    /// 1-based, and how many there are (at least 1).
    pub page: usize,
    pub pages: usize,
    pub entries: Vec<kyso_campaign::worklist::WorklistEntry>,
}

/// The worklist of a hamlet on `as_of` for people of `min_age` and over: its totals, then page
/// `page` (1-based, clamped) of the lines whose name contains `search` or whose house number is
/// or starts with it; only the people with `need` when one is asked for. The visit log is read
/// once for both.
pub async fn worklist_page(
    store: &Store,
    (commune, hamlet): (&str, &str),
    (as_of, min_age): (time::Date, u8),
    (search, need): (Option<&str>, Option<Need>),
    page: usize,
) -> Fallible<WorklistPage> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let (register, adoption) = load(store, commune, Some(hamlet)).await?;
    let line = AdultsDenominator::new(min_age, as_of).map_err(|e| e.to_string())?;
    let log = visit_log(store, &register, commune, Some(hamlet)).await?;
    let whole = list_for(store, (&register, &adoption, &line, &log), (commune, hamlet), as_of, need).await?;
    let (total, households) = (whole.entries.len(), whole.households().len());
    let list = match search.map(str::trim).filter(|s| !s.is_empty()) {
        None => whole,
        Some(s) => {
            let rows = store.residents_matching(commune, hamlet, s).await.map_err(err)?;
            let found = Register::new(rows.iter().map(crate::read::resident).collect::<Fallible<Vec<_>>>()?);
            list_for(store, (&found, &adoption, &line, &log), (commune, hamlet), as_of, need).await?
        }
    };
    let matched = list.entries.len();
    let pages = matched.div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let entries = list.entries.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    Ok(WorklistPage { total, households, matched, page, pages, entries })
}
