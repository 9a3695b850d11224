//! XLSX exports of a unit's report and of a roll-up (the `Tải XLSX` links and `--xlsx FILE`),
//! written with `kyso-xlsx`. Headers in Vietnamese, as the spreadsheets communes already keep.

use crate::read::Fallible;
use crate::reports as data;
use kyso_campaign::deadlines::{Period, VIETNAM};
use kyso_campaign::plan::Percent;
use kyso_campaign::reports::{label, Figures, ReportStatus, Rollup};
use kyso_store::campaign::ReportRow;
use kyso_store::Store;
use kyso_xlsx::{Cell, Column, Writer};
use std::io::Cursor;
use time::OffsetDateTime;

/// `dd/mm/yyyy HH:MM` in Vietnam time, as a text cell (`kyso_fmt`); figures stay number cells.
fn vn(t: OffsetDateTime) -> String {
    let t = t.to_offset(VIETNAM);
    format!("{} {:02}:{:02}", kyso_fmt::date(t.date()), t.hour(), t.minute())
}

fn percent(p: Option<Percent>) -> Cell<'static> {
    p.map_or(Cell::Empty, |p| Cell::Number(f64::from(p.hundredths()) / 100.0))
}

fn int(n: u64) -> Cell<'static> {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The figure rows of a report: label and value.
fn figure_rows(f: &Figures) -> Vec<(String, Cell<'static>)> {
    let mut rows = vec![
        ("Người trong độ tuổi".to_owned(), int(f.adults)),
        ("Đã có chứng thư số".to_owned(), int(f.holders)),
        ("Tỷ lệ (%)".to_owned(), percent(f.share())),
        ("Chỉ tiêu (tổng số)".to_owned(), int(f.target_level)),
        ("Chỉ tiêu (tăng thêm so với mốc cơ sở)".to_owned(), int(f.target_increment)),
        ("So với chỉ tiêu tổng số (%)".to_owned(), percent(f.of_target())),
        ("Mốc kế tiếp (tổng số)".to_owned(), int(f.milestone_level)),
        ("Mốc kế tiếp (tăng thêm)".to_owned(), int(f.milestone_increment)),
        ("Chứng thư cấp mới trong kỳ".to_owned(), int(f.new_certificates)),
        ("Người có chứng thư tăng thêm trong kỳ".to_owned(), int(f.new_holders)),
        ("Lượt đến từng nhà trong kỳ".to_owned(), int(f.visits_total())),
    ];
    for (outcome, n) in &f.visits {
        rows.push((format!("  Lượt thăm: {outcome}"), int(*n)));
    }
    rows.push(("Tốc độ 14 ngày (người/ngày)".to_owned(), Cell::Number(f.run_rate_x100 as f64 / 100.0)));
    rows.push(("Tốc độ cần đạt (người/ngày)".to_owned(), Cell::Number(f.required_rate_x100 as f64 / 100.0)));
    rows.push(("Số đơn vị đã quá hạn chỉ tiêu".to_owned(), int(f.past_deadline)));
    let signed = f.signed_dossiers();
    rows.push(("Hồ sơ cần ký số trong kỳ".to_owned(), int(signed.needing)));
    rows.push(("Hồ sơ được ký số đầy đủ".to_owned(), int(signed.fully_signed)));
    rows.push(("Tỷ lệ hồ sơ được ký số đầy đủ (%)".to_owned(), percent(signed.share())));
    rows.push(("Người có chứng thư đã ký số trong kỳ".to_owned(), int(f.signers)));
    rows.push(("Người trong độ tuổi có định danh điện tử mức 2".to_owned(), int(f.eid_level2)));
    rows.push(("Tỷ lệ định danh điện tử mức 2 (%)".to_owned(), percent(f.eid_share())));
    rows.push(("Cán bộ và thành viên tổ công nghệ số cộng đồng".to_owned(), int(f.training_people)));
    rows.push(("Trong đó đã được tập huấn".to_owned(), int(f.trained)));
    rows.push(("Tỷ lệ đã được tập huấn (%)".to_owned(), percent(f.trained_share())));
    rows
}

