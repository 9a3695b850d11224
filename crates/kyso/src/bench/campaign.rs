//! `kyso bench campaign-data`: a synthetic national register and provider list for the campaign
//! benchmark (scripts/bench-campaign.sh), deterministic for a seed; and `kyso bench campaign`:
//! the all-communes roll-up latency and one commune's worklists on an imported data directory.
//!
//! Files written to `--out`: `admin-units.csv` (a copy of the real 3,321 communes), `hamlets.csv`
//! (6–14 per commune), `register.csv` (12-digit ID numbers whose century/sex digit and birth year
//! agree with the row) and `provider-list.csv` (mixed providers, expiries, revoked and expired
//! rows, a share of ID numbers not in the register and of repeated rows). Nothing is printed
//! about individual people.

use anyhow::{bail, Context, Result};
use serde_json::json;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::Instant;

/// SplitMix64: small, fast, and the same stream on every machine for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"];
const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Đức", "Thanh", "Minh", "Ngọc", "Quốc", "Thu", "Hồng"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai",
    "Nam", "Nga", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến",
];
const PROVIDERS: &[(&str, u64)] =
    &[("VNPT-CA", 380), ("VIETTEL-CA", 300), ("MOBIFONE-CA", 120), ("FPT-CA", 80), ("BKAV-CA", 70), ("CA2", 50)];

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix day number of a civil date (Howard Hinnant), and back.
fn day_number(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn iso(day: i64) -> String {
    kyso_tracker::read::civil(day)
}

struct Commune {
    province: String,
    code: String,
    hamlets: u32,
    weight: u64,
}

/// Reads the communes of an admin-units CSV (province code, commune code, commune type).
fn communes(text: &str, rng: &mut Rng) -> Result<Vec<Commune>> {
    let mut out = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 5 {
            bail!("admin units: a line with {} fields", f.len());
        }
        // Wards are denser than rural communes and special zones.
        let weight = match f[4] {
            "Phường" => 140 + rng.below(120),
            "Đặc khu" => 20 + rng.below(40),
            _ => 60 + rng.below(80),
        };
        out.push(Commune {
            province: f[0].to_owned(),
            code: f[2].to_owned(),
            hamlets: 6 + rng.below(9) as u32,
            weight,
        });
    }
    Ok(out)
}

/// One resident kept in memory for drawing certificate holders: the ID and birth year.
struct Person {
    id: [u8; 12],
    born: u16,
}

