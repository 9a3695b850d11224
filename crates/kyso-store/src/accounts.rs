//! Accounts: citizens' e-ID accounts, staff accounts, support points, support sessions and web
//! login sessions. Rows only; password hashing and the authorization rules live in `kyso-access`.
//!
//! Account, verification, staff, point and support-session changes go through [`Store::commit`]
//! (audited, one transaction). Web sessions are not audited: only their SHA-256 is stored.

use crate::{on_pool, Result, Store};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EidAccountRow {
    pub id_number: String,
    pub phone: String,
    /// PHC string (Argon2id).
    pub password_hash: String,
    pub level: i64,
    /// `registered`, `awaiting_approval`, `issued_with_card` or `self_activated`.
    pub activation: String,
    pub verified_method: Option<String>,
    pub verified_by: Option<String>,
    pub verified_place: Option<String>,
    pub verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAccountRow {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// `national`, `province`, `commune` or `provider`.
    pub scope_kind: String,
    /// Province or commune code, provider id, or `VN`.
    pub scope_code: String,
    pub point_id: Option<String>,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportPointRow {
    pub id: String,
    pub commune_code: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    /// ISO weekdays, e.g. `123456`.
    pub opening_days: String,
    /// As the point's staff write them, e.g. `7:30–11:30, 13:30–17:00` (empty: not given).
    pub opening_hours: String,
    pub created_at: i64,
}

/// A login session (only the token's hash is stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSessionRow {
    pub kind: String,
    pub subject: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportSessionRow {
    /// Assigned when stored.
    pub id: i64,
    pub point_id: String,
    pub staff: String,
    pub id_hash: Vec<u8>,
    pub id_masked: String,
    pub steps: String,
    pub outcome: String,
    /// `YYYY-MM-DD`, Vietnam time.
    pub day: String,
    pub at: i64,
}

/// Results of one support point on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointDay {
    pub point_id: String,
    pub day: String,
    pub sessions: i64,
    pub eid_level2: i64,
    pub certificates: i64,
    pub first_signatures: i64,
}

const EID_COLS: &str = "id_number, phone, password_hash, level, activation, verified_method, verified_by, verified_place, verified_at, created_at, updated_at";
const STAFF_COLS: &str = "username, display_name, role, scope_kind, scope_code, point_id, password_hash, created_at";
const POINT_COLS: &str = "id, commune_code, name, kind, address, opening_days, opening_hours, created_at";

/// Applies one account write inside `Store::commit`'s transaction (either backend).
macro_rules! apply_write {
    ($w:expr, $tx:expr) => {
        match $w {
            Write::EidAccount(a) => {
                let r = sqlx::query("INSERT INTO eid_accounts (id_number, phone, password_hash, level, activation, verified_method, verified_by, verified_place, verified_at, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)")
                    .bind(&a.id_number).bind(&a.phone).bind(&a.password_hash).bind(a.level).bind(&a.activation)
                    .bind(&a.verified_method).bind(&a.verified_by).bind(&a.verified_place).bind(a.verified_at)
                    .bind(a.created_at).bind(a.updated_at)
                    .execute(&mut *$tx).await;
                match r {
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        return Err(StoreError::Conflict("this ID number already has an e-ID account".into()))
                    }
                    r => { r?; }
                }
            }
            Write::EidVerified { id_number, activation, method, officer, place, at } => {
                let n = sqlx::query("UPDATE eid_accounts SET level = 2, activation = $1, verified_method = $2, verified_by = $3, verified_place = $4, verified_at = $5, updated_at = $5 WHERE id_number = $6")
                    .bind(activation).bind(method).bind(officer).bind(place).bind(at).bind(id_number)
                    .execute(&mut *$tx).await?.rows_affected();
                if n != 1 {
                    return Err(StoreError::NotFound("e-ID account".into()));
                }
            }
            Write::EidActivation { id_number, activation } => {
                let n = sqlx::query("UPDATE eid_accounts SET activation = $1, updated_at = $2 WHERE id_number = $3")
                    .bind(activation).bind(crate::now()).bind(id_number)
                    .execute(&mut *$tx).await?.rows_affected();
                if n != 1 {
                    return Err(StoreError::NotFound("e-ID account".into()));
                }
            }
            Write::Staff(s) => {
                sqlx::query("INSERT INTO staff_accounts (username, display_name, role, scope_kind, scope_code, point_id, password_hash, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
                             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role, scope_kind = excluded.scope_kind, scope_code = excluded.scope_code, point_id = excluded.point_id, password_hash = excluded.password_hash")
                    .bind(&s.username).bind(&s.display_name).bind(&s.role).bind(&s.scope_kind).bind(&s.scope_code)
                    .bind(&s.point_id).bind(&s.password_hash).bind(s.created_at)
                    .execute(&mut *$tx).await?;
            }
            Write::SupportPoint(p) => {
                sqlx::query("INSERT INTO support_points (id, commune_code, name, kind, address, opening_days, opening_hours, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
                             ON CONFLICT (id) DO UPDATE SET commune_code = excluded.commune_code, name = excluded.name, kind = excluded.kind, address = excluded.address, opening_days = excluded.opening_days, opening_hours = excluded.opening_hours")
                    .bind(&p.id).bind(&p.commune_code).bind(&p.name).bind(&p.kind).bind(&p.address).bind(&p.opening_days).bind(&p.opening_hours).bind(p.created_at)
                    .execute(&mut *$tx).await?;
            }
            Write::SupportSession(s) => {
                // The commit holds the write lock, so MAX(id) + 1 cannot race.
                sqlx::query("INSERT INTO support_sessions (id, point_id, staff, id_hash, id_masked, steps, outcome, day, at) SELECT COALESCE(MAX(id), 0) + 1, $1,$2,$3,$4,$5,$6,$7,$8 FROM support_sessions")
                    .bind(&s.point_id).bind(&s.staff).bind(&s.id_hash).bind(&s.id_masked).bind(&s.steps).bind(&s.outcome).bind(&s.day).bind(s.at)
                    .execute(&mut *$tx).await?;
            }
            _ => unreachable!("not an account write"),
        }
    };
}
pub(crate) use apply_write;

macro_rules! eid_row {
    ($r:expr) => {
        EidAccountRow {
            id_number: $r.get("id_number"),
            phone: $r.get("phone"),
            password_hash: $r.get("password_hash"),
            level: $r.get("level"),
            activation: $r.get("activation"),
            verified_method: $r.get("verified_method"),
            verified_by: $r.get("verified_by"),
            verified_place: $r.get("verified_place"),
            verified_at: $r.get("verified_at"),
            created_at: $r.get("created_at"),
            updated_at: $r.get("updated_at"),
        }
    };
}

macro_rules! staff_account_row {
    ($r:expr) => {
        StaffAccountRow {
            username: $r.get("username"),
            display_name: $r.get("display_name"),
            role: $r.get("role"),
            scope_kind: $r.get("scope_kind"),
            scope_code: $r.get("scope_code"),
            point_id: $r.get("point_id"),
            password_hash: $r.get("password_hash"),
            created_at: $r.get("created_at"),
        }
    };
}

macro_rules! point_row {
    ($r:expr) => {
        SupportPointRow {
            id: $r.get("id"),
            commune_code: $r.get("commune_code"),
            name: $r.get("name"),
            kind: $r.get("kind"),
            address: $r.get("address"),
            opening_days: $r.get("opening_days"),
            opening_hours: $r.get("opening_hours"),
            created_at: $r.get("created_at"),
        }
    };
}

impl Store {
    pub async fn eid_account(&self, id_number: &str) -> Result<Option<EidAccountRow>> {
        on_pool!(self, p => {
            let r = sqlx::query(&format!("SELECT {EID_COLS} FROM eid_accounts WHERE id_number = $1")).bind(id_number).fetch_optional(p).await?;
            Ok(r.map(|r| eid_row!(r)))
        })
    }

    /// How many accounts per level and activation case (for the dashboard).
    pub async fn eid_account_counts(&self) -> Result<Vec<(i64, String, i64)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT level, activation, COUNT(*) AS n FROM eid_accounts GROUP BY level, activation ORDER BY level, activation").fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get("level"), r.get("activation"), r.get("n"))).collect())
        })
    }

    pub async fn staff_account(&self, username: &str) -> Result<Option<StaffAccountRow>> {
        on_pool!(self, p => {
            let r = sqlx::query(&format!("SELECT {STAFF_COLS} FROM staff_accounts WHERE username = $1")).bind(username).fetch_optional(p).await?;
            Ok(r.map(|r| staff_account_row!(r)))
        })
    }

    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccountRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!("SELECT {STAFF_COLS} FROM staff_accounts ORDER BY username")).fetch_all(p).await?;
            Ok(rows.iter().map(|r| staff_account_row!(r)).collect())
        })
    }

    pub async fn support_point(&self, id: &str) -> Result<Option<SupportPointRow>> {
        on_pool!(self, p => {
            let r = sqlx::query(&format!("SELECT {POINT_COLS} FROM support_points WHERE id = $1")).bind(id).fetch_optional(p).await?;
            Ok(r.map(|r| point_row!(r)))
        })
    }

    /// Support points of a commune, or all of them.
    pub async fn support_points(&self, commune_code: Option<&str>) -> Result<Vec<SupportPointRow>> {
        on_pool!(self, p => {
            let rows = match commune_code {
                Some(c) => sqlx::query(&format!("SELECT {POINT_COLS} FROM support_points WHERE commune_code = $1 ORDER BY id")).bind(c).fetch_all(p).await?,
                None => sqlx::query(&format!("SELECT {POINT_COLS} FROM support_points ORDER BY commune_code, id")).fetch_all(p).await?,
            };
            Ok(rows.iter().map(|r| point_row!(r)).collect())
        })
    }

    /// Results per support point and day (sessions; e-ID verified, certificate issued, first
    /// signature among their steps), newest day first.
    pub async fn support_results(&self, point_id: Option<&str>) -> Result<Vec<PointDay>> {
        let sql = "SELECT point_id, day, COUNT(*) AS sessions, \
                   SUM(CASE WHEN steps LIKE '%eid_level2%' THEN 1 ELSE 0 END) AS eid, \
                   SUM(CASE WHEN steps LIKE '%certificate_issued%' THEN 1 ELSE 0 END) AS certs, \
                   SUM(CASE WHEN steps LIKE '%first_signature%' THEN 1 ELSE 0 END) AS sigs \
                   FROM support_sessions WHERE ($1 = '' OR point_id = $1) GROUP BY point_id, day ORDER BY day DESC, point_id";
        on_pool!(self, p => {
            let rows = sqlx::query(sql).bind(point_id.unwrap_or("")).fetch_all(p).await?;
            Ok(rows.iter().map(|r| PointDay {
                point_id: r.get("point_id"),
                day: r.get("day"),
                sessions: r.get("sessions"),
                eid_level2: r.get("eid"),
                certificates: r.get("certs"),
                first_signatures: r.get("sigs"),
            }).collect())
        })
    }

    /// Results per support point summed over the days `from` to `to` (inclusive; `day` is `from`),
    /// one query for every point.
    pub async fn support_totals(&self, from: &str, to: &str) -> Result<Vec<PointDay>> {
        let sql = "SELECT point_id, COUNT(*) AS sessions, \
                   SUM(CASE WHEN steps LIKE '%eid_level2%' THEN 1 ELSE 0 END) AS eid, \
                   SUM(CASE WHEN steps LIKE '%certificate_issued%' THEN 1 ELSE 0 END) AS certs, \
                   SUM(CASE WHEN steps LIKE '%first_signature%' THEN 1 ELSE 0 END) AS sigs \
                   FROM support_sessions WHERE day >= $1 AND day <= $2 GROUP BY point_id";
        on_pool!(self, p => {
            let rows = sqlx::query(sql).bind(from).bind(to).fetch_all(p).await?;
            Ok(rows.iter().map(|r| PointDay {
                point_id: r.get("point_id"),
                day: from.to_owned(),
                sessions: r.get("sessions"),
                eid_level2: r.get("eid"),
                certificates: r.get("certs"),
                first_signatures: r.get("sigs"),
            }).collect())
        })
    }

    /// One scan of a support point's guidance QR code on `day` (Vietnam's date).
    pub async fn record_guide_scan(&self, point_id: &str, day: &str) -> Result<()> {
        crate::limits::POINT_ID.check(point_id)?;
        on_pool!(self, p => {
            sqlx::query("INSERT INTO guide_scans (point_id, day, scans) VALUES ($1, $2, 1) \
                         ON CONFLICT (point_id, day) DO UPDATE SET scans = guide_scans.scans + 1")
                .bind(point_id).bind(day).execute(p).await?;
            Ok(())
        })
    }

    /// Guidance QR scans per support point from `from` to `to` (inclusive, ISO days).
    pub async fn guide_scans(&self, from: &str, to: &str) -> Result<std::collections::HashMap<String, i64>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT point_id, CAST(SUM(scans) AS BIGINT) AS n FROM guide_scans WHERE day >= $1 AND day <= $2 GROUP BY point_id")
                .bind(from).bind(to).fetch_all(p).await?;
            Ok(rows.iter().map(|r| (r.get("point_id"), r.get("n"))).collect())
        })
    }

    pub async fn support_sessions(&self, point_id: &str, limit: i64) -> Result<Vec<SupportSessionRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT id, point_id, staff, id_hash, id_masked, steps, outcome, day, at FROM support_sessions WHERE point_id = $1 ORDER BY id DESC LIMIT $2")
                .bind(point_id).bind(limit).fetch_all(p).await?;
            Ok(rows.iter().map(|r| SupportSessionRow {
                id: r.get("id"),
                point_id: r.get("point_id"),
                staff: r.get("staff"),
                id_hash: r.get("id_hash"),
                id_masked: r.get("id_masked"),
                steps: r.get("steps"),
                outcome: r.get("outcome"),
                day: r.get("day"),
                at: r.get("at"),
            }).collect())
        })
    }

    /// Store a login session (only the token's hash).
    pub async fn create_web_session(
        &self,
        token_hash: &[u8],
        kind: &str,
        subject: &str,
        expires_at: i64,
    ) -> Result<()> {
        crate::limits::WORD.check(kind)?;
        crate::limits::USERNAME.check(subject)?;
        let now = crate::now();
        on_pool!(self, p => {
            sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1").bind(now).execute(p).await?;
            sqlx::query("INSERT INTO web_sessions (token_hash, kind, subject, expires_at, created_at) VALUES ($1,$2,$3,$4,$5)")
                .bind(token_hash).bind(kind).bind(subject).bind(expires_at).bind(now).execute(p).await?;
            Ok(())
        })
    }

    /// A live session: kind, subject, when it began and when it ends.
    pub async fn web_session(&self, token_hash: &[u8], now: i64) -> Result<Option<WebSessionRow>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT kind, subject, created_at, expires_at FROM web_sessions WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash).bind(now).fetch_optional(p).await?;
            Ok(r.map(|r| WebSessionRow {
                kind: r.get("kind"),
                subject: r.get("subject"),
                created_at: r.get("created_at"),
                expires_at: r.get("expires_at"),
            }))
        })
    }

    /// Moves a live session's end (a sliding idle timeout); never revives an ended one.
    pub async fn extend_web_session(&self, token_hash: &[u8], expires_at: i64, now: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE web_sessions SET expires_at = $1 WHERE token_hash = $2 AND expires_at > $3 AND expires_at < $1")
                .bind(expires_at).bind(token_hash).bind(now).execute(p).await?;
            Ok(())
        })
    }

    pub async fn end_web_session(&self, token_hash: &[u8]) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1").bind(token_hash).execute(p).await?;
            Ok(())
        })
    }
}
