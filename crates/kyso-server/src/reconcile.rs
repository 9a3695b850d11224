//! Reconciliation (đối soát) of a commune: `/campaign/reconcile?commune=…[&date=…]` and its XLSX
//! (`/campaign/reconcile.xlsx`), shared with `kyso campaign reconcile`. What the providers, the
//! police and the commune should each correct, from the register, the certificate sources and the
//! visit log ([`kyso_campaign::reconcile`]). Personal data: staff allowed to view the commune's
//! worklists only, ID numbers masked, every view and export audited.

use crate::campaign_data::{load, Fallible};
use crate::worklist_export::visit_log;
use kyso_campaign::reconcile::{reconcile, Finding, Recipient, ReconLine};
use kyso_store::campaign::CommuneRow;
use kyso_store::Store;
use kyso_xlsx::{Cell, Column, Writer};
use std::collections::HashMap;
use time::Date;

/// The texts' language (`en`), for the functions below.
struct Text {
    en: bool,
}

impl Text {
    fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        crate::i18n::Lang::from_en(self.en).t(vi, en)
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
    let tx = Text { en };
    match r {
        Recipient::Provider => tx.t("Gửi nhà cung cấp", "To the provider"),
        Recipient::Police => tx.t("Gửi Công an xã (danh sách dân cư)", "To the police (register)"),
        Recipient::Commune => tx.t("Xã tự xử lý", "For the commune"),
    }
}

/// What was found, in one sentence.
pub fn finding_text(en: bool, f: &Finding) -> String {
    let tx = Text { en };
    match f {
        Finding::NotInAnyList { provider, visited } => format!(
            "{} {provider} ({} {visited}) {}",
            tx.t("Người dân báo đã có chứng thư của", "Says they hold a certificate from"),
            tx.t("thăm ngày", "visit of"),
            tx.t(
                "nhưng không có trong danh sách nào: đề nghị xác nhận",
                "but no list shows a valid one: ask the provider to confirm"
            ),
        ),
        Finding::MovedAway { visited } => format!(
            "{} {visited}; {}",
            tx.t("Đã chuyển đi (thăm ngày", "Moved away (visit of"),
            tx.t("vẫn được tính trong số người trong độ tuổi)", "still counted among the adults)")
        ),
        Finding::Deceased { visited } => format!(
            "{} {visited}; {}",
            tx.t("Đã mất (thăm ngày", "Deceased (visit of"),
            tx.t("vẫn được tính trong số người trong độ tuổi)", "still counted among the adults)")
        ),
        Finding::SeveralProviders { providers } => {
            format!(
                "{} {}",
                tx.t("Có chứng thư còn hiệu lực ở nhiều nhà cung cấp:", "Valid certificates at"),
                providers.join(", ")
            )
        }
        Finding::Lapsed { ended, provider } => format!(
            "{} {provider} {} {ended}; {}",
            tx.t("Chứng thư", "Certificate from"),
            tx.t("hết hiệu lực ngày", "ended on"),
            tx.t("chưa có chứng thư mới: vận động gia hạn", "no new one yet: offer renewal")
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