pub fn data(units: &Path, residents: u64, list: u64, seed: u64, out: &Path) -> Result<()> {
    let start = Instant::now();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let text = std::fs::read_to_string(units).with_context(|| format!("cannot read {}", units.display()))?;
    std::fs::write(out.join("admin-units.csv"), &text)?;
    let mut rng = Rng(seed);
    let communes = communes(&text, &mut rng)?;
    if communes.is_empty() {
        bail!("no communes in {}", units.display());
    }

    let mut w = BufWriter::new(std::fs::File::create(out.join("hamlets.csv"))?);
    writeln!(w, "commune_code,hamlet_code,hamlet_name")?;
    let mut hamlets = 0u64;
    for c in &communes {
        for h in 1..=c.hamlets {
            writeln!(w, "{},T{h:02},Thôn {h}", c.code)?;
            hamlets += 1;
        }
    }
    w.flush()?;

    // Residents per commune in proportion to the weights (the remainder to the first communes).
    let total_weight: u64 = communes.iter().map(|c| c.weight).sum();
    let mut counts: Vec<u64> = communes.iter().map(|c| residents * c.weight / total_weight).collect();
    let short = residents - counts.iter().sum::<u64>();
    for c in counts.iter_mut().take(short as usize) {
        *c += 1;
    }

    // ID numbers: PPP (birth province) G (sex and century) YY (birth year) NNNNNN. Serials count
    // up per (PPP, G, YY) below 900000; 9xxxxx serials are left for IDs absent from the register.
    let mut serials: std::collections::HashMap<(u16, u8, u8), u32> = std::collections::HashMap::new();
    let mut people: Vec<Person> = Vec::with_capacity(residents as usize);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out.join("register.csv"))?);
    writeln!(w, "id_number,full_name,date_of_birth,sex,hamlet_code,household,commune_code")?;
    for (c, &n) in communes.iter().zip(&counts) {
        let province: u16 = c.province.parse().unwrap_or(1);
        let mut household = 0u64;
        let mut left_in_household = 0;
        for _ in 0..n {
            if left_in_household == 0 {
                household += 1;
                left_in_household = 1 + rng.below(6);
            }
            left_in_household -= 1;
            // Ages 0–90, fewer of the oldest.
            let age = if rng.chance(850) { rng.below(70) } else { 70 + rng.below(21) };
            let year = 2026 - age as i32;
            let month = 1 + rng.below(12) as u32;
            let day = 1 + rng.below(u64::from(days_in_month(year, month))) as u32;
            let female = rng.chance(505);
            let g = ((year / 100 - 19) * 2) as u8 + u8::from(female);
            let birth_province = if rng.chance(900) { province } else { 1 + rng.below(96) as u16 };
            let yy = (year % 100) as u8;
            let serial = serials.entry((birth_province, g, yy)).or_insert(0);
            *serial += 1;
            if *serial >= 900_000 {
                bail!("too many residents for one (province, sex, year): use fewer residents");
            }
            let id = format!("{birth_province:03}{g}{yy:02}{:06}", *serial);
            let name = format!(
                "{} {} {}",
                FAMILY[rng.below(FAMILY.len() as u64) as usize],
                MIDDLE[rng.below(MIDDLE.len() as u64) as usize],
                GIVEN[rng.below(GIVEN.len() as u64) as usize]
            );
            let hamlet = 1 + rng.below(u64::from(c.hamlets));
            writeln!(
                w,
                "{id},{name},{year:04}-{month:02}-{day:02},{},T{hamlet:02},H{household:05},{}",
                if female { "F" } else { "M" },
                c.code
            )?;
            let mut bytes = [0u8; 12];
            bytes.copy_from_slice(id.as_bytes());
            people.push(Person { id: bytes, born: year as u16 });
        }
    }
    w.flush()?;

    // The provider list: 5 % of rows name an ID number not in the register, 3 % repeat an
    // earlier row, about 8 % of holders have a second certificate from another provider.
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out.join("provider-list.csv"))?);
    writeln!(w, "id_number,provider,issue_date,expiry_date,status,revoked_date")?;
    let first_issue = day_number(2024, 1, 1);
    let last_issue = day_number(2026, 11, 20);
    let mut recent: Vec<String> = Vec::with_capacity(4096);
    let (mut unknown, mut repeated, mut revoked, mut expired) = (0u64, 0u64, 0u64, 0u64);
    let mut previous: Option<[u8; 12]> = None;
    for i in 0..list {
        if rng.chance(30) && !recent.is_empty() {
            let line = recent[rng.below(recent.len() as u64) as usize].clone();
            w.write_all(line.as_bytes())?;
            repeated += 1;
            continue;
        }
        let id: String = if rng.chance(52) {
            unknown += 1;
            let g = rng.below(4);
            format!("{:03}{g}{:02}{}", 1 + rng.below(96), rng.below(100), 900_000 + rng.below(100_000))
        } else {
            let second = previous.filter(|_| rng.chance(80));
            let bytes = match second {
                Some(b) => b,
                None => loop {
                    let p = &people[rng.below(people.len() as u64) as usize];
                    if p.born <= 2011 {
                        break p.id;
                    }
                },
            };
            previous = Some(bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let mut pick = rng.below(1000);
        let provider = PROVIDERS
            .iter()
            .find(|(_, share)| {
                let hit = pick < *share;
                pick = pick.saturating_sub(*share);
                hit
            })
            .map_or("VNPT-CA", |p| p.0);
        let issued = first_issue + rng.below((last_issue - first_issue) as u64) as i64;
        let years = 1 + rng.below(3) as i64;
        let expiry = if rng.chance(900) { Some(issued + 365 * years) } else { None };
        let (status, revoked_on) = if rng.chance(30) {
            revoked += 1;
            ("revoked", Some((issued + 1 + rng.below(300) as i64).min(last_issue)))
        } else if expiry.is_some_and(|e| e <= last_issue) || rng.chance(10) {
            expired += 1;
            ("expired", None)
        } else {
            ("active", None)
        };
        let line = format!(
            "{id},{provider},{},{},{status},{}\n",
            iso(issued),
            expiry.map(iso).unwrap_or_default(),
            revoked_on.map(iso).unwrap_or_default()
        );
        w.write_all(line.as_bytes())?;
        if recent.len() < 4096 {
            recent.push(line);
        } else {
            recent[(i % 4096) as usize] = line;
        }
    }
    w.flush()?;
    let summary = json!({"communes": communes.len(), "hamlets": hamlets, "residents": residents, "list_rows": list,
        "unknown_ids": unknown, "repeated_rows": repeated, "revoked": revoked, "expired": expired,
        "seed": seed, "seconds": start.elapsed().as_secs_f64(), "out": out.display().to_string()});
    println!("{summary}");
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// On an imported data directory: the all-communes roll-up (`Store::adoption_rollup`, what
/// `kyso campaign adoption` prints) `runs` times, and every hamlet's worklist of one commune.
pub async fn run(store: &kyso_store::Store, date: &str, commune: &str, runs: usize) -> Result<()> {
    let mut ms = Vec::with_capacity(runs);
    let mut communes = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let rows = store.adoption_rollup(date).await?;
        let provinces = crate::campaign_cli::by_province(&rows);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        communes = rows.len();
        std::hint::black_box(provinces);
    }
    ms.sort_by(f64::total_cmp);
    let hamlets = store.hamlets(commune).await?;
    let t = Instant::now();
    let mut entries = 0;
    for h in &hamlets {
        entries += crate::campaign_cli::worklist_lines(store, commune, &h.code, date).await?.len();
    }
    let worklist_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    crate::campaign_cli::load(store, commune, None).await?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}",
        json!({"rollup": {"communes": communes, "runs": ms.len(), "p50_ms": percentile(&ms, 0.5),
            "p99_ms": percentile(&ms, 0.99), "max_ms": ms[ms.len() - 1]},
            "worklist": {"commune": commune, "hamlets": hamlets.len(), "entries": entries, "ms": worklist_ms},
            "live_load_one_commune_ms": load_ms})
    );
    Ok(())
}