/// A unit's report for a period: the live (or, above a commune, rolled-up) figures, and the
/// latest submission's text when there is one.
pub fn report(
    unit: &str,
    name: &str,
    period: &Period,
    due: OffsetDateTime,
    figures: &Figures,
    latest: Option<&ReportRow>,
) -> Result<Vec<u8>, kyso_xlsx::Error> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    w.add_sheet("Báo cáo", &[Column::new("Nội dung", 44.0), Column::new("Giá trị", 60.0)])?;
    let due = vn(due);
    let head = [
        ("Mã đơn vị", unit.to_owned()),
        ("Đơn vị", name.to_owned()),
        ("Kỳ báo cáo", label(period, false)),
        ("Hạn nộp (giờ Việt Nam)", due),
    ];
    for (k, v) in &head {
        w.write_row(&[Cell::Text(k), Cell::Text(v)])?;
    }
    for (k, v) in figure_rows(figures) {
        w.write_row(&[Cell::Text(&k), v])?;
    }
    if let Some(r) = latest {
        let at = vn(OffsetDateTime::from_unix_timestamp(r.submitted_at).unwrap_or(OffsetDateTime::UNIX_EPOCH));
        for (k, v) in [
            ("Người báo cáo", r.submitted_by.as_str()),
            ("Nộp lúc", at.as_str()),
            ("Khó khăn, vướng mắc", r.difficulties.as_str()),
            ("Đề xuất, kiến nghị", r.proposals.as_str()),
        ] {
            w.write_row(&[Cell::Text(k), Cell::Text(v)])?;
        }
    }
    Ok(w.finish()?.into_inner())
}

fn status_text(s: &ReportStatus) -> (&'static str, String, Cell<'static>) {
    match s {
        ReportStatus::OnTime { at } => ("Đúng hạn", vn(*at), Cell::Empty),
        ReportStatus::Late { at, minutes } => ("Trễ hạn", vn(*at), Cell::Int(*minutes)),
        ReportStatus::Pending => ("Chưa đến hạn", String::new(), Cell::Empty),
        ReportStatus::Missing => ("Chưa nộp", String::new(), Cell::Empty),
    }
}

/// A roll-up: one row per unit below (status, submission time, minutes late, figures), the total.
/// Without `full` (the public form) the submission time and minutes late are left empty.
pub fn rollup(unit: &str, name: &str, r: &Rollup, names: &[String], full: bool) -> Result<Vec<u8>, kyso_xlsx::Error> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    let title = format!("{} — {} ({unit}), hạn {}", label(&r.period, false), name, vn(r.due));
    let columns = [
        Column::new("Mã đơn vị", 10.0),
        Column::new("Đơn vị", 28.0),
        Column::new("Tình trạng", 14.0),
        Column::new("Nộp lúc", 18.0),
        Column::new("Trễ (phút)", 10.0),
        Column::new("Người trong độ tuổi", 12.0),
        Column::new("Đã có chứng thư", 12.0),
        Column::new("Tỷ lệ (%)", 10.0),
        Column::new("Chỉ tiêu (tổng số)", 12.0),
        Column::new("Chỉ tiêu (tăng thêm)", 12.0),
        Column::new("Cấp mới trong kỳ", 12.0),
        Column::new("Lượt đến từng nhà", 12.0),
    ];
    w.add_sheet("Tổng hợp", &columns)?;
    let figure_cells = |f: &Figures| {
        [
            int(f.adults),
            int(f.holders),
            percent(f.share()),
            int(f.target_level),
            int(f.target_increment),
            int(f.new_certificates),
            int(f.visits_total()),
        ]
    };
    for (row, unit_name) in r.rows.iter().zip(names) {
        let (status, at, late) = match status_text(&row.status) {
            (status, _, _) if !full => (status, String::new(), Cell::Empty),
            t => t,
        };
        let mut cells =
            vec![Cell::Text(&row.unit_code), Cell::Text(unit_name), Cell::Text(status), Cell::Text(&at), late];
        if let Some(f) = &row.figures {
            cells.extend(figure_cells(f));
        }
        w.write_row(&cells)?;
    }
    let submitted = format!("{}/{} đã nộp", r.count("on_time") + r.count("late"), r.expected());
    let mut total = vec![Cell::Text("Tổng"), Cell::Text(&title), Cell::Text(&submitted), Cell::Empty, Cell::Empty];
    total.extend(figure_cells(&r.total));
    w.write_row(&total)?;
    Ok(w.finish()?.into_inner())
}

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
        self::rollup(unit, &name, &r, &names, full)
    } else {
        let figures = data::prefill(store, unit, period, now).await?;
        let submissions = if full { data::submissions(store, unit, period).await? } else { Vec::new() };
        let due = data::rules().due(period);
        report(unit, &name, period, due, &figures, submissions.last().map(|(r, _)| r))
    };
    bytes.map(Some).map_err(|e| e.to_string())
}
