//! Adoption of every commune at once: holders and adults per commune on a date, recomputed in
//! one statement into `adoption_snapshots`, and the all-communes roll-up read back from there.
//!
//! Holders are counted by the same rule as `kyso-campaign`'s adoption ledger: a registered
//! resident with at least one certificate valid on the day, from kyso's own issuance (citizen
//! profile) or a provider's list (issued on or before the day; its expiry and end day, when
//! given, after it). Adults: residents born on or before `adult_born_by` (the age line's cut-off).

use crate::{now, on_pool, Result, Store};
use sqlx::Row;

/// One commune's figures on a date, with its province, for roll-ups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommuneAdoptionRow {
    pub province_code: String,
    pub province_name: String,
    pub commune_code: String,
    pub commune_name: String,
    /// `None` when the day has not been recomputed for this commune.
    pub holders: Option<i64>,
    pub adults: Option<i64>,
}

/// The Unix instant at which the day after `date` (`YYYY-MM-DD`) starts in Vietnam.
fn vn_next_day_start(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let (y, m, d): (i64, i64, i64) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((days + 1) * 86_400 - 7 * 3600)
}

impl Store {
    /// Recomputes holders and adults of every commune on `date` (`YYYY-MM-DD`) and stores them as
    /// that day's snapshots, replacing earlier ones of the same day. Returns the communes written.
    pub async fn refresh_adoption(&self, date: &str, adult_born_by: &str) -> Result<u64> {
        let end = vn_next_day_start(date).ok_or_else(|| crate::StoreError::Conflict(format!("bad date {date}")))?;
        let at = now();
        // Holders: the distinct ID numbers with a certificate valid on the day, joined to the
        // register once. Adults: one pass over the register. Both grouped by commune.
        let sql = "INSERT INTO adoption_snapshots (commune_code, date, holders, adults, taken_at) \
            SELECT c.code, $1, COALESCE(h.n, 0), COALESCE(a.n, 0), $3 FROM admin_communes c \
            LEFT JOIN (SELECT r.commune_code, COUNT(*) AS n FROM ( \
                SELECT id_number FROM provider_certificates WHERE issued_on <= $1 \
                    AND (expires_on IS NULL OR expires_on > $1) AND (ended_on IS NULL OR ended_on > $1) \
                UNION \
                SELECT id_number FROM certificates WHERE profile = 'citizen' AND id_number IS NOT NULL AND not_before < $4 \
                    AND not_after + 1 >= $4 AND (revoked_at IS NULL OR revoked_at >= $4) \
              ) v JOIN residents r ON r.id_number = v.id_number GROUP BY r.commune_code) h ON h.commune_code = c.code \
            LEFT JOIN (SELECT commune_code, COUNT(*) AS n FROM residents WHERE date_of_birth <= $2 GROUP BY commune_code) a \
                ON a.commune_code = c.code \
            WHERE true \
            ON CONFLICT (commune_code, date) DO UPDATE SET holders = excluded.holders, adults = excluded.adults, \
                taken_at = excluded.taken_at";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(sql).bind(date).bind(adult_born_by).bind(at).bind(end).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Every commune with its snapshot of `date` (holders and adults), in code order: the
    /// national roll-up's rows (provinces are their sums). The database packs each province's
    /// communes into one text value (fields and records split by the ASCII unit and record
    /// separators, which unit names cannot hold): the driver hands rows over one by one at a few
    /// µs each, so 34 rows instead of 3,321 keep the roll-up at a few milliseconds.
    pub async fn adoption_rollup(&self, date: &str) -> Result<Vec<CommuneAdoptionRow>> {
        let (agg, chr) = if self.is_sqlite_pool() { ("group_concat", "char") } else { ("string_agg", "chr") };
        let sql = format!(
            "SELECT c.province_code, p.name AS province_name, \
            {agg}(c.code || {chr}(31) || c.name || {chr}(31) || COALESCE(CAST(s.holders AS TEXT), '') || {chr}(31) \
                || COALESCE(CAST(s.adults AS TEXT), ''), {chr}(30)) AS communes \
            FROM admin_communes c JOIN admin_provinces p ON p.code = c.province_code \
            LEFT JOIN adoption_snapshots s ON s.commune_code = c.code AND s.date = $1 \
            GROUP BY c.province_code, p.name"
        );
        let packed: Vec<(String, String, String)> = on_pool!(self, p => {
            sqlx::query(&sql).bind(date).fetch_all(p).await?.iter()
                .map(|r| (r.get("province_code"), r.get("province_name"), r.get("communes"))).collect()
        });
        let mut out = Vec::with_capacity(3400);
        for (province_code, province_name, communes) in &packed {
            for record in communes.split('\u{1e}') {
                let mut f = record.split('\u{1f}');
                let (Some(code), Some(name), Some(holders), Some(adults)) = (f.next(), f.next(), f.next(), f.next())
                else {
                    continue;
                };
                out.push(CommuneAdoptionRow {
                    province_code: province_code.clone(),
                    province_name: province_name.clone(),
                    commune_code: code.to_owned(),
                    commune_name: name.to_owned(),
                    holders: holders.parse().ok(),
                    adults: adults.parse().ok(),
                });
            }
        }
        out.sort_by(|a, b| a.commune_code.cmp(&b.commune_code));
        Ok(out)
    }

    fn is_sqlite_pool(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }
}
