//! The reaching-people part of `kyso serve --demo` (issue 21) for Hiệp Lực: the hotline's number
//! and hours, its FAQ and this week's question log; a community team's roster and a training
//! session of staff and volunteers; the commune police, the Fatherland Front and VNPT reporting
//! beside the administrative units; and the province's review of the commune's weekly reports
//! (three weeks ago approved, last week's predecessor returned with a reason, the latest awaiting
//! approval so that it can still be corrected and resubmitted). Idempotent; after the reports'
//! seed.

use super::synthetic_resident;
use anyhow::{anyhow, Result};
use kyso_campaign::approval::Decision;
use kyso_campaign::deadlines::Frequency;
use kyso_campaign::reports::{periods_back, reporting_period};
use kyso_store::training::TeamMemberRow;
use kyso_store::{AuditEvent, Store, Write};
use kyso_tracker::hotline::{self, CallInput};
use kyso_tracker::reports as data;
use kyso_tracker::training::{self, Attendee, NewSession};

const COMMUNE: &str = "01960";
const SEEDED: &str = "demo_reach_seeded";

/// (topic, question, answer): the guidance page's questions, kept as FAQ entries staff can edit.
const FAQ: [(&str, &str, &str); 7] = [
    ("renewal", "Chứng thư có hiệu lực bao lâu?", "Tối đa 3 năm; nhà cung cấp thường miễn phí năm đầu. Gia hạn trong mục Chứng thư số của tôi; chữ ký đã ký trước đó vẫn giữ giá trị."),
    ("pin", "Nhập sai mã PIN nhiều lần thì sao?", "Sau 5 lần sai (PIN hoặc mã OTP), chứng thư bị khóa để bảo vệ bạn. Đến điểm hỗ trợ để cán bộ xác thực trực tiếp và mở khóa."),
    ("pin", "Mất điện thoại hoặc nghi lộ mã PIN?", "Thu hồi chứng thư ngay trong mục Chứng thư số của tôi hoặc tại điểm hỗ trợ, rồi tạo chứng thư mới."),
    ("pin", "Cán bộ có hỏi mã PIN của tôi không?", "Không bao giờ. Không đưa mã PIN, mã OTP hay mã QR của ứng dụng xác thực cho bất kỳ ai, kể cả người hỗ trợ."),
    ("fees", "Chữ ký số có mất phí không?", "Năm đầu miễn phí với các nhà cung cấp tham gia đợt cao điểm; sau đó tùy gói. Hỏi cán bộ tại điểm hỗ trợ."),
    ("eid_level2", "Vì sao cần định danh điện tử mức 2?", "Chữ ký số công cộng chỉ cấp cho tài khoản định danh điện tử mức 2. Đến Công an xã hoặc điểm hỗ trợ với thẻ căn cước gắn chip để được xác thực."),
    ("sign", "Dùng chữ ký số để ký hồ sơ dịch vụ công thế nào?", "Đăng nhập Cổng dịch vụ công, chọn ký số khi nộp hồ sơ, xác nhận bằng mã PIN trên điện thoại. Xem các bước ở đầu trang này."),
];

/// (topic, question, caller, resolved): this week's log.
const CALLS: [(&str, &str, &str, bool); 6] = [
    ("eid_level2", "Hỏi nơi xác thực tài khoản mức 2", "0912345678", true),
    ("eid_level2", "Tài khoản VNeID chưa lên mức 2 sau khi làm căn cước", "0987654321", false),
    ("pin", "Quên mã PIN, chứng thư bị khóa", "019195000003", true),
    ("fees", "Hỏi chi phí sau năm đầu", "", true),
    ("support_point", "Hỏi giờ mở cửa điểm hỗ trợ ở chợ", "0911222333", true),
    ("eid_level2", "Người già không tự đến Công an xã được", "0900111222", false),
];

pub async fn seed(store: &Store) -> Result<()> {
    if store.setting(SEEDED).await?.is_some() {
        return Ok(());
    }
    hotline::set_info(store, "1900 6868", "Thứ Hai – Thứ Bảy, 7:30–11:30 và 13:30–20:00", "demo")
        .await
        .map_err(|e| anyhow!(e))?;
    for (topic, question, answer) in FAQ {
        hotline::save_faq(store, 0, topic, question, answer, "demo").await.map_err(|e| anyhow!(e))?;
    }
    let now = kyso_store::now();
    for (i, (topic, question, caller, resolved)) in CALLS.into_iter().enumerate() {
        let input = CallInput { unit: COMMUNE, topic, question, caller, resolved, at: now - 3600 * i as i64 };
        hotline::log_call(store, &input, "tongdai").await.map_err(|e| anyhow!(e))?;
    }
    seed_training(store).await?;
    seed_approvals(store).await?;
    store.commit(&[Write::Setting { name: SEEDED.into(), value: now.to_string() }]).await?;
    eprintln!(
        "demo reaching people seeded: hotline hours, {} FAQ entries, {} questions; a team and a training session; \
         agencies; a weekly report approved and one returned",
        FAQ.len(),
        CALLS.len()
    );
    Ok(())
}

