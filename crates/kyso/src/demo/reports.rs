//! The reports and tasks part of `kyso serve --demo`: Hiệp Lực's Appendix II task register
//! (transcribed from the plan; statuses are the demo's), a staff list for its 100 %-of-staff
//! target, Hưng Yên's six segment targets, and weekly and monthly reports over the last four weeks
//! (on time, late, missing, on time) so completeness and timeliness show something real.
//! Idempotent.

use super::synthetic_resident;
use anyhow::{anyhow, Result};
use kyso_campaign::deadlines::{Frequency, Period};
use kyso_campaign::reports::{periods_back, reporting_period};
use kyso_store::reports::{SegmentRow, SegmentSetRow, StaffRow, TaskRow};
use kyso_store::{AuditEvent, Store, Write};
use kyso_tracker::reports::{self as data, Submission};
use time::Duration;

const COMMUNE: &str = "01960";
const PROVINCE: &str = "19";
const SEEDED: &str = "demo_reports_seeded";

/// Phụ lục II, Kế hoạch triển khai đợt cao điểm phổ cập, hỗ trợ cấp chữ ký số công cộng trên địa
/// bàn xã Hiệp Lực (2026): number, task, lead, coordinating units, expected result, deadline — as
/// written (blank cells stay blank), and the demo's status.
pub const APPENDIX_II: [(&str, &str, &str, &str, &str, &str, &str); 16] = [
    (
        "1",
        "Cập nhật tài liệu tuyên truyền, hướng dẫn cài đặt, cấu hình chữ ký số công cộng; đăng ký, tích hợp chữ ký số công cộng trên VNeID",
        "Phòng Văn hóa – Xã hội",
        "Công an xã, các doanh nghiệp viễn thông",
        "Các tài liệu được tổng hợp, cung cấp đến các đơn vị và cập nhật thường xuyên",
        "Tháng 5/2026",
        "done",
    ),
    (
        "2",
        "Tổ chức phát động triển khai đợt cao điểm cấp chữ ký số công cộng tại cơ quan, đơn vị",
        "Phòng Văn hóa – Xã hội",
        "Các đơn vị trên địa bàn, Các doanh nghiệp viễn thông",
        "Các hoạt động phát động (khuyến khích tổ chức Hội nghị)",
        "Tháng 5/2026",
        "done",
    ),
    (
        "3",
        "Đẩy mạnh tuyên truyền về lợi ích, ý nghĩa, yêu cầu khi sử dụng chữ ký số công cộng cho người dân hiểu và hưởng ứng thực hiện cài đặt, sử dụng.",
        "Trung tâm Dịch vụ tổng hợp",
        "Phòng Văn hóa – Xã hội; Công an xã; các doanh nghiệp viễn thông trên địa bàn",
        "Tin, bài và các hoạt động tuyên truyền phù hợp",
        "Thực hiện thường xuyên",
        "in_progress",
    ),
    (
        "4",
        "Chủ động, tích cực triển khai kế hoạch",
        "",
        "",
        "Báo cáo kết quả triển khai gửi Sở Khoa học và Công nghệ vào thứ 5 hằng tuần.",
        "Đến 31/10/2026 và tiếp tục duy trì thường xuyên.",
        "in_progress",
    ),
    (
        "4.1",
        "Chủ động liên hệ, trao đổi với các đơn vị để triển khai gia hạn, cài đặt, hướng dẫn sử dụng chữ ký số công cộng tại từng đơn vị, trường học, doanh nghiệp, các thôn trên địa bàn xã.",
        "Công an xã; Các doanh nghiệp viễn thông",
        "Các đơn vị trên địa bàn",
        "Triển khai tại tất cả các đơn vị",
        "Trong tháng 5/2026",
        "done",
    ),
    (
        "4.2",
        "Bố trí nhân lực triển khai đồng bộ, triệt để tại tất cả các cơ quan, đơn vị, doanh nghiệp, trường học, các thôn.",
        "",
        "",
        "Bố trí nhân lực triển khai",
        "Thường xuyên",
        "in_progress",
    ),
    (
        "4.3",
        "Triển khai đồng bộ việc cấp chữ ký số công cộng của người dân trong hoạt động làm sạch sim do doanh nghiệp triển khai thực hiện",
        "",
        "",
        "100% người dân",
        "Trước ngày 15/6/2026",
        "in_progress",
    ),
    (
        "4.4",
        "Triển khai thêm các chính sách ưu đãi, chương trình khuyến mại nhằm gia tăng hiệu quả sử dụng chữ ký số công cộng.",
        "",
        "",
        "Chính sách được thông báo cụ thể đến các đơn vị, các thôn",
        "Tháng 5/2026",
        "not_started",
    ),
    (
        "5",
        "Tổ chức quán triệt, tuyên truyền về lợi ích, yêu cầu trong sử dụng chữ ký số; triển khai gia hạn, cài đặt chữ ký số công cộng cho công chức, viên chức trong các cơ quan, đơn vị trên địa bàn.",
        "Các cơ quan đơn vị trên địa bàn xã",
        "Các doanh nghiệp viễn thông",
        "100% công chức, viên chức, sinh viên, học sinh có chữ ký số công cộng và được tuyên truyền, hướng dẫn sử dụng",
        "Trước 31/7/2026",
        "in_progress",
    ),
    (
        "6",
        "Quán triệt, triển khai đăng ký, cài đặt chữ ký số công cộng cho cán bộ, chiến sĩ lực lượng vũ trang trong Công an xã, Ban Chỉ huy quân sự xã.",
        "Công an xã, Ban Chỉ huy quân sự xã",
        "Các doanh nghiệp viễn thông",
        "100% cán bộ, chiến sĩ lực lượng vũ trang có chữ ký số công cộng",
        "Trước 31/7/2026",
        "done",
    ),
    (
        "7",
        "Tổ chức quán triệt, tuyên truyền về lợi ích, yêu cầu trong sử dụng chữ ký số công cộng; triển khai gia hạn, cài đặt chữ ký số công cộng cho lao động làm việc tại các doanh nghiệp có chữ ký số và được hướng dẫn về lợi ích, yêu cầu, sử dụng chữ ký số công cộng.",
        "Phòng Kinh tế",
        "Các doanh nghiệp viễn thông",
        "Phấn đấu 100% công nhân tại các Khu công nghiệp, Cụm công nghiệp có chữ ký số công cộng và được tuyên truyền, hướng dẫn sử dụng",
        "Trước 31/7/2026",
        "in_progress",
    ),
    (
        "8",
        "Xây dựng và triển khai Kế hoạch cụ thể tổ chức triển khai đợt cao điểm cấp chữ ký số công cộng tại xã, trong đó tập trung chỉ đạo thực hiện một số nội dung sau:\n\
- Tổ chức quán triệt, tuyên truyền, triển khai gia hạn, cài đặt chữ ký số công cộng cho người dân trên địa bàn. Huy động sự tham gia triển khai của các đoàn thể, tổ chức chính trị - xã hội, Tổ Công nghệ số cộng đồng.\n\
- Chỉ đạo các Tổ Công nghệ số cộng đồng tại các thôn phối hợp với doanh nghiệp viễn thông “đi từng ngõ, gõ từng nhà” hướng dẫn, hỗ trợ người dân đăng ký gia hạn, cài đặt, sử dụng chữ ký số công cộng.\n\
- Trung tâm dịch vụ tổng hợp phối hợp tổ chức kết hợp các hoạt động của Thư viện và trung tâm sinh hoạt văn hóa cộng đồng tại xã với việc triển khai cấp chữ ký số công cộng cho người dân.\n\
- Trung tâm Phục vụ hành chính công thuộc phạm vi quản lý chủ động phối hợp với các doanh nghiệp viễn thông hướng dẫn, hỗ trợ người dân đăng ký và sử dụng chữ ký số công cộng trực tiếp tại Trung tâm Phục vụ hành chính công.\n\
- Phối hợp với các doanh nghiệp tổ chức triển khai lồng ghép trong các buổi họp thôn để đảm bảo hiệu quả và tiết kiệm thời gian triển khai.",
        "Phòng Văn hóa – Xã hội; Trung tâm dịch vụ tổng hợp; Trung tâm Phục vụ Hành chính công",
        "Các doanh nghiệp viễn thông",
        "> 63,80% dân số trưởng thành có chữ ký số công cộng và được tuyên truyền, hướng dẫn sử dụng",
        "Trước 31/10/2026",
        "in_progress",
    ),
    (
        "9",
        "Lực lượng công an xã hướng dẫn, hỗ trợ người dân gia hạn, cài đặt, sử dụng chữ ký số công cộng trên ứng dụng VNeID",
        "Công an xã",
        "Các đơn vị, các thôn; các doanh nghiệp viễn thông",
        "> 64% dân số trưởng thành tích hợp chữ ký số công cộng trên ứng dụng VNeID hoặc trên các ứng dụng ký số của doanh nghiệp viễn thông",
        "Thực hiện thường xuyên",
        "in_progress",
    ),
    (
        "10",
        "Hướng dẫn, hỗ trợ người dân, gia hạn, cài đặt, sử dụng chữ ký số công cộng trực tiếp tại Trung tâm Phục vụ hành chính công, phục vụ việc nộp hồ sơ giải quyết TTHC trực tuyến",
        "Trung tâm Phục vụ Hành chính công xã",
        "Các doanh nghiệp viễn thông",
        "Phấn đấu 100% người dân đến làm TTHC phải được tư vấn, hỗ trợ gia hạn, cài đặt chữ ký số công cộng",
        "Thực hiện thường xuyên",
        "in_progress",
    ),
    (
        "11",
        "Báo cáo kết quả, tiến độ triển khai",
        "Công an xã; các doanh nghiệp viễn thông",
        "Phòng Văn hóa – Xã hội",
        "Báo cáo số liệu cụ thể",
        "Trước ngày 20 hàng tháng",
        "in_progress",
    ),
    (
        "12",
        "Hướng dẫn, hỗ trợ người dân đăng ký, cài đặt, sử dụng chữ ký số công cộng khi thực hiện thủ tục hành chính trực tuyến tại Trung tâm PVHHC",
        "Trung tâm Phục vụ hành chính công xã",
        "Các doanh nghiệp viễn thông",
        "Người dân được hỗ trợ trực tiếp khi thực hiện TTHC",
        "Thường xuyên",
        "in_progress",
    ),
];

