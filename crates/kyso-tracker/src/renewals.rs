//! The renewal cliff of a commune: today's holders whose certificates end within the horizon
//! unless renewed, the curve of those ends by month ([`kyso_campaign::renewals`]), and the list
//! per hamlet with masked IDs, shared by `/campaign/renewals` and its XLSX (the dashboard draws the
//! curve from the register and ledger it has already loaded). Callers audit every view and export
//! of the list.

use crate::read::{load, Fallible};
use kyso_campaign::renewals::{by_month, lapses, within, Lapse, MonthLapses, HORIZON_MONTHS};
use kyso_store::{AuditEvent, Store, Write};
use kyso_xlsx::{Cell, Column, Writer, Ymd};
use time::Date;

/// One holder to renew, masked: what the list shows and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalLine {
    pub hamlet_code: String,
    pub masked_id: String,
    pub full_name: String,
    pub provider: String,
    /// The first day they no longer count (the certificate's expiry date).
    pub expires: Date,
}

impl RenewalLine {
    fn of(l: &Lapse) -> Self {
        Self {
            hamlet_code: l.hamlet_code.clone(),
            masked_id: l.id.masked(),
            full_name: l.full_name.clone().unwrap_or_default(),
            provider: l.provider.clone(),
            expires: l.expires,
        }
    }
}

/// A commune's (or one hamlet's) holders on `as_of` whose coverage ends, by end day.
pub async fn commune_lapses(store: &Store, commune: &str, hamlet: Option<&str>, as_of: Date) -> Fallible<Vec<Lapse>> {
    let (register, adoption) = load(store, commune, hamlet).await?;
    Ok(lapses(&register, &adoption, as_of))
}

/// The curve of known expiries of a commune over the horizon (the current month first).
pub async fn curve(store: &Store, commune: &str, as_of: Date) -> Fallible<Vec<MonthLapses>> {
    let all = commune_lapses(store, commune, None, as_of).await?;
    Ok(by_month(&all, as_of, HORIZON_MONTHS))
}

/// A hamlet's holders to renew within the horizon, by expiry date, masked.
pub async fn renewal_lines(store: &Store, commune: &str, hamlet: &str, as_of: Date) -> Fallible<Vec<RenewalLine>> {
    let all = commune_lapses(store, commune, Some(hamlet), as_of).await?;
    Ok(within(&all, as_of, HORIZON_MONTHS).into_iter().map(RenewalLine::of).collect())
}

/// [`renewal_lines`] audited as a view or export (`what`: `view`, `export`), `how` appended to
/// the detail (`", xlsx"` or nothing).
pub async fn audited_renewal_lines(
    store: &Store,
    place: (&str, &str),
    as_of: Date,
    what: (&str, &str),
    actor: &str,
) -> Fallible<Vec<RenewalLine>> {
    audited_renewal_lines_from(store, store, place, as_of, what, actor).await
}

/// [`audited_renewal_lines`] read from `read` (a read replica within its bound, for an export)
/// and audited on `store` (the primary).
pub async fn audited_renewal_lines_from(
    read: &Store,
    store: &Store,
    (commune, hamlet): (&str, &str),
    as_of: Date,
    (what, how): (&str, &str),
    actor: &str,
) -> Fallible<Vec<RenewalLine>> {
    let lines = renewal_lines(read, commune, hamlet, as_of).await?;
    let detail = format!("{} holders to renew from {as_of}{how}", lines.len());
    let audit = AuditEvent::new(actor, &format!("campaign.renewals.{what}"), &format!("{commune}/{hamlet}"), detail);
    store.commit(&[Write::Audit(audit)]).await.map_err(|e| e.to_string())?;
    Ok(lines)
}

/// The list as an XLSX workbook: one sheet, a bold frozen header, the expiry as a `dd/mm/yyyy` date.
pub fn renewals_xlsx(lines: &[RenewalLine]) -> Fallible<Vec<u8>> {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    let columns = [
        Column::new("Số định danh (đã che)", 20.0),
        Column::new("Họ và tên", 30.0),
        Column::new("Nhà cung cấp", 18.0),
        Column::new("Ngày hết hạn", 14.0),
        Column::new("Đã gia hạn", 14.0),
    ];
    let e = |e: kyso_xlsx::Error| e.to_string();
    w.add_sheet("Gia hạn", &columns).map_err(e)?;
    for l in lines {
        let expires = Ymd::new(l.expires.year(), l.expires.month() as u8, l.expires.day())
            .ok_or_else(|| format!("{}: not a calendar date", l.expires))?;
        w.write_row(&[
            Cell::Text(&l.masked_id),
            Cell::Text(&l.full_name),
            Cell::Text(&l.provider),
            Cell::Date(expires),
        ])
        .map_err(e)?;
    }
    Ok(w.finish().map_err(e)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_reads_back_masked_and_dated() {
        let line = RenewalLine {
            hamlet_code: "T01".into(),
            masked_id: "0191****0001".into(),
            full_name: "Nguyễn Thị An".into(),
            provider: "VNPT-CA".into(),
            expires: Date::from_calendar_date(2027, time::Month::May, 20).unwrap(),
        };
        let bytes = renewals_xlsx(&[line]).unwrap();
        let mut book = kyso_xlsx::Workbook::open(std::io::Cursor::new(bytes)).unwrap();
        let rows: Vec<Vec<String>> = book.rows(None).unwrap().map(|r| r.unwrap().texts()).collect();
        assert_eq!(rows[0][..4], ["Số định danh (đã che)", "Họ và tên", "Nhà cung cấp", "Ngày hết hạn"]);
        assert_eq!(rows[1], ["0191****0001", "Nguyễn Thị An", "VNPT-CA", "2027-05-20"]);
        assert_eq!(rows.len(), 2);
    }
}
