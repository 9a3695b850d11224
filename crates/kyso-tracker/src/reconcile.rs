//! Reconciliation (đối soát) of a commune, shared by `/campaign/reconcile`, its XLSX and
//! `kyso campaign reconcile`: what the providers, the police and the commune should each correct,
//! from the register, the certificate sources and the visit log ([`kyso_campaign::reconcile`]);
//! and the national list of listed certificates no register has (`kyso campaign unmatched`).
//! ID numbers masked; callers audit every view and export.

use crate::read::{load, Fallible};
use crate::worklist::visit_log;
use kyso_campaign::reconcile::{reconcile, Finding, Recipient, ReconLine};
use kyso_store::campaign::CommuneRow;
use kyso_store::{AuditEvent, Store, Write};
use kyso_xlsx::{Cell, Column, Writer};
use std::collections::HashMap;
use time::Date;

/// Vietnamese, or English when `en`.
fn t(en: bool, vi: &'static str, english: &'static str) -> &'static str {
    if en {
        english
    } else {
        vi
    }
}

/// A commune's findings on `date`, with its hamlets' names; `None` for an unknown commune.
pub async fn reconciliation(
    store: &Store,
    commune: &str,
    date: Date,
) -> Fallible<Option<(CommuneRow, HashMap<String, String>, Vec<ReconLine>)>> {
    let err = |e: kyso_store::StoreError| e.to_string();
    let Some(unit) = store.commune(commune).await.map_err(err)? else { return Ok(None) };
    let hamlets = store.hamlets(commune).await.map_err(err)?.into_iter().map(|h| (h.code, h.name)).collect();
    let (register, adoption) = load(store, commune, None).await?;
    let log = visit_log(store, &register, commune, None).await?;
    Ok(Some((unit, hamlets, reconcile(&register, &adoption, &log, date))))
}

pub fn recipient_text(en: bool, r: Recipient) -> &'static str {
    match r {
        Recipient::Provider => t(en, "Gửi nhà cung cấp", "To the provider"),
        Recipient::Police => t(en, "Gửi Công an xã (danh sách dân cư)", "To the police (register)"),
        Recipient::Commune => t(en, "Xã tự xử lý", "For the commune"),
    }
}

/// A commune's findings on `date` for export, audited; `how` is appended to the audit's detail.
pub async fn export_reconciliation(
    store: &Store,
    commune: &str,
    date: Date,
    how: &str,
    actor: &str,
) -> anyhow::Result<(CommuneRow, HashMap<String, String>, Vec<ReconLine>)> {
    use anyhow::{anyhow, Context};
    let found = reconciliation(store, commune, date)
        .await
        .map_err(|e| anyhow!(e))?
        .with_context(|| format!("--commune: unknown commune {commune}"))?;
    let detail = format!("{} findings on {date}{how}", found.2.len());
    let audit = AuditEvent::new(actor, "campaign.reconcile.export", commune, detail);
    store.commit(&[Write::Audit(audit)]).await?;
    Ok(found)
}

/// What was found, in one sentence.
pub fn finding_text(en: bool, f: &Finding) -> String {
    match f {
        Finding::NotInAnyList { provider, visited } => format!(
            "{} {provider} ({} {visited}) {}",
            t(en, "Người dân báo đã có chứng thư của", "Says they hold a certificate from"),
            t(en, "thăm ngày", "visit of"),
            t(
                en,
                "nhưng không có trong danh sách nào: đề nghị xác nhận",
                "but no list shows a valid one: ask the provider to confirm"
            ),
        ),
        Finding::MovedAway { visited } => format!(
            "{} {visited}; {}",
            t(en, "Đã chuyển đi (thăm ngày", "Moved away (visit of"),
            t(en, "vẫn được tính trong số người trong độ tuổi)", "still counted among the adults)")
        ),
        Finding::Deceased { visited } => format!(
            "{} {visited}; {}",
            t(en, "Đã mất (thăm ngày", "Deceased (visit of"),
            t(en, "vẫn được tính trong số người trong độ tuổi)", "still counted among the adults)")
        ),
        Finding::SeveralProviders { providers } => {
            format!(
                "{} {}",
                t(en, "Có chứng thư còn hiệu lực ở nhiều nhà cung cấp:", "Valid certificates at"),
                providers.join(", ")
            )
        }
        Finding::Lapsed { ended, provider } => format!(
            "{} {provider} {} {ended}; {}",
            t(en, "Chứng thư", "Certificate from"),
            t(en, "hết hiệu lực ngày", "ended on"),
            t(en, "chưa có chứng thư mới: vận động gia hạn", "no new one yet: offer renewal")
        ),
    }
}