/// Hưng Yên 2023: about 400,000 certificates by segment, in the assignment order (organisation-
/// linked segments first, adult citizens last).
const HUNG_YEN: [(&str, &str, i64, &str); 6] = [
    ("state_agencies", "Khối cơ quan nhà nước", 15_000, "tagged"),
    ("socio_political", "Khối tổ chức các đoàn thể - chính trị xã hội", 15_000, "tagged"),
    ("public_service", "Khối đơn vị sự nghiệp (Y tế, Giáo dục và Đào tạo, …)", 25_000, "tagged"),
    ("schools", "Khối các trường THPT, Cao đẳng, Đại học", 30_000, "tagged"),
    ("sme_workers", "Khối công nhân trong các doanh nghiệp vừa và nhỏ", 15_000, "tagged"),
    ("adult_citizens", "Người dân trưởng thành", 300_000, "everyone"),
];

/// The commune's staff list: demo residents 540..576 (some hold a demo certificate, some not).
const AGENCIES: [(&str, usize); 4] =
    [("UBND xã Hiệp Lực", 12), ("Công an xã", 8), ("Trạm Y tế xã", 6), ("Trường THCS Hiệp Lực", 10)];

async fn seed_tasks(store: &Store) -> Result<()> {
    if !store.tasks(Some(COMMUNE)).await?.is_empty() {
        return Ok(());
    }
    for (number, name, lead, coordinating, result, deadline, status) in APPENDIX_II {
        let row = TaskRow {
            id: 0,
            unit_code: COMMUNE.into(),
            number: number.into(),
            name: name.into(),
            lead: lead.into(),
            coordinating: coordinating.into(),
            expected_result: result.into(),
            deadline: deadline.into(),
            status: status.into(),
            note: String::new(),
            updated_at: 0,
        };
        store.add_task(&row, &AuditEvent::new("demo", "campaign.task.add", COMMUNE, format!("task {number}"))).await?;
    }
    Ok(())
}

