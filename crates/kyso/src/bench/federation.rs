//! The nation partitioned and federated, at scale (scripts/bench-federation.sh, issue 20 item 4).
//!
//! `kyso bench federation-split`: a national data set from `kyso bench campaign-data` cut into
//! one directory per province (its communes, hamlets, residents, and the provider-list rows of its
//! residents; rows whose ID number is in no register go to a province chosen by the number), each
//! to be imported into that province's own kyso database. `kyso bench federation`: on a
//! coordinator with the provinces attached, the national roll-up's (live, and from the
//! coordinator's copy) and ranking's latency over N runs, one person found across the nation, the register per province, and one commune's
//! worklists through its province's database.

use anyhow::{bail, Context, Result};
use kyso_store::federation::Coordinator;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// Lines of a CSV file after its header, with the header.
fn lines(path: &Path) -> Result<(String, impl Iterator<Item = std::io::Result<Vec<u8>>>)> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path).with_context(|| format!("{}", path.display()))?);
    let mut header = String::new();
    r.read_line(&mut header)?;
    Ok((header, r.split(b'\n')))
}

fn field(line: &[u8], i: usize) -> &[u8] {
    line.split(|&b| b == b',').nth(i).unwrap_or(b"")
}

fn last_field(line: &[u8]) -> &[u8] {
    line.rsplit(|&b| b == b',').next().unwrap_or(b"")
}

fn id_of(line: &[u8]) -> Option<u64> {
    std::str::from_utf8(field(line, 0)).ok()?.parse().ok()
}

/// One writer per province, each file with the header.
struct PerProvince {
    files: Vec<BufWriter<File>>,
    rows: Vec<u64>,
}

impl PerProvince {
    fn create(out: &Path, provinces: &[String], name: &str, header: &str) -> Result<PerProvince> {
        let mut files = Vec::new();
        for p in provinces {
            let dir = out.join(p);
            std::fs::create_dir_all(&dir)?;
            let mut w = BufWriter::with_capacity(1 << 20, File::create(dir.join(name))?);
            w.write_all(header.as_bytes())?;
            files.push(w);
        }
        Ok(PerProvince { rows: vec![0; files.len()], files })
    }

