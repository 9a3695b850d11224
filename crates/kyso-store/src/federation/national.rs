//! National queries on the other partitioned tables (migration 26): the register per province
//! (residents, adults, holders of a valid kyso certificate), and one person found by ID number
//! across the nation (where they live, their kyso certificates, their provider-list
//! certificates). Each is one statement on the coordinator whose filter or aggregate is sent to
//! every province; a province that cannot be reached is named, as for the roll-up.
//!
//! The ID number does not say where someone lives (its first digits are the birth province), so
//! a person look-up cannot be pruned to one partition: each province is sent the ID and answers
//! with the register ID block and the provider-list block whose ID ranges hold it (primary key
//! seeks), which the coordinator decodes.

use super::{literal, Coordinator, Unavailable};
use crate::bulk::register_blocks::{decode_ids, find_id, Places, UNKNOWN_BIRTH};
use crate::listed::{records_of, Listed};
use crate::Result;
use kyso_campaign::register_index::iso_date;
use sqlx::Row;

/// One province's register on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvinceRegister {
    pub code: String,
    pub residents: i64,
    /// Born on or before the caller's cut-off (the age line is the caller's rule).
    pub adults: i64,
    /// Residents holding a kyso citizen certificate valid at the caller's instant.
    pub holders: i64,
}

/// The register of the nation, province by province.
#[derive(Clone, Debug, Default)]
pub struct NationalRegister {
    pub provinces: Vec<ProvinceRegister>,
    pub unavailable: Vec<Unavailable>,
    /// Whether both statements answered as one query each.
    pub one_query: bool,
}

/// Where a person is registered (no name: the coordinator never reads one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalResident {
    pub province_code: String,
    pub commune_code: String,
    pub hamlet_code: String,
    pub date_of_birth: String,
    pub sex: String,
}

/// A kyso citizen certificate of the person, with the province whose database holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalCertificate {
    pub province_code: String,
    pub serial: String,
    pub issuer_id: String,
    pub not_before: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
}

/// A provider-list certificate of the person, as a province's imported lists report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalListed {
    pub province_code: String,
    pub provider: String,
    pub listed: Listed,
}

/// Everything the nation knows of one ID number.
#[derive(Clone, Debug, Default)]
pub struct NationalPerson {
    pub residents: Vec<NationalResident>,
    pub certificates: Vec<NationalCertificate>,
    pub listed: Vec<NationalListed>,
    pub unavailable: Vec<Unavailable>,
}

impl Coordinator {
    // A block's births are sorted: `width_bucket(day, births)` counts those on or before `day`, a
    // built-in function the province computes (the aggregate is pushed down whole).
    const RESIDENTS: &'static str = "SELECT province_code, sum(n) AS residents, \
        sum(width_bucket($1::integer, births)) AS adults FROM {table} GROUP BY province_code";
    const HOLDERS: &'static str = "SELECT province_code, count(DISTINCT id_number) AS holders FROM {table} \
        WHERE not_before <= $1 AND not_after > $1 AND (revoked_at IS NULL OR revoked_at > $1) GROUP BY province_code";
    const PERSON: &'static str =
        "SELECT province_code, first_id, data FROM {table} WHERE first_id <= $1 AND last_id >= $1";
    const PERSON_CERTS: &'static str = "SELECT province_code, serial, issuer_id, not_before, not_after, revoked_at \
        FROM {table} WHERE id_number = $1";
    const PERSON_BLOCKS: &'static str = "SELECT province_code, first_id, data, provider_codes, provider_names \
        FROM {table} WHERE first_id <= $1 AND last_id >= $1";

    /// Residents and adults (born on or before `adults_born_by`, `YYYY-MM-DD`) per province, and
    /// the residents holding a kyso citizen certificate valid at `at` (Unix seconds): two
    /// statements, each aggregate computed by every province.
    pub async fn register(&self, adults_born_by: &str, at: i64) -> Result<NationalRegister> {
        let born_by = kyso_campaign::register_index::day_number(adults_born_by)
            .ok_or_else(|| crate::StoreError::Conflict(format!("not a YYYY-MM-DD date: {adults_born_by}")))?;
        let (people, mut unavailable, one) = self
            .national("register", |pool, table| async move {
                sqlx::query(&Self::RESIDENTS.replace("{table}", &table)).bind(born_by).fetch_all(pool).await
            })
            .await?;
        let (holders, missing, two) = self
            .national("certificates", |pool, table| async move {
                sqlx::query(&Self::HOLDERS.replace("{table}", &table)).bind(at).fetch_all(pool).await
            })
            .await?;
        merge_unavailable(&mut unavailable, missing);
        let mut provinces: Vec<ProvinceRegister> = people
            .iter()
            .map(|r| ProvinceRegister {
                code: r.get("province_code"),
                residents: r.get("residents"),
                adults: r.get("adults"),
                holders: 0,
            })
            .collect();
        for r in &holders {
            let code: String = r.get("province_code");
            if let Some(p) = provinces.iter_mut().find(|p| p.code == code) {
                p.holders = r.get("holders");
            }
        }
        // a province that answered one statement but not the other is unavailable, not zero
        provinces.retain(|p| !unavailable.iter().any(|u| u.code == p.code));
        provinces.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(NationalRegister { provinces, unavailable, one_query: one && two })
    }