async fn seed_targets(store: &Store) -> Result<()> {
    let set = SegmentSetRow {
        unit_code: "33".into(),
        period: "2023".into(),
        total: 400_000,
        source: "KH triển khai cấp chứng thư số công cộng trên địa bàn tỉnh Hưng Yên (10/2023)".into(),
    };
    let rows: Vec<SegmentRow> = HUNG_YEN
        .iter()
        .map(|(key, name, target, membership)| SegmentRow {
            key: (*key).into(),
            name: (*name).into(),
            target: *target,
            membership: (*membership).into(),
        })
        .collect();
    store.set_segments(&set, &rows, &AuditEvent::new("demo", "campaign.segments.set", "33", "6 segments")).await?;
    let mut staff = Vec::new();
    let mut i = 540;
    for (agency, count) in AGENCIES {
        for _ in 0..count {
            let (id, name) = synthetic_resident(i);
            staff.push(StaffRow {
                unit_code: COMMUNE.into(),
                id_number: id,
                full_name: name,
                agency: agency.into(),
                segment_key: None,
                deadline: Some("2026-07-31".into()),
            });
            i += 1;
        }
    }
    let audit = AuditEvent::new("demo", "campaign.staff.import", COMMUNE, format!("{} staff", staff.len()));
    store.upsert_staff(&staff, &audit).await?;
    Ok(())
}

const DIFFICULTIES: &str = "Một bộ phận người cao tuổi chưa có điện thoại thông minh; nhiều lao động đi làm ăn xa, \
chỉ về vào cuối tuần. Danh sách doanh nghiệp viễn thông gửi chậm, chưa khớp với danh sách dân cư.";
const PROPOSALS: &str = "Đề nghị doanh nghiệp viễn thông bố trí điểm hỗ trợ vào thứ Bảy, Chủ nhật tại nhà văn hóa \
các xóm; đề nghị Công an xã cung cấp danh sách người trên 15 tuổi cập nhật.";