    fn write(&mut self, p: usize, line: &[u8]) -> Result<()> {
        self.files[p].write_all(line)?;
        self.files[p].write_all(b"\n")?;
        self.rows[p] += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<u64>> {
        for f in &mut self.files {
            f.flush()?;
        }
        Ok(self.rows)
    }
}

pub fn split(data: &Path, out: &Path) -> Result<()> {
    let start = Instant::now();
    // communes → province index
    let (header, rows) = lines(&data.join("admin-units.csv"))?;
    let mut units: Vec<(String, Vec<u8>)> = Vec::new();
    for line in rows {
        let line = line?;
        if !line.is_empty() {
            units.push((String::from_utf8_lossy(field(&line, 0)).into_owned(), line));
        }
    }
    let provinces: Vec<String> =
        units.iter().map(|(p, _)| p.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    if provinces.is_empty() {
        bail!("no communes in {}", data.display());
    }
    let index = |p: &str| provinces.iter().position(|x| x == p).unwrap_or(0);
    let mut w = PerProvince::create(out, &provinces, "admin-units.csv", &header)?;
    let mut commune: HashMap<Vec<u8>, usize> = HashMap::new();
    for (p, line) in &units {
        commune.insert(field(line, 2).to_vec(), index(p));
        w.write(index(p), line)?;
    }
    w.finish()?;
    let (header, rows) = lines(&data.join("hamlets.csv"))?;
    let mut w = PerProvince::create(out, &provinces, "hamlets.csv", &header)?;
    for line in rows {
        let line = line?;
        if let Some(&p) = commune.get(field(&line, 0)) {
            w.write(p, &line)?;
        }
    }
    w.finish()?;
    // residents by their commune (the last column); their ID numbers remembered for the list
    let (header, rows) = lines(&data.join("register.csv"))?;
    let mut w = PerProvince::create(out, &provinces, "register.csv", &header)?;
    let mut holder: HashMap<u64, u8> = HashMap::new();
    for line in rows {
        let line = line?;
        let Some(&p) = commune.get(last_field(&line)) else { continue };
        if let Some(id) = id_of(&line) {
            holder.insert(id, p as u8);
        }
        w.write(p, &line)?;
    }
    let residents = w.finish()?;
    let (header, rows) = lines(&data.join("provider-list.csv"))?;
    let mut w = PerProvince::create(out, &provinces, "provider-list.csv", &header)?;
    let mut unknown = 0u64;
    for line in rows {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let id = id_of(&line).unwrap_or(0);
        let p = match holder.get(&id) {
            Some(&p) => usize::from(p),
            None => {
                unknown += 1;
                (id % provinces.len() as u64) as usize
            }
        };
        w.write(p, &line)?;
    }
    let list = w.finish()?;
    let per: BTreeMap<&String, (u64, u64)> =
        provinces.iter().enumerate().map(|(i, p)| (p, (residents[i], list[i]))).collect();
    println!(
        "{}",
        json!({"provinces": provinces.len(), "residents": residents.iter().sum::<u64>(), "list_rows": list.iter().sum::<u64>(),
            "list_rows_in_no_register": unknown, "per_province": per, "seconds": start.elapsed().as_secs_f64()})
    );
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn timing(ms: &mut [f64]) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    json!({"runs": ms.len(), "p50_ms": percentile(ms, 0.5), "p99_ms": percentile(ms, 0.99), "max_ms": ms[ms.len() - 1]})
}

pub struct Options<'a> {
    pub coordinator_url: &'a str,
    pub date: &'a str,
    pub runs: usize,
    pub province_url: Option<&'a str>,
    pub commune: Option<&'a str>,
    pub people: usize,
    pub concurrent: bool,
}

pub async fn run(o: Options<'_>) -> Result<()> {
    let coord = Coordinator::connect(o.coordinator_url).await?;
    coord.set_concurrent(o.concurrent).await?;
    let provinces = coord.provinces().await?;
    let plan = coord.explain_rollup(o.date).await?;
    let runs = o.runs.max(1);
    // the roll-up: warmed (each province's connection opened), then timed
    let first = coord.rollup(o.date).await?;
    if !first.one_query || !first.unavailable.is_empty() {
        bail!("the roll-up did not answer as one query: {:?}", first.unavailable);
    }
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = coord.rollup(o.date).await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(r);
    }
    let rollup = timing(&mut ms);
    // the coordinator's copy, refreshed from the live query, then read
    let t = Instant::now();
    coord.refresh_rollup(o.date, kyso_calendar::now().unix_timestamp()).await?;
    let refresh_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut ms = Vec::with_capacity(runs);
    let mut copied = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        let r = coord.copied_rollup(o.date).await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        copied = (r.holders, r.adults);
    }
    if copied != (first.holders, first.adults) {
        bail!("the copy says {copied:?}, the provinces {:?}", (first.holders, first.adults));
    }
    let rollup_copy = json!({"refresh_ms": refresh_ms, "read": timing(&mut ms)});
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(coord.ranking(o.date, 20).await?);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let ranking = timing(&mut ms);

    // one commune's worklists through its province's own database, and its residents' ID
    // numbers for the national person look-up
    let mut worklist = json!(null);
    let mut person = json!(null);
    if let (Some(url), Some(commune)) = (o.province_url, o.commune) {
        let store = kyso_store::Store::open(url).await?;
        let hamlets = store.hamlets(commune).await?;
        let mut ms = Vec::new();
        let mut entries = 0;
        for _ in 0..5 {
            let t = Instant::now();
            entries = 0;
            for h in &hamlets {
                entries += crate::campaign_cli::worklist_lines(&store, commune, &h.code, o.date).await?.len();
            }
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        worklist =
            json!({"commune": commune, "hamlets": hamlets.len(), "entries": entries, "all_hamlets": timing(&mut ms)});
        let ids: Vec<String> =
            store.residents(commune, None).await?.into_iter().take(o.people).map(|r| r.id_number).collect();
        let (mut ms, mut found, mut listed) = (Vec::new(), 0, 0);
        for id in &ids {
            let t = Instant::now();
            let p = coord.person(id).await?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            found += usize::from(!p.residents.is_empty());
            listed += p.listed.len();
        }
        if !ms.is_empty() {
            person = json!({"ids": ids.len(), "found": found, "provider_list_certificates": listed, "lookup": timing(&mut ms)});
        }
        store.close().await;
    }

    // the register per province: every resident row read by its province (a few runs)
    let mut ms = Vec::new();
    let mut register = json!(null);
    for _ in 0..3 {
        let t = Instant::now();
        let r = coord.register(&adults_born_by(o.date)?, i64::MAX / 2).await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        let residents: i64 = r.provinces.iter().map(|p| p.residents).sum();
        let adults: i64 = r.provinces.iter().map(|p| p.adults).sum();
        register = json!({"provinces": r.provinces.len(), "residents": residents, "adults": adults});
    }
    register["timing"] = timing(&mut ms);
    println!(
        "{}",
        json!({"provinces": provinces.len(), "concurrent": o.concurrent,
            "async_foreign_scans_in_plan": plan.matches("Async Foreign Scan").count(),
            "foreign_scans_in_plan": plan.matches("Foreign Scan").count(),
            "rollup": {"communes": first.provinces.iter().map(|p| p.communes).sum::<i64>(), "holders": first.holders,
                "adults": first.adults, "timing": rollup}, "rollup_from_copy": rollup_copy,
            "ranking_top20": ranking, "worklist_through_province": worklist, "person_across_nation": person,
            "register_per_province": register})
    );
    coord.close(std::time::Duration::from_secs(5)).await;
    Ok(())
}

/// The 18+ line on `date` as the latest date of birth that counts.
fn adults_born_by(date: &str) -> Result<String> {
    let day = kyso_campaign::csv::parse_date(date).map_err(|e| anyhow::anyhow!("--date: {e}"))?;
    let line = kyso_campaign::denominator::AdultsDenominator::new(18, day).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(line.latest_birth_date().to_string())
}