    /// One ID number across the nation: where it is registered, its kyso certificates and its
    /// provider-list certificates, and the provinces that could not be asked.
    pub async fn person(&self, id_number: &str) -> Result<NationalPerson> {
        let mut out = NationalPerson::default();
        // The register's ID blocks: the one whose range holds the ID, in every province.
        let key = id_key(id_number).unwrap_or(-1);
        let (rows, missing, _) = self
            .national("register_ids", |pool, table| async move {
                sqlx::query(&Self::PERSON.replace("{table}", &table)).bind(key).fetch_all(pool).await
            })
            .await?;
        out.unavailable = missing;
        for r in &rows {
            let mut places = Places::default();
            let entries = decode_ids(r.get::<&[u8], _>("data"), &mut places)?;
            if let Some(e) = find_id(&entries, key as u64) {
                let (commune, hamlet) = places.get(e.place);
                out.residents.push(NationalResident {
                    province_code: r.get::<Option<String>, _>("province_code").unwrap_or_default(),
                    commune_code: commune.to_owned(),
                    hamlet_code: hamlet.to_owned(),
                    date_of_birth: if e.born == UNKNOWN_BIRTH { String::new() } else { iso_date(e.born) },
                    sex: char::from(e.sex).to_string(),
                });
            }
        }
        let (rows, missing, _) = self
            .national("certificates", |pool, table| async move {
                sqlx::query(&Self::PERSON_CERTS.replace("{table}", &table)).bind(id_number).fetch_all(pool).await
            })
            .await?;
        merge_unavailable(&mut out.unavailable, missing);
        out.certificates = rows
            .iter()
            .map(|r| NationalCertificate {
                province_code: r.get("province_code"),
                serial: r.get("serial"),
                issuer_id: r.get("issuer_id"),
                not_before: r.get("not_before"),
                not_after: r.get("not_after"),
                revoked_at: r.get("revoked_at"),
            })
            .collect();
        // Provider-list blocks are keyed by the ID as a number; a malformed ID has none.
        if let Some(id) = id_key(id_number) {
            let (rows, missing, _) = self
                .national("provider_blocks", |pool, table| async move {
                    sqlx::query(&Self::PERSON_BLOCKS.replace("{table}", &table)).bind(id).fetch_all(pool).await
                })
                .await?;
            merge_unavailable(&mut out.unavailable, missing);
            for r in &rows {
                let mut found = Vec::new();
                records_of(r.get("first_id"), r.get::<&[u8], _>("data"), &[id as u64], &mut found)
                    .map_err(crate::StoreError::Conflict)?;
                let codes: Vec<i32> = r.get("provider_codes");
                let names: Vec<String> = r.get("provider_names");
                let province_code: Option<String> = r.get("province_code");
                for listed in found {
                    let provider = codes
                        .iter()
                        .position(|&c| c == i32::from(listed.provider))
                        .and_then(|i| names.get(i).cloned())
                        .unwrap_or_else(|| "?".into());
                    out.listed.push(NationalListed {
                        province_code: province_code.clone().unwrap_or_default(),
                        provider,
                        listed,
                    });
                }
            }
        }
        out.certificates.sort_by(|a, b| (&a.province_code, &a.serial).cmp(&(&b.province_code, &b.serial)));
        // provider codes are per province: order by what they mean
        out.listed.sort_by(|a, b| {
            (&a.province_code, a.listed.issued, &a.provider).cmp(&(&b.province_code, b.listed.issued, &b.provider))
        });
        out.residents.sort_by(|a, b| a.province_code.cmp(&b.province_code));
        Ok(out)
    }

    /// The plans of the national statements (`EXPLAIN VERBOSE`, the parameters as literals):
    /// (residents per province, holders per province, a person's residents, certificates and
    /// provider-list blocks).
    pub async fn explain_national(&self, id_number: &str, adults_born_by: &str, at: i64) -> Result<[String; 5]> {
        let id = literal(id_number);
        let key = id_key(id_number).unwrap_or(-1).to_string();
        Ok([
            self.explain(
                &Self::RESIDENTS
                    .replace("{table}", "nation_register")
                    .replace("$1", &kyso_campaign::register_index::day_number(adults_born_by).unwrap_or(0).to_string()),
            )
            .await?,
            self.explain(&Self::HOLDERS.replace("{table}", "nation_certificates").replace("$1", &at.to_string()))
                .await?,
            self.explain(&Self::PERSON.replace("{table}", "nation_register_ids").replace("$1", &key)).await?,
            self.explain(&Self::PERSON_CERTS.replace("{table}", "nation_certificates").replace("$1", &id)).await?,
            self.explain(&Self::PERSON_BLOCKS.replace("{table}", "nation_provider_blocks").replace("$1", &key)).await?,
        ])
    }
}

/// A 12-digit ID number as the blocks key it (None for anything else).
fn id_key(id_number: &str) -> Option<i64> {
    (id_number.len() == 12 && id_number.bytes().all(|b| b.is_ascii_digit())).then(|| id_number.parse().ok()).flatten()
}

fn merge_unavailable(into: &mut Vec<Unavailable>, more: Vec<Unavailable>) {
    for u in more {
        if !into.iter().any(|x| x.code == u.code) {
            into.push(u);
        }
    }
}
