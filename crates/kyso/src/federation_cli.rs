//! `kyso federation`: the national coordinator (docs/DEPLOYMENT.md, "Nation: partitioning and
//! federation") — attach a province's kyso database as a postgres_fdw foreign partition, detach
//! it, the national roll-up of a day (live, or from the coordinator's copy that `refresh` keeps), the national commune ranking, the register per province and
//! one person across the nation (each one query pushed down to every province; a province that
//! cannot be reached is named, exit status 3). The ranking, register and person answers speak
//! Vietnamese unless `--lang en`.

use crate::output::out;
use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use kyso_store::federation::{Coordinator, ProvinceLink, Unavailable};
use serde_json::json;
use std::process::ExitCode;

/// The language of the ranking, register and person answers.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    fn style(self) -> kyso_fmt::Style {
        match self {
            Lang::Vi => kyso_fmt::Style::Vi,
            Lang::En => kyso_fmt::Style::En,
        }
    }

    fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        if self == Lang::Vi {
            vi
        } else {
            en
        }
    }
}

#[derive(Subcommand)]
pub enum FederationCommand {
    /// Attach a province's kyso database to the coordinator (its server, user mapping and the
    /// foreign partition of nation_adoption).
    Attach {
        /// The coordinator's database, postgres://…
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// Two digits, e.g. 19.
        #[arg(long)]
        province: String,
        /// The province database's host, as the coordinator reaches it.
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = 5432)]
        port: u16,
        #[arg(long, default_value = "kyso")]
        dbname: String,
        /// The role the coordinator reads the province's federation_adoption view as.
        #[arg(long, default_value = "kyso_nation")]
        user: String,
        /// Environment variable holding that role's password (never on the command line).
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Detach a province (its partition, user mapping and server).
    Detach {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        #[arg(long)]
        province: String,
    },
    /// The national roll-up of a day: adults and holders per province and in all. Exit status 3
    /// when a province could not be reached (its figures are left out and it is named).
    Rollup {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Read the coordinator's copy (`kyso federation refresh`) instead of asking the provinces.
        #[arg(long)]
        copy: bool,
        #[arg(long, value_enum, default_value = "vi")]
        lang: Lang,
    },
    /// Ask the provinces for the roll-up of a day and keep it in the coordinator's copy (run after
    /// the provinces' daily adoption refresh). A province that does not answer keeps its earlier
    /// copy; exit status 3 then.
    Refresh {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// dd/mm/yyyy or YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long, value_enum, default_value = "vi")]
        lang: Lang,
    },
    /// The national commune ranking of a day: the communes with the highest share of adults
    /// holding a certificate, across every province. Exit status 3 when a province could not be
    /// reached.
    Ranking {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// dd/mm/yyyy or YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// How many communes.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        #[arg(long, value_enum, default_value = "vi")]
        lang: Lang,
    },
    /// The register of the nation on a day, province by province: residents, adults at the age
    /// line, and residents holding a valid kyso certificate. Exit status 3 as for the roll-up.
    Register {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// dd/mm/yyyy or YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The age line (14, 15, 16 or 18).
        #[arg(long, default_value_t = 18)]
        min_age: u8,
        #[arg(long, value_enum, default_value = "vi")]
        lang: Lang,
    },
    /// One ID number across the nation: where it is registered, its kyso certificates and its
    /// provider-list certificates (the ID number is printed masked). Exit status 3 as above.
    Person {
        #[arg(long, env = "KYSO_COORDINATOR_URL")]
        coordinator_url: String,
        /// The 12-digit ID number.
        #[arg(long)]
        id_number: String,
        #[arg(long, value_enum, default_value = "vi")]
        lang: Lang,
    },
}