/// The last four weeks as the commune reported them: on time, late, missing, on time; the
/// province on time for the latest week; last month on time when it is already due.
async fn seed_reports(store: &Store) -> Result<()> {
    let now = kyso_store::now();
    let today = data::today().map_err(|e| anyhow!(e))?;
    let rules = data::rules();
    let weeks = periods_back(&rules, &reporting_period(&rules, Frequency::Weekly, today), 4);
    let submit = |unit: &'static str, period: Period, at: time::OffsetDateTime| async move {
        let s = Submission {
            unit,
            period,
            by: if unit == COMMUNE {
                "Đàm Văn Trung, Phó Chủ tịch UBND xã"
            } else {
                "Sở Khoa học và Công nghệ"
            },
            difficulties: DIFFICULTIES,
            proposals: PROPOSALS,
            at: at.unix_timestamp().min(now),
        };
        data::submit(store, &s, "demo").await.map_err(|e| anyhow!(e))
    };
    let due = |p: &Period| rules.due(p);
    submit(COMMUNE, weeks[0], due(&weeks[0]) - Duration::hours(3)).await?;
    submit(PROVINCE, weeks[0], due(&weeks[0]) + Duration::hours(2)).await?;
    submit(COMMUNE, weeks[1], due(&weeks[1]) + Duration::hours(26)).await?;
    // weeks[2]: nothing (missing).
    submit(COMMUNE, weeks[3], due(&weeks[3]) - Duration::minutes(30)).await?;
    let month = reporting_period(&rules, Frequency::Monthly, today);
    if due(&month).unix_timestamp() < now {
        submit(COMMUNE, month, due(&month) - Duration::days(2)).await?;
    }
    Ok(())
}

/// Seeds once; needs the campaign seed (units, register, plan) first.
pub async fn seed(store: &Store) -> Result<()> {
    if store.setting(SEEDED).await?.is_some() {
        return Ok(());
    }
    seed_tasks(store).await?;
    seed_targets(store).await?;
    seed_reports(store).await?;
    store.commit(&[Write::Setting { name: SEEDED.into(), value: kyso_store::now().to_string() }]).await?;
    eprintln!("demo reports seeded: Appendix II tasks, a staff list, Hưng Yên's segments, four weeks of reports");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_campaign::tasks::{parse_deadline, TaskStatus};

    #[test]
    fn appendix_ii_deadlines_and_statuses_read() {
        let numbers: Vec<&str> = APPENDIX_II.iter().map(|t| t.0).collect();
        assert_eq!(
            numbers,
            ["1", "2", "3", "4", "4.1", "4.2", "4.3", "4.4", "5", "6", "7", "8", "9", "10", "11", "12"]
        );
        for (number, _, _, _, _, deadline, status) in APPENDIX_II {
            assert!(parse_deadline(deadline).is_ok(), "task {number}: {deadline}");
            assert!(TaskStatus::parse(status).is_some(), "task {number}: {status}");
        }
        assert_eq!(HUNG_YEN.iter().map(|s| s.2).sum::<i64>(), 400_000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_reports_show_on_time_late_and_missing() {
        let (dir, auth) = crate::demo::with_residents("demo-reports").await;
        crate::demo::campaign::seed(&dir, &auth).await.unwrap();
        seed(&auth.store).await.unwrap();
        let store = &auth.store;
        assert_eq!(store.tasks(Some(COMMUNE)).await.unwrap().len(), 16);
        let rules = data::rules();
        let last = reporting_period(&rules, Frequency::Weekly, data::today().unwrap());
        let now = data::instant(kyso_store::now());
        let weeks = data::completeness(store, PROVINCE, &last, 4, now).await.unwrap();
        let status: Vec<&str> = weeks.iter().map(|r| r.rows[0].status.name()).collect();
        assert_eq!(status, ["on_time", "late", "missing", "on_time"]);
        assert_eq!(weeks[0].total.adults, crate::demo::ADULTS as u64);
        let national = data::rollup(store, data::NATIONAL, &last, now).await.unwrap().0;
        assert_eq!(national.rows.len(), 1);
        assert!(national.rows[0].figures.is_some());
        let staff = data::staff_progress(store, data::today().unwrap()).await.unwrap();
        let listed: u64 = staff[0].agencies.iter().map(|a| a.staff).sum();
        let holders: u64 = staff[0].agencies.iter().map(|a| a.holders).sum();
        assert_eq!(listed, 36);
        assert!(holders > 0 && holders < listed, "{holders} of {listed}");
        let segments = data::segment_progress(store, data::today().unwrap()).await.unwrap();
        assert_eq!(segments.len(), 1);
        assert!(segments[0].2.iter().all(|s| s.holders.is_none()), "Hưng Yên has no count source in the demo");
        auth.store.close().await;
        let _ = std::fs::remove_dir_all(&dir.path);
    }
}