/// The findings as a workbook: one sheet, one row each, grouped by recipient.
pub fn reconcile_xlsx(hamlets: &HashMap<String, String>, lines: &[ReconLine]) -> Fallible<Vec<u8>> {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    let columns = [
        Column::new("Gửi", 28.0),
        Column::new("Loại", 18.0),
        Column::new("Xóm/thôn", 18.0),
        Column::new("Hộ", 8.0),
        Column::new("Số định danh (đã che)", 20.0),
        Column::new("Họ và tên", 26.0),
        Column::new("Nội dung", 70.0),
    ];
    let e = |e: kyso_xlsx::Error| e.to_string();
    w.add_sheet("Đối soát", &columns).map_err(e)?;
    for l in lines {
        let hamlet = hamlets.get(&l.hamlet_code).map_or(l.hamlet_code.as_str(), String::as_str);
        w.write_row(&[
            Cell::Text(recipient_text(false, l.finding.recipient())),
            Cell::Text(l.finding.name()),
            Cell::Text(hamlet),
            Cell::Text(l.household.as_deref().unwrap_or("")),
            Cell::Text(&l.masked_id),
            Cell::Text(l.full_name.as_deref().unwrap_or("")),
            Cell::Text(&finding_text(false, &l.finding)),
        ])
        .map_err(e)?;
    }
    Ok(w.finish().map_err(e)?.into_inner())
}

/// The certificates providers listed for ID numbers that no commune's register has: the national
/// correction list to the providers (a mistyped number) and to the police (a resident missing from
/// the register).
pub struct Unmatched {
    pub records: Vec<kyso_store::listed::Listed>,
    /// Provider names by code.
    pub names: Vec<String>,
    /// Each provider's count, by name.
    pub by_provider: Vec<(String, usize)>,
}

impl Unmatched {
    /// A provider's name by its code in [`Unmatched::records`].
    pub fn name(&self, code: u16) -> &str {
        self.names.get(usize::from(code)).map_or("?", String::as_str)
    }
}

/// [`Unmatched`] of one provider (or all), of the certificates valid on `date` (ISO; or all),
/// audited as an export; `how` is appended to the audit's detail.
pub async fn unmatched(
    store: &Store,
    provider: Option<&str>,
    date: Option<&str>,
    (how, actor): (&str, &str),
    progress: &mut dyn crate::Progress,
) -> anyhow::Result<Unmatched> {
    use anyhow::Context;
    use kyso_campaign::register_index::day_number;
    let day = date.map(|d| day_number(d).with_context(|| format!("--date: {d} is not YYYY-MM-DD"))).transpose()?;
    let index = std::sync::Arc::new(crate::register_index::register_index(store, progress).await?);
    let (records, names) =
        store.listed_where(move |l| index.get(l.id).is_none() && day.is_none_or(|d| l.valid_on(d))).await?;
    let name = |code: u16| names.get(usize::from(code)).map_or("?", String::as_str);
    let wanted = |code: u16| provider.is_none_or(|p| name(code).eq_ignore_ascii_case(p));
    let records: Vec<_> = records.into_iter().filter(|l| wanted(l.provider)).collect();
    let mut by_provider: Vec<(String, usize)> = Vec::new();
    for l in &records {
        match by_provider.iter_mut().find(|(n, _)| n == name(l.provider)) {
            Some((_, count)) => *count += 1,
            None => by_provider.push((name(l.provider).to_owned(), 1)),
        }
    }
    by_provider.sort();
    let scope = date.map_or(String::new(), |d| format!(" valid on {d}"));
    let audit = AuditEvent::new(
        actor,
        "campaign.unmatched.export",
        provider.unwrap_or("all providers"),
        format!("{} certificates{scope}{how}", records.len()),
    );
    store.commit(&[Write::Audit(audit)]).await?;
    Ok(Unmatched { records, names, by_provider })
}

/// [`Unmatched`] as a workbook: one sheet, one row per certificate, ID numbers masked.
pub fn unmatched_xlsx(u: &Unmatched) -> Result<Vec<u8>, kyso_xlsx::Error> {
    use kyso_campaign::register_index::{iso_date, masked_key};
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()));
    let columns = [
        Column::new("Nhà cung cấp", 16.0),
        Column::new("Số định danh (đã che)", 20.0),
        Column::new("Ngày cấp", 12.0),
        Column::new("Ngày hết hạn", 12.0),
        Column::new("Trạng thái", 10.0),
    ];
    w.add_sheet("Không có trong CSDL dân cư", &columns)?;
    for l in &u.records {
        let (masked, issued, expires) =
            (masked_key(l.id), iso_date(l.issued), l.expires.map(iso_date).unwrap_or_default());
        w.write_row(&[
            Cell::Text(u.name(l.provider)),
            Cell::Text(&masked),
            Cell::Text(&issued),
            Cell::Text(&expires),
            Cell::Text(l.status_name()),
        ])?;
    }
    Ok(w.finish()?.into_inner())
}
