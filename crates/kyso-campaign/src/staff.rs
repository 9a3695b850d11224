//! Staff lists for 100 %-of-staff targets (Hiệp Lực: every civil servant, public employee and
//! worker of the commune, armed forces included, by 31/7) and the progress of segment targets.
//!
//! A staff list is the CSV an agency sends: ID number, full name, agency. A listed person counts
//! toward the target while they hold a valid certificate; segments take a holder once, by the
//! plan's ordered rule ([`crate::plan::SegmentPlan::assign`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use time::Date;

use crate::adoption::CertificateEvent;
use crate::csv::{import, Column, ImportReport, RowIssue};
use crate::plan::{Membership, SegmentPlan};
use crate::population::CitizenId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: CitizenId,
    pub full_name: String,
    pub agency: String,
}

fn staff_columns() -> [Column; 3] {
    let c = |name, aliases, required| Column { name, aliases, required };
    [
        c(
            "id_number",
            &["so_dinh_danh", "id_number", "so_cccd", "cccd", "so_can_cuoc", "so_dinh_danh_ca_nhan", "ma_dinh_danh"],
            true,
        ),
        c("full_name", &["ho_va_ten", "ho_ten", "full_name", "name"], true),
        c("agency", &["co_quan", "don_vi", "co_quan_don_vi", "agency", "organisation", "organization"], true),
    ]
}

/// Parses a staff list. Rows are rejected for a bad ID number, an empty name or agency, or a
/// person listed twice (by row number; numbers masked in every message).
pub fn parse_staff_csv(input: &str) -> ImportReport<StaffMember> {
    let mut seen: HashMap<CitizenId, usize> = HashMap::new();
    import(input, &staff_columns(), |c, r, _| {
        let issue = |field, reason: String| RowIssue::new(r.row, Some(field), reason);
        let id = CitizenId::parse(c.get(r, "id_number").unwrap_or("")).map_err(|e| issue("id_number", e))?;
        let full_name = c.get(r, "full_name").ok_or_else(|| issue("full_name", "empty".into()))?.to_owned();
        let agency = c.get(r, "agency").ok_or_else(|| issue("agency", "empty".into()))?.to_owned();
        if let Some(first) = seen.get(&id) {
            return Err(issue("id_number", format!("{} is a duplicate of row {first}", id.masked())));
        }
        seen.insert(id.clone(), r.row);
        Ok(StaffMember { id, full_name, agency })
    })
}

/// Whether a certificate counts on `date`: issued by then, not yet expired or revoked.
pub fn valid_on(event: &CertificateEvent, date: Date) -> bool {
    let end = match (event.expires, event.revoked) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    event.issued <= date && end.is_none_or(|e| date < e)
}

/// The distinct people holding at least one valid certificate on `date`.
pub fn holders_on<'e>(events: impl IntoIterator<Item = &'e CertificateEvent>, date: Date) -> HashSet<CitizenId> {
    events.into_iter().filter(|e| valid_on(e, date)).map(|e| e.id.clone()).collect()
}

/// One agency's progress toward 100 % of its staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyProgress {
    pub agency: String,
    pub staff: u64,
    pub holders: u64,
}

impl AgencyProgress {
    pub fn missing(&self) -> u64 {
        self.staff - self.holders
    }
}

/// Staff and holders per agency, in agency order.
pub fn agency_progress<'m>(
    members: impl IntoIterator<Item = &'m StaffMember>,
    holders: &HashSet<CitizenId>,
) -> Vec<AgencyProgress> {
    let mut by: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for m in members {
        let e = by.entry(m.agency.as_str()).or_default();
        e.0 += 1;
        e.1 += u64::from(holders.contains(&m.id));
    }
    by.into_iter()
        .map(|(agency, (staff, holders))| AgencyProgress { agency: agency.to_owned(), staff, holders })
        .collect()
}

/// Holders counted in a segment, or `None` when there is nothing to count them from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentProgress {
    pub key: String,
    pub name: String,
    pub target: u64,
    pub holders: Option<u64>,
}