/// The residents on Hiệp Lực's community digital-technology teams (one per hamlet group).
const TEAM: std::ops::Range<usize> = 600..612;

async fn seed_training(store: &Store) -> Result<()> {
    let members: Vec<TeamMemberRow> = TEAM
        .map(|i| {
            let (id, name) = synthetic_resident(i);
            let team = if i % 2 == 0 {
                "Tổ công nghệ số cộng đồng xóm Đồng Tâm"
            } else {
                "Tổ công nghệ số cộng đồng xóm Làng Mới"
            };
            TeamMemberRow { unit_code: COMMUNE.into(), id_number: id, full_name: name, team: team.into() }
        })
        .collect();
    let audit = AuditEvent::new("demo", "campaign.team.import", COMMUNE, format!("{} members", members.len()));
    store.upsert_team_members(&members, &audit).await?;
    // Twenty of the commune's listed staff and eight of the team, a week ago.
    let staff = store.staff(Some(COMMUNE)).await?;
    let mut people: Vec<(String, String, &str)> =
        staff.iter().take(20).map(|r| (r.id_number.clone(), r.full_name.clone(), "staff")).collect();
    people.extend(members.iter().take(8).map(|m| (m.id_number.clone(), m.full_name.clone(), "volunteer")));
    let attendees: Vec<Attendee<'_>> =
        people.iter().map(|(id, name, kind)| Attendee { id_number: id, full_name: name, kind }).collect();
    let held = kyso_tracker::read::vn_date(kyso_store::now() - 7 * 86_400);
    let session = NewSession {
        unit: COMMUNE,
        held_on: &held,
        trainer: "VNPT Thái Nguyên và Công an xã Hiệp Lực",
        topic: "Hướng dẫn định danh điện tử mức 2, đăng ký và kích hoạt chữ ký số công cộng",
    };
    training::record_session(store, &session, &attendees, "canbo.xa").await.map_err(|e| anyhow!(e))?;
    Ok(())
}

async fn seed_approvals(store: &Store) -> Result<()> {
    for (code, name, kind) in [
        ("01960-CA", "Công an xã Hiệp Lực", "police"),
        ("01960-MTTQ", "Ủy ban Mặt trận Tổ quốc xã Hiệp Lực", "mass_org"),
        ("19-VNPT", "VNPT Thái Nguyên", "telecom"),
    ] {
        kyso_tracker::approval::add_agency(store, code, name, kind, "demo").await.map_err(|e| anyhow!(e))?;
    }
    let rules = data::rules();
    let today = data::today().map_err(|e| anyhow!(e))?;
    let weeks = periods_back(&rules, &reporting_period(&rules, Frequency::Weekly, today), 4);
    // The commune police report the latest week beside the commune.
    let police = data::Submission {
        unit: "01960-CA",
        period: weeks[0],
        by: "Trung tá Hoàng Văn Đức, Trưởng Công an xã",
        difficulties: "Nhiều người cao tuổi chưa tự kích hoạt được tài khoản định danh điện tử mức 2.",
        proposals: "Tổ chức xác thực lưu động tại nhà văn hóa các xóm vào cuối tuần.",
        at: kyso_store::now().min((rules.due(&weeks[0]) - time::Duration::hours(1)).unix_timestamp()),
    };
    data::submit(store, &police, "demo").await.map_err(|e| anyhow!(e))?;
    let review = |unit: &'static str, period, decision: Decision| async move {
        kyso_tracker::approval::decide(store, unit, &period, &decision, "staff:canbo.tinh")
            .await
            .map_err(|e| anyhow!("{e}"))
    };
    review(
        COMMUNE,
        weeks[1],
        Decision::Return {
            reason: "Số lượt đến từng nhà chưa khớp sổ theo dõi của tổ công nghệ số; đề nghị rà soát và nộp lại."
                .into(),
        },
    )
    .await?;
    review(COMMUNE, weeks[3], Decision::Approve).await?;
    Ok(())
}