pub async fn run(c: FederationCommand, json_mode: bool) -> Result<ExitCode> {
    let open = |url: &str| {
        let url = url.to_owned();
        async move { Coordinator::connect(&url).await.context("cannot open the national coordinator's database") }
    };
    match c {
        FederationCommand::Attach { coordinator_url, province, host, port, dbname, user, password_env } => {
            let password = match password_env {
                Some(v) => Some(std::env::var(&v).with_context(|| format!("--password-env: {v} is not set"))?),
                None => None,
            };
            let coord = open(&coordinator_url).await?;
            let link = ProvinceLink { code: province.clone(), host, port, dbname, user, password };
            coord.attach(&link).await?;
            out(json_mode, json!({"attached": province}), &format!("province {province} attached"));
        }
        FederationCommand::Detach { coordinator_url, province } => {
            open(&coordinator_url).await?.detach(&province).await?;
            out(json_mode, json!({"detached": province}), &format!("province {province} detached"));
        }
        FederationCommand::Refresh { coordinator_url, date, lang } => {
            let date = iso_date(&date)?;
            let now = kyso_calendar::now().unix_timestamp();
            let r = open(&coordinator_url).await?.refresh_rollup(&date, now).await?;
            let mut text = format!(
                "{} {} {} {}\n",
                lang.pick("Đã chép số liệu của", "copied:"),
                r.provinces.len(),
                lang.pick("tỉnh ngày", "provinces on"),
                kyso_fmt::iso_date(&date)
            );
            for u in &r.unavailable {
                let (vi, en) = u.message.split_once(" / ").unwrap_or((&u.message, &u.message));
                text.push_str(&format!(
                    "{}  {}: {}\n",
                    u.code,
                    lang.pick("không có số liệu (giữ bản chép trước)", "unavailable (its earlier copy kept)"),
                    lang.pick(vi, en)
                ));
            }
            let v = json!({"date": date, "copied": r.provinces.iter().map(|p| p.code.clone()).collect::<Vec<_>>(),
                "unavailable": unavailable_json(&r.unavailable)});
            out(json_mode, v, text.trim_end());
            if !r.unavailable.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
        FederationCommand::Rollup { coordinator_url, date, copy, lang } => {
            let date = iso_date(&date)?;
            let coord = open(&coordinator_url).await?;
            let r = if copy { coord.copied_rollup(&date).await? } else { coord.rollup(&date).await? };
            let st = lang.style();
            let mut text = format!(
                "{} {}\n",
                lang.pick("Tổng hợp toàn quốc ngày", "National roll-up on"),
                kyso_fmt::iso_date(&date)
            );
            for p in &r.provinces {
                let counts =
                    [(lang.pick("xã", "communes"), p.communes), (lang.pick("người trưởng thành", "adults"), p.adults)];
                text.push_str(&province_line(
                    &p.code,
                    counts,
                    (lang.pick("có chứng thư số", "holders"), p.holders),
                    p.adults,
                    st,
                ));
            }
            text.push_str(&unavailable_lines(&r.unavailable, lang));
            if let Some(at) = r.copied_at {
                text.push_str(&format!(
                    "({} {})\n",
                    lang.pick(
                        "bản chép ở máy điều phối, dòng cũ nhất chép lúc",
                        "the coordinator's copy, the oldest row copied"
                    ),
                    kyso_fmt::vn_datetime(at)
                ));
            }
            text.push_str(&format!(
                "{}{}  {} {}  {} {}  {}",
                lang.pick("toàn quốc", "nation"),
                if r.unavailable.is_empty() {
                    ""
                } else {
                    lang.pick(" (các tỉnh đã trả lời)", " (provinces that answered)")
                },
                lang.pick("người trưởng thành", "adults"),
                kyso_fmt::int(r.adults, st),
                lang.pick("có chứng thư số", "holders"),
                kyso_fmt::int(r.holders, st),
                share(r.holders, r.adults, st)
            ));
            let v = json!({
                "date": date,
                "provinces": r.provinces.iter().map(|p| json!({"code": p.code, "communes": p.communes, "adults": p.adults, "holders": p.holders})).collect::<Vec<_>>(),
                "unavailable": r.unavailable.iter().map(|u| json!({"code": u.code, "message": u.message})).collect::<Vec<_>>(),
                "adults": r.adults, "holders": r.holders, "one_query": r.one_query, "copied_at": r.copied_at,
            });
            out(json_mode, v, &text);
            if !r.unavailable.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
        FederationCommand::Ranking { coordinator_url, date, limit, lang } => {
            let date = iso_date(&date)?;
            let (top, missing) = open(&coordinator_url).await?.ranking(&date, limit).await?;
            let mut text = format!(
                "{} {}\n",
                lang.pick("Xếp hạng xã toàn quốc ngày", "National commune ranking on"),
                kyso_fmt::iso_date(&date)
            );
            for (i, c) in top.iter().enumerate() {
                text.push_str(&format!(
                    "{:>3}. {} ({} {})  {}  {} / {} {}\n",
                    i + 1,
                    c.commune_code,
                    lang.pick("tỉnh", "province"),
                    c.province_code,
                    share(c.holders, c.adults, lang.style()),
                    kyso_fmt::int(c.holders, lang.style()),
                    kyso_fmt::int(c.adults, lang.style()),
                    lang.pick("người trưởng thành có chứng thư số", "adults hold a certificate"),
                ));
            }
            if top.is_empty() {
                text.push_str(
                    lang.pick("(không có xã nào có số liệu ngày này)\n", "(no commune has figures on that day)\n"),
                );
            }
            text.push_str(&unavailable_lines(&missing, lang));
            let v = json!({
                "date": date,
                "communes": top.iter().map(|c| json!({"province_code": c.province_code, "commune_code": c.commune_code,
                    "holders": c.holders, "adults": c.adults})).collect::<Vec<_>>(),
                "unavailable": unavailable_json(&missing),
            });
            out(json_mode, v, text.trim_end());
            if !missing.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
        FederationCommand::Register { coordinator_url, date, min_age, lang } => {
            let day = kyso_campaign::csv::parse_date(&date).map_err(|e| anyhow::anyhow!("--date: {e}"))?;
            let line = kyso_campaign::denominator::AdultsDenominator::new(min_age, day)
                .map_err(|e| anyhow::anyhow!("--min-age: {e}"))?;
            let born_by = line.latest_birth_date().to_string();
            // valid at the last second of that day in Vietnam
            let at = kyso_calendar::vn_day_start(i64::from(kyso_calendar::day_of_date(day)) + 1) - 1;
            let r = open(&coordinator_url).await?.register(&born_by, at).await?;
            let st = lang.style();
            let mut text = format!(
                "{} {} ({} {}+)\n",
                lang.pick("Sổ dân cư toàn quốc ngày", "The nation's register on"),
                kyso_fmt::date(day),
                lang.pick("người trưởng thành:", "adults:"),
                min_age
            );
            for p in &r.provinces {
                let counts = [
                    (lang.pick("cư dân", "residents"), p.residents),
                    (lang.pick("người trưởng thành", "adults"), p.adults),
                ];
                let holders = (lang.pick("có chứng thư số kyso", "holding a kyso certificate"), p.holders);
                text.push_str(&province_line(&p.code, counts, holders, p.adults, st));
            }
            text.push_str(&unavailable_lines(&r.unavailable, lang));
            let sum = |f: fn(&kyso_store::federation::national::ProvinceRegister) -> i64| {
                r.provinces.iter().map(f).sum::<i64>()
            };
            let (residents, adults, holders) = (sum(|p| p.residents), sum(|p| p.adults), sum(|p| p.holders));
            text.push_str(&format!(
                "{}  {} {}  {} {}  {} {}",
                if r.unavailable.is_empty() {
                    lang.pick("toàn quốc", "nation")
                } else {
                    lang.pick("toàn quốc (các tỉnh đã trả lời)", "nation (provinces that answered)")
                },
                lang.pick("cư dân", "residents"),
                kyso_fmt::int(residents, st),
                lang.pick("người trưởng thành", "adults"),
                kyso_fmt::int(adults, st),
                lang.pick("có chứng thư số kyso", "holding a kyso certificate"),
                kyso_fmt::int(holders, st),
            ));
            let v = json!({
                "date": day.to_string(), "min_age": min_age, "adults_born_by": born_by, "one_query": r.one_query,
                "provinces": r.provinces.iter().map(|p| json!({"code": p.code, "residents": p.residents,
                    "adults": p.adults, "holders": p.holders})).collect::<Vec<_>>(),
                "unavailable": unavailable_json(&r.unavailable),
                "residents": residents, "adults": adults, "holders": holders,
            });
            out(json_mode, v, &text);
            if !r.unavailable.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
        FederationCommand::Person { coordinator_url, id_number, lang } => {
            let id =
                kyso_pki::id::CitizenId::parse(id_number.trim()).map_err(|e| anyhow::anyhow!("--id-number: {e}"))?;
            let p = open(&coordinator_url).await?.person(id.expose()).await?;
            let mut text = format!("{} {}\n", lang.pick("Số định danh", "ID number"), id.masked());
            if p.residents.is_empty() {
                text.push_str(lang.pick(
                    "  không có trong sổ dân cư của tỉnh nào đã trả lời\n",
                    "  not in the register of any province that answered\n",
                ));
            }
            for r in &p.residents {
                text.push_str(&format!(
                    "  {} {}, {} {}, {} {}\n",
                    lang.pick("cư trú tại tỉnh", "lives in province"),
                    r.province_code,
                    lang.pick("xã", "commune"),
                    r.commune_code,
                    lang.pick("thôn", "hamlet"),
                    r.hamlet_code
                ));
            }
            for c in &p.certificates {
                text.push_str(&format!(
                    "  {} {} ({} {}): {} – {}{}\n",
                    lang.pick("chứng thư số kyso", "kyso certificate"),
                    c.serial,
                    lang.pick("tỉnh", "province"),
                    c.province_code,
                    kyso_fmt::vn_date(c.not_before),
                    kyso_fmt::vn_date(c.not_after),
                    c.revoked_at
                        .map(|t| format!(", {} {}", lang.pick("thu hồi ngày", "revoked on"), kyso_fmt::vn_date(t)))
                        .unwrap_or_default()
                ));
            }
            for l in &p.listed {
                text.push_str(&format!(
                    "  {} {} ({} {}): {} {}, {}\n",
                    lang.pick("danh sách nhà cung cấp", "provider list"),
                    l.provider,
                    lang.pick("tỉnh", "province"),
                    l.province_code,
                    lang.pick("cấp ngày", "issued on"),
                    kyso_fmt::iso_date(&kyso_calendar::iso_date(l.listed.issued)),
                    l.listed.status_name()
                ));
            }
            text.push_str(&unavailable_lines(&p.unavailable, lang));
            let v = json!({
                "id_number": id.masked(),
                "residents": p.residents.iter().map(|r| json!({"province_code": r.province_code, "commune_code": r.commune_code,
                    "hamlet_code": r.hamlet_code, "date_of_birth": r.date_of_birth, "sex": r.sex})).collect::<Vec<_>>(),
                "certificates": p.certificates.iter().map(|c| json!({"province_code": c.province_code, "serial": c.serial,
                    "issuer_id": c.issuer_id, "not_before": c.not_before, "not_after": c.not_after, "revoked_at": c.revoked_at})).collect::<Vec<_>>(),
                "provider_list": p.listed.iter().map(|l| json!({"province_code": l.province_code, "provider": l.provider,
                    "issued_on": kyso_calendar::iso_date(l.listed.issued),
                    "expires_on": l.listed.expires.map(kyso_calendar::iso_date),
                    "ended_on": l.listed.ended.map(kyso_calendar::iso_date), "status": l.listed.status_name()})).collect::<Vec<_>>(),
                "unavailable": unavailable_json(&p.unavailable),
            });
            out(json_mode, v, text.trim_end());
            if !p.unavailable.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// dd/mm/yyyy or yyyy-mm-dd, as yyyy-mm-dd (how the snapshots store it).
fn iso_date(text: &str) -> Result<String> {
    Ok(kyso_campaign::csv::parse_date(text).map_err(|e| anyhow::anyhow!("--date: {e}"))?.to_string())
}

/// One province's line: its code, two labelled counts, the holders and their share of `adults`.
fn province_line(
    code: &str,
    counts: [(&str, i64); 2],
    holders: (&str, i64),
    adults: i64,
    st: kyso_fmt::Style,
) -> String {
    let [(l1, n1), (l2, n2)] = counts;
    format!(
        "{code}  {l1} {}  {l2} {}  {} {}  {}\n",
        kyso_fmt::int(n1, st),
        kyso_fmt::int(n2, st),
        holders.0,
        kyso_fmt::int(holders.1, st),
        share(holders.1, adults, st)
    )
}

fn share(h: i64, a: i64, st: kyso_fmt::Style) -> String {
    if a > 0 {
        kyso_fmt::percent(h as f64 * 100.0 / a as f64, 2, st)
    } else {
        "–".into()
    }
}

/// The provinces that did not answer, one line each, in the answer's language.
fn unavailable_lines(missing: &[Unavailable], lang: Lang) -> String {
    missing
        .iter()
        .map(|u| {
            // the store's sentence is "Vietnamese / English"
            let (vi, en) = u.message.split_once(" / ").unwrap_or((&u.message, &u.message));
            format!("{}  {}: {}\n", u.code, lang.pick("không có số liệu", "unavailable"), lang.pick(vi, en))
        })
        .collect()
}

fn unavailable_json(missing: &[Unavailable]) -> Vec<serde_json::Value> {
    missing.iter().map(|u| json!({"code": u.code, "message": u.message})).collect()
}