/// Progress of each segment. Tagged segments count from the staff lists mapped to them (`listed`:
/// the keys some list is mapped to; `tagged`: each listed holder with the segment keys of their
/// lists); the catch-all counts the
/// register's holders (`register_holders`, `None` without a register) less the register holders
/// that a tagged segment already took (`register_tagged`). A tagged segment with no list mapped to
/// it has no data.
pub fn segment_progress(
    plan: &SegmentPlan,
    listed: &HashSet<&str>,
    tagged: &[HashSet<&str>],
    register_holders: Option<u64>,
    register_tagged: u64,
) -> Vec<SegmentProgress> {
    let tally = plan.tally(tagged.iter().filter(|t| !t.is_empty()));
    plan.segments
        .iter()
        .map(|s| {
            let holders = match s.membership {
                Membership::Tagged => listed.contains(s.key.as_str()).then(|| tally.counts[&s.key]),
                Membership::Everyone => register_holders.map(|n| n.saturating_sub(register_tagged)),
            };
            SegmentProgress { key: s.key.clone(), name: s.name.clone(), target: s.target, holders }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn staff_list_rows_are_checked_and_masked() {
        let csv = "Số định danh,Họ và tên,Cơ quan\n019190000001,Nguyễn Thị An,UBND xã\n12345,Sai Số,UBND xã\n\
019190000001,Trùng,Công an xã\n019085000002,,Công an xã\n019085000003,Lê Văn Ba,Công an xã\n";
        let report = parse_staff_csv(csv);
        assert_eq!(report.items.len(), 2);
        let rows: Vec<_> = report.errors.iter().map(|e| (e.row, e.field)).collect();
        assert_eq!(rows, [(3, Some("id_number")), (4, Some("id_number")), (5, Some("full_name"))]);
        let all = format!("{:?}", report.errors);
        assert!(all.contains("0191****0001") && !all.contains("019190000001"), "{all}");
        assert!(parse_staff_csv("Họ và tên,Cơ quan\nAn,UBND\n").errors[0].field == Some("id_number"));
    }

    #[test]
    fn staff_count_while_their_certificate_is_valid() {
        let id = |n: u32| CitizenId::parse(&format!("019190{n:06}")).unwrap();
        let member = |n, agency: &str| StaffMember { id: id(n), full_name: "x".into(), agency: agency.into() };
        let members = [member(1, "UBND xã"), member(2, "UBND xã"), member(3, "Công an xã"), member(4, "Công an xã")];
        let cert = |n, issued, expires, revoked| CertificateEvent {
            id: id(n),
            provider: "VNPT".into(),
            serial: None,
            issued,
            expires,
            revoked,
        };
        let events = [
            cert(1, d(2026, 5, 2), Some(d(2027, 5, 2)), None),
            cert(2, d(2026, 5, 2), None, Some(d(2026, 7, 1))),
            cert(3, d(2026, 7, 20), None, None),
            cert(9, d(2026, 5, 2), None, None),
        ];
        let on = |date| agency_progress(&members, &holders_on(&events, date));
        let july = on(d(2026, 7, 31));
        assert_eq!(july[0], AgencyProgress { agency: "Công an xã".into(), staff: 2, holders: 1 });
        assert_eq!(july[1], AgencyProgress { agency: "UBND xã".into(), staff: 2, holders: 1 });
        assert_eq!(on(d(2026, 6, 30))[1].holders, 2);
        assert_eq!(on(d(2026, 5, 1)).iter().map(|a| a.holders).sum::<u64>(), 0);
        assert_eq!(july[0].missing(), 1);
        // The revocation day itself no longer counts; the expiry day neither.
        assert!(!valid_on(&events[1], d(2026, 7, 1)));
        assert!(!valid_on(&events[0], d(2027, 5, 2)) && valid_on(&events[0], d(2027, 5, 1)));
    }

    #[test]
    fn segments_count_where_there_is_a_source() {
        let plan = SegmentPlan::of(
            400_000,
            &[
                ("state_agencies", 15_000, Membership::Tagged),
                ("public_service", 25_000, Membership::Tagged),
                ("schools", 30_000, Membership::Tagged),
                ("adult_citizens", 300_000, Membership::Everyone),
            ],
        );
        let tags = |keys: &[&'static str]| keys.iter().copied().collect::<HashSet<&str>>();
        // Two listed holders in state agencies, one teacher listed both as school and public service.
        let tagged = [tags(&["state_agencies"]), tags(&["state_agencies"]), tags(&["schools", "public_service"])];
        let p =
            segment_progress(&plan, &tags(&["state_agencies", "public_service", "schools"]), &tagged, Some(1_000), 2);
        let got: Vec<_> = p.iter().map(|s| (s.key.as_str(), s.holders)).collect();
        assert_eq!(
            got,
            [
                ("state_agencies", Some(2)),
                ("public_service", Some(1)),
                ("schools", Some(0)),
                ("adult_citizens", Some(998))
            ]
        );
        let none = segment_progress(&plan, &HashSet::new(), &[], None, 0);
        assert!(none.iter().all(|s| s.holders.is_none()));
    }
}
