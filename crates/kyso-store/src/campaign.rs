//! Campaign-tracker storage: administrative units, the residents register, plans and milestones,
//! adoption snapshots, append-only visit outcomes and report submissions. Rows only: validation,
//! denominators, targets and counting live in `kyso-campaign`.
//!
//! Every write takes the audit lock and appends its audit row in the same transaction (the same
//! rule as [`Store::commit`]), which also serialises the `MAX(id) + 1` keys used here.

use crate::audit::AuditEvent;
use crate::{append_audit, lock, now, on_pool, values_list, Result, Store, StoreError};
use kyso_campaign::register_index::{id_key, iso_date};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq)]
pub struct CommuneRow {
    pub code: String,
    pub province_code: String,
    pub province_name: String,
    pub name: String,
    /// `commune`, `ward` or `special_zone`.
    pub kind: String,
    pub lat: f64,
    pub lon: f64,
    pub area_km2: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HamletRow {
    pub commune_code: String,
    pub code: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentRow {
    pub id_number: String,
    pub full_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// `M` or `F`.
    pub sex: String,
    pub commune_code: String,
    pub hamlet_code: String,
    pub household: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanRow {
    /// Assigned by [`Store::add_plan`].
    pub id: i64,
    pub unit_code: String,
    pub period: String,
    /// Assigned by [`Store::add_plan`]: 1, then one more for each new version of (unit, period).
    pub version: i64,
    pub min_age: i64,
    pub reference_date: String,
    /// `level`, `increment` or `unknown`.
    pub target_kind: String,
    pub target_percent_hundredths: Option<i64>,
    pub target_absolute: Option<i64>,
    pub baseline_count: i64,
    pub baseline_date: String,
    pub baseline_source: String,
    pub deadline: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MilestoneRow {
    pub date: String,
    pub percent_hundredths: Option<i64>,
    pub absolute: Option<i64>,
}

/// One certificate of a registered resident, for the adoption count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolderCertRow {
    pub id_number: String,
    pub serial: String,
    pub issuer_id: String,
    pub not_before: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
}

/// One certificate from a provider's list (see migration 6). Dates are `YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderCertRow {
    pub id_number: String,
    /// Normalised by the caller (trimmed, upper case).
    pub provider: String,
    pub issued_on: String,
    /// The first day it no longer counts.
    pub expires_on: Option<String>,
    /// Revoked (or reported ended) on this day.
    pub ended_on: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitRow {
    /// Assigned by [`Store::append_visit`].
    pub seq: i64,
    pub commune_code: String,
    pub hamlet_code: String,
    /// Keyed hash of the ID number (the caller computes it); the clear number is never stored here.
    pub id_hash: Vec<u8>,
    pub id_masked: String,
    pub outcome: String,
    pub provider: Option<String>,
    pub team: String,
    pub visit_date: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRow {
    pub commune_code: String,
    pub date: String,
    pub holders: i64,
    pub adults: i64,
    pub taken_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    pub id: i64,
    pub unit_code: String,
    /// `weekly` or `monthly`.
    pub frequency: String,
    pub period_start: String,
    pub submitted_at: i64,
    pub submitted_by: String,
    pub difficulties: String,
    pub proposals: String,
}

/// Rows written by an upsert: new ones and ones that already existed (updated in place).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Upserted {
    pub inserted: u64,
    pub updated: u64,
    /// Known rows the import gave again as they were (counted where the store tells them apart:
    /// the register; elsewhere they count as updated).
    pub unchanged: u64,
}

const CHUNK: usize = 200;
/// Rows per statement for the bulk imports (register: 8 columns, provider lists: 9 — at most 9,000
/// parameters, within both backends' limits; fewer statements per batch).
pub(crate) const BULK_CHUNK: usize = 1000;
/// 9999-12-31 00:00 in Vietnam: the end of a listed certificate without an expiry date.
const FAR_FUTURE: i64 = 253_402_189_200;

/// A provider-list certificate as a holder certificate: serial `list:PROVIDER:DATE`, valid from
/// the start of its issue day in Vietnam to the last second before its expiry day (far in the
/// future without one), revoked from the start of its end day. `None` if a date is unreadable.
pub(crate) fn listed_as_holder(l: &crate::listed::Listed, names: &[String]) -> HolderCertRow {
    let provider = names.get(usize::from(l.provider)).cloned().unwrap_or_else(|| "?".into());
    let day_start = |d: i32| kyso_calendar::vn_day_start(i64::from(d));
    HolderCertRow {
        id_number: format!("{:012}", l.id),
        serial: format!("list:{provider}:{}", iso_date(l.issued)),
        issuer_id: provider,
        not_before: day_start(l.issued),
        not_after: l.expires.map_or(FAR_FUTURE, day_start) - 1,
        revoked_at: l.ended.map(day_start),
    }
}

/// Provider-list certificates as holder rows, ordered by (ID number, provider name, issue day).
pub(crate) fn listed_holders(listed: &[crate::listed::Listed], names: &[String]) -> Vec<HolderCertRow> {
    let mut rows: Vec<HolderCertRow> = listed.iter().map(|l| listed_as_holder(l, names)).collect();
    rows.sort_by(|a, b| (&a.id_number, &a.issuer_id, a.not_before).cmp(&(&b.id_number, &b.issuer_id, b.not_before)));
    rows
}

const PLAN_COLS: &str =
    "id, unit_code, period, version, min_age, reference_date, target_kind, target_percent_hundredths, \
     target_absolute, baseline_count, baseline_date, baseline_source, deadline, created_at";
const VISIT_COLS: &str = "seq, commune_code, hamlet_code, id_hash, id_masked, outcome, provider, team, visit_date, at";

/// An upsert into `table` with one audit row: the audit lock taken, `table` counted before `$body`
/// (which writes through `$tx`) and again after, the audit row appended, committed. New rows are
/// the table's growth; the rest of `rows` updated rows in place.
macro_rules! upsert {
    ($store:expr, $audit:expr, $table:literal, $rows:expr, |$tx:ident, $is_sqlite:ident, $at:ident| $body:block) => {{
        crate::limits::audit($audit)?;
        let $is_sqlite = $store.is_sqlite();
        let $at = now();
        on_pool!($store, p => {
            let mut $tx = p.begin().await?;
            lock!($tx, $is_sqlite);
            let count = concat!("SELECT COUNT(*) FROM ", $table);
            let before: i64 = sqlx::query_scalar(count).fetch_one(&mut *$tx).await?;
            $body
            let after: i64 = sqlx::query_scalar(count).fetch_one(&mut *$tx).await?;
            append_audit!($store, $tx, $audit);
            $tx.commit().await?;
            let inserted = (after - before).max(0) as u64;
            Ok(Upserted { inserted, updated: $rows as u64 - inserted.min($rows as u64), unchanged: 0 })
        })
    }};
}

/// A row struct from the same-named columns of `$r`.
macro_rules! from_row {
    ($ty:ident, $r:expr, $($field:ident),+) => {
        $ty { $($field: $r.get(stringify!($field))),+ }
    };
}

macro_rules! hamlet_row {
    ($r:expr) => {
        from_row!(HamletRow, $r, commune_code, code, name)
    };
}

macro_rules! plan_row {
    ($r:expr) => {
        from_row!(
            PlanRow,
            $r,
            id,
            unit_code,
            period,
            version,
            min_age,
            reference_date,
            target_kind,
            target_percent_hundredths,
            target_absolute,
            baseline_count,
            baseline_date,
            baseline_source,
            deadline,
            created_at
        )
    };
}

macro_rules! visit_row {
    ($r:expr) => {
        from_row!(
            VisitRow,
            $r,
            seq,
            commune_code,
            hamlet_code,
            id_hash,
            id_masked,
            outcome,
            provider,
            team,
            visit_date,
            at
        )
    };
}

impl Store {
    pub(crate) fn is_sqlite(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }

    /// Inserts or updates communes (and their provinces) by code, with one audit row.
    pub async fn upsert_communes(&self, rows: &[CommuneRow], audit: &AuditEvent) -> Result<Upserted> {
        rows.iter().try_for_each(crate::limits::commune)?;
        upsert!(self, audit, "admin_communes", rows.len(), |tx, is_sqlite, at| {
            let mut provinces: Vec<(&str, &str)> =
                rows.iter().map(|r| (r.province_code.as_str(), r.province_name.as_str())).collect();
            provinces.sort();
            provinces.dedup_by_key(|p| p.0);
            for chunk in provinces.chunks(CHUNK) {
                let sql = format!(
                    "INSERT INTO admin_provinces (code, name, updated_at) VALUES {} \
                    ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                    values_list(is_sqlite, chunk.len(), 3)
                );
                let mut q = sqlx::query(&sql);
                for (code, name) in chunk {
                    q = q.bind(*code).bind(*name).bind(at);
                }
                q.execute(&mut *tx).await?;
            }
            for chunk in rows.chunks(CHUNK) {
                let sql = format!("INSERT INTO admin_communes (code, province_code, name, kind, lat, lon, area_km2, updated_at) VALUES {} \
                    ON CONFLICT (code) DO UPDATE SET province_code = excluded.province_code, name = excluded.name, kind = excluded.kind, \
                    lat = excluded.lat, lon = excluded.lon, area_km2 = excluded.area_km2, updated_at = excluded.updated_at",
                    values_list(is_sqlite, chunk.len(), 8));
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q
                        .bind(&r.code)
                        .bind(&r.province_code)
                        .bind(&r.name)
                        .bind(&r.kind)
                        .bind(r.lat)
                        .bind(r.lon)
                        .bind(r.area_km2)
                        .bind(at);
                }
                q.execute(&mut *tx).await?;
            }
        })
    }

    pub async fn commune(&self, code: &str) -> Result<Option<CommuneRow>> {
        Ok(self.communes(Some(code)).await?.into_iter().next())
    }

    /// One commune, or all of them (`None`), by code.
    pub async fn communes(&self, code: Option<&str>) -> Result<Vec<CommuneRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT c.code, c.province_code, p.name AS province_name, c.name, c.kind, c.lat, c.lon, c.area_km2 \
                FROM admin_communes c JOIN admin_provinces p ON p.code = c.province_code WHERE ($1 IS NULL OR c.code = $1) ORDER BY c.code")
                .bind(code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| from_row!(CommuneRow, r, code, province_code, province_name, name, kind, lat, lon, area_km2)).collect())
        })
    }

    /// Inserts or renames hamlets by (commune, code), with one audit row.
    pub async fn upsert_hamlets(&self, rows: &[HamletRow], audit: &AuditEvent) -> Result<Upserted> {
        rows.iter().try_for_each(crate::limits::hamlet)?;
        upsert!(self, audit, "hamlets", rows.len(), |tx, is_sqlite, at| {
            for chunk in rows.chunks(CHUNK) {
                let sql = format!("INSERT INTO hamlets (commune_code, code, name, updated_at) VALUES {} \
                    ON CONFLICT (commune_code, code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                    values_list(is_sqlite, chunk.len(), 4));
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q.bind(&r.commune_code).bind(&r.code).bind(&r.name).bind(at);
                }
                q.execute(&mut *tx).await?;
            }
        })
    }

    pub async fn hamlets(&self, commune_code: &str) -> Result<Vec<HamletRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT commune_code, code, name FROM hamlets WHERE commune_code = $1 ORDER BY code")
                .bind(commune_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| hamlet_row!(r)).collect())
        })
    }

    /// Inserts or updates residents by ID number (of any communes), in one transaction with one
    /// audit row, through the register writer ([`Store::write_register`]). A row given as it is
    /// stored is counted unchanged. A resident is known to issuance as a citizen of e-ID level 0
    /// ([`Store::citizen`]); one who has a `citizens` row gets the register's name there.
    pub async fn upsert_residents(&self, rows: &[ResidentRow], audit: &AuditEvent) -> Result<Upserted> {
        use crate::bulk::{RegisterFeed, RegisterWrite};
        rows.iter().try_for_each(crate::limits::resident)?;
        crate::limits::audit(audit)?;
        let (feed, rx) = tokio::sync::mpsc::channel(2);
        let writes = rows.iter().map(|r| RegisterWrite { row: r.clone(), known: false }).collect();
        feed.send(RegisterFeed::Rows(writes)).await.map_err(|_| StoreError::Conflict("register writer gone".into()))?;
        feed.send(RegisterFeed::Commit(audit.clone()))
            .await
            .map_err(|_| StoreError::Conflict("register writer gone".into()))?;
        drop(feed);
        let w = self.write_register(rx).await?;
        Ok(Upserted { inserted: w.inserted, updated: w.updated, unchanged: w.unchanged })
    }

    /// Every hamlet of every commune (for imports spanning several communes).
    pub async fn all_hamlets(&self) -> Result<Vec<HamletRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT commune_code, code, name FROM hamlets ORDER BY commune_code, code").fetch_all(p).await?;
            Ok(rows.iter().map(|r| hamlet_row!(r)).collect())
        })
    }

    /// The register of a commune, optionally one hamlet.
    pub async fn residents(&self, commune_code: &str, hamlet_code: Option<&str>) -> Result<Vec<ResidentRow>> {
        self.register_rows(commune_code, hamlet_code).await
    }

    /// Residents of a hamlet whose name contains `search` (letters compared without their case)
    /// or whose household (house number) is it or starts with it: the worklist's search.
    pub async fn residents_matching(
        &self,
        commune_code: &str,
        hamlet_code: &str,
        search: &str,
    ) -> Result<Vec<ResidentRow>> {
        crate::limits::all(&[(crate::limits::FULL_NAME, search)])?;
        let needle = search.to_lowercase();
        let mut rows = self.register_rows(commune_code, Some(hamlet_code)).await?;
        rows.retain(|r| {
            r.full_name.as_deref().is_some_and(|n| n.to_lowercase().contains(&needle))
                || r.household.as_deref().is_some_and(|h| h.starts_with(search))
        });
        Ok(rows)
    }

    /// One resident by ID number.
    pub async fn resident(&self, id_number: &str) -> Result<Option<ResidentRow>> {
        Ok(self.register_row(id_number).await?.map(|(r, _)| r))
    }

    /// Certificates held by registered residents of a commune (optionally one hamlet), revoked
    /// and expired ones included: the caller decides validity on a date. Two sources in one list:
    /// kyso's own citizen certificates, and provider-list certificates (serial `list:PROVIDER:DATE`,
    /// `not_before` the start of the issue day in Vietnam, `not_after` the last second before the
    /// expiry day — far in the future without one — and `revoked_at` the start of the end day).
    pub async fn holder_certificates(
        &self,
        commune_code: &str,
        hamlet_code: Option<&str>,
    ) -> Result<Vec<HolderCertRow>> {
        let ids = self.register_keys(commune_code, hamlet_code).await?;
        let mut out: Vec<HolderCertRow> = Vec::new();
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            for chunk in ids.chunks(BULK_CHUNK) {
                let sql = format!("SELECT id_number, serial, issuer_id, not_before, not_after, revoked_at FROM certificates \
                    WHERE profile = 'citizen' AND id_number IN {}", values_list(is_sqlite, 1, chunk.len()));
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(format!("{id:012}"));
                }
                out.extend(q.fetch_all(p).await?.iter().map(|r| HolderCertRow {
                    id_number: r.get("id_number"), serial: r.get("serial"), issuer_id: r.get("issuer_id"),
                    not_before: r.get("not_before"), not_after: r.get("not_after"), revoked_at: r.get("revoked_at"),
                }));
            }
        });
        out.sort_by(|a, b| (&a.id_number, &a.serial).cmp(&(&b.id_number, &b.serial)));
        let (listed, names) = self.listed_of(ids.clone(), crate::bulk::BlocksOf::Ids(&ids)).await?;
        out.extend(listed_holders(&listed, &names));
        Ok(out)
    }

    /// Provider-list certificates of one ID number (for checks and support).
    pub async fn provider_certificates(&self, id_number: &str) -> Result<Vec<ProviderCertRow>> {
        let Some(id) = id_key(id_number) else { return Ok(Vec::new()) };
        let (listed, names) = self.listed_of(vec![id], crate::bulk::BlocksOf::Id(id as i64)).await?;
        let mut rows: Vec<ProviderCertRow> = listed
            .iter()
            .map(|l| ProviderCertRow {
                id_number: format!("{:012}", l.id),
                provider: names.get(usize::from(l.provider)).cloned().unwrap_or_else(|| "?".into()),
                issued_on: iso_date(l.issued),
                expires_on: l.expires.map(iso_date),
                ended_on: l.ended.map(iso_date),
                status: l.status_name().to_owned(),
            })
            .collect();
        rows.sort_by(|a, b| (&a.provider, &a.issued_on).cmp(&(&b.provider, &b.issued_on)));
        Ok(rows)
    }

    /// Records a plan as a new version of (unit, period): earlier versions stay. Returns the row
    /// with its id and version.
    pub async fn add_plan(&self, plan: &PlanRow, milestones: &[MilestoneRow], audit: &AuditEvent) -> Result<PlanRow> {
        crate::limits::plan(plan)?;
        crate::limits::audit(audit)?;
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM campaign_plans").fetch_one(&mut *tx).await?;
            let version: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM campaign_plans WHERE unit_code = $1 AND period = $2")
                .bind(&plan.unit_code).bind(&plan.period).fetch_one(&mut *tx).await?;
            let row = PlanRow { id, version, created_at: now(), ..plan.clone() };
            sqlx::query(&format!("INSERT INTO campaign_plans ({PLAN_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"))
                .bind(row.id).bind(&row.unit_code).bind(&row.period).bind(row.version).bind(row.min_age).bind(&row.reference_date)
                .bind(&row.target_kind).bind(row.target_percent_hundredths).bind(row.target_absolute).bind(row.baseline_count)
                .bind(&row.baseline_date).bind(&row.baseline_source).bind(&row.deadline).bind(row.created_at)
                .execute(&mut *tx).await?;
            for m in milestones {
                sqlx::query("INSERT INTO campaign_milestones (plan_id, date, percent_hundredths, absolute) VALUES ($1,$2,$3,$4)")
                    .bind(id).bind(&m.date).bind(m.percent_hundredths).bind(m.absolute).execute(&mut *tx).await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!("two milestones on {}", m.date)),
                        _ => StoreError::Db(e),
                    })?;
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The latest version of every plan (optionally of one unit), with its milestones in date order.
    pub async fn plans(&self, unit_code: Option<&str>) -> Result<Vec<(PlanRow, Vec<MilestoneRow>)>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {PLAN_COLS} FROM campaign_plans p WHERE ($1 IS NULL OR unit_code = $1) \
                AND version = (SELECT MAX(version) FROM campaign_plans q WHERE q.unit_code = p.unit_code AND q.period = p.period) \
                ORDER BY unit_code, period"))
                .bind(unit_code).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let plan = plan_row!(r);
                let ms = sqlx::query("SELECT date, percent_hundredths, absolute FROM campaign_milestones WHERE plan_id = $1 ORDER BY date")
                    .bind(plan.id).fetch_all(p).await?;
                let ms = ms.iter().map(|m| MilestoneRow { date: m.get("date"), percent_hundredths: m.get("percent_hundredths"), absolute: m.get("absolute") }).collect();
                out.push((plan, ms));
            }
            Ok(out)
        })
    }

    /// Appends one visit outcome (there is no update or delete; the tables refuse them).
    pub async fn append_visit(&self, visit: &VisitRow, audit: &AuditEvent) -> Result<VisitRow> {
        crate::limits::visit(visit)?;
        crate::limits::audit(audit)?;
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM visits").fetch_one(&mut *tx).await?;
            let row = VisitRow { seq, at: now(), ..visit.clone() };
            sqlx::query(&format!("INSERT INTO visits ({VISIT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"))
                .bind(row.seq).bind(&row.commune_code).bind(&row.hamlet_code).bind(&row.id_hash).bind(&row.id_masked)
                .bind(&row.outcome).bind(&row.provider).bind(&row.team).bind(&row.visit_date).bind(row.at)
                .execute(&mut *tx).await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The visits of a hamlet, in the order they were recorded.
    pub async fn visits(&self, commune_code: &str, hamlet_code: &str) -> Result<Vec<VisitRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {VISIT_COLS} FROM visits WHERE commune_code = $1 AND hamlet_code = $2 ORDER BY seq"))
                .bind(commune_code).bind(hamlet_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| visit_row!(r)).collect())
        })
    }

    /// Records (or replaces) a commune's count for a day.
    pub async fn save_snapshot(&self, s: &SnapshotRow) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("INSERT INTO adoption_snapshots (commune_code, date, holders, adults, taken_at) VALUES ($1,$2,$3,$4,$5) \
                ON CONFLICT (commune_code, date) DO UPDATE SET holders = excluded.holders, adults = excluded.adults, taken_at = excluded.taken_at")
                .bind(&s.commune_code).bind(&s.date).bind(s.holders).bind(s.adults).bind(s.taken_at).execute(p).await?;
            Ok(())
        })
    }

    pub async fn snapshots(&self, commune_code: &str) -> Result<Vec<SnapshotRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT commune_code, date, holders, adults, taken_at FROM adoption_snapshots WHERE commune_code = $1 ORDER BY date")
                .bind(commune_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| SnapshotRow {
                commune_code: r.get("commune_code"), date: r.get("date"), holders: r.get("holders"), adults: r.get("adults"), taken_at: r.get("taken_at"),
            }).collect())
        })
    }

    /// Records a report submission; `submitted_at` is the caller's instant (it decides timeliness).
    pub async fn add_report(&self, report: &ReportRow, audit: &AuditEvent) -> Result<ReportRow> {
        crate::limits::report(report)?;
        crate::limits::audit(audit)?;
        let is_sqlite = self.is_sqlite();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            lock!(tx, is_sqlite);
            let approved: Option<i64> = sqlx::query_scalar("SELECT id FROM report_submissions WHERE unit_code = $1 AND frequency = $2 \
                AND period_start = $3 AND state = 'approved'")
                .bind(&report.unit_code).bind(&report.frequency).bind(&report.period_start).fetch_optional(&mut *tx).await?;
            if let Some(approved) = approved {
                return Err(StoreError::Conflict(format!("report {approved} for this period was approved; approved figures do not change")));
            }
            let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM report_submissions").fetch_one(&mut *tx).await?;
            let row = ReportRow { id, ..report.clone() };
            sqlx::query("INSERT INTO report_submissions (id, unit_code, frequency, period_start, submitted_at, submitted_by, difficulties, proposals) \
                VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
                .bind(row.id).bind(&row.unit_code).bind(&row.frequency).bind(&row.period_start).bind(row.submitted_at)
                .bind(&row.submitted_by).bind(&row.difficulties).bind(&row.proposals).execute(&mut *tx).await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(row)
        })
    }

    pub async fn reports(&self, unit_code: &str) -> Result<Vec<ReportRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT id, unit_code, frequency, period_start, submitted_at, submitted_by, difficulties, proposals \
                FROM report_submissions WHERE unit_code = $1 ORDER BY period_start, submitted_at")
                .bind(unit_code).fetch_all(p).await?;
            Ok(rows.iter().map(|r| ReportRow {
                id: r.get("id"), unit_code: r.get("unit_code"), frequency: r.get("frequency"), period_start: r.get("period_start"),
                submitted_at: r.get("submitted_at"), submitted_by: r.get("submitted_by"), difficulties: r.get("difficulties"), proposals: r.get("proposals"),
            }).collect())
        })
    }
}
