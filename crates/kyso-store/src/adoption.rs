//! The all-communes roll-up, read from `adoption_snapshots` (which the bulk recompute writes:
//! [`Store::valid_holder_ids`] and [`Store::save_adoption_snapshots`] in [`crate::bulk`]).

use crate::{on_pool, Result, Store};
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

impl Store {
    /// Every commune with its snapshot of `date` (holders and adults), in code order: the
    /// national roll-up's rows (provinces are their sums). The database packs each province's
    /// communes into one text value (fields and records split by the ASCII unit and record
    /// separators, which unit names cannot hold): the driver hands rows over one by one at a few
    /// µs each, so 34 rows instead of 3,321 keep the roll-up at a few milliseconds.
    pub async fn adoption_rollup(&self, date: &str) -> Result<Vec<CommuneAdoptionRow>> {
        let (agg, chr) = if self.is_sqlite() { ("group_concat", "char") } else { ("string_agg", "chr") };
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
}
