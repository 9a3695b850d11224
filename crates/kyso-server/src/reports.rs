//! A unit's report, or its roll-up, as an XLSX workbook: for `kyso campaign report xlsx` and the
//! reports page's download (`web/campaign/reports.rs`).

use crate::campaign_data::Fallible;
use crate::report_data as data;
use kyso_campaign::deadlines::Period;
use kyso_store::Store;

/// A unit's report, or its roll-up, as XLSX with everything in it (the CLI's); `None` for an
/// unknown unit.
pub async fn xlsx_bytes(store: &Store, unit: &str, period: &Period, rollup: bool) -> Fallible<Option<Vec<u8>>> {
    xlsx_bytes_for(store, unit, period, rollup, true).await
}

/// [`xlsx_bytes`]; without `full`, the public form: figures and submission status only, no
/// submission times, no submitter and no text.
pub async fn xlsx_bytes_for(
    store: &Store,
    unit: &str,
    period: &Period,
    rollup: bool,
    full: bool,
) -> Fallible<Option<Vec<u8>>> {
    let Some(name) = data::unit_name(store, unit).await? else { return Ok(None) };
    let now = data::instant(kyso_store::now());
    let bytes = if rollup {
        let (r, names) = data::rollup(store, unit, period, now).await?;
        crate::report_xlsx::rollup(unit, &name, &r, &names, full)
    } else {
        let figures = data::prefill(store, unit, period, now).await?;
        let submissions = if full { data::submissions(store, unit, period).await? } else { Vec::new() };
        let due = data::rules().due(period);
        crate::report_xlsx::report(unit, &name, period, due, &figures, submissions.last().map(|(r, _)| r))
    };
    bytes.map(Some).map_err(|e| e.to_string())
}
