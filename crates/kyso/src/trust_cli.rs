//! `kyso trust`: the national trust list (docs/TRUST-LIST.md) — import an edition, list the
//! providers and their services with today's status, show one provider's history, export the
//! list with kyso's own CAs. Vietnamese first.

use crate::data::{open, DataDir, ACTOR_CLI};
use crate::output::out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kyso_trust::{vn_time, Provider, Service, TrustList};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Nhập danh sách tin cậy (TOML theo docs/TRUST-LIST.md): import a trust list edition.
    Import { file: PathBuf },
    /// Các nhà cung cấp và dịch vụ với trạng thái hiện tại (kể cả CA của kyso).
    List,
    /// Một nhà cung cấp (tên giao dịch, ví dụ VNPT-CA): mọi dịch vụ và lịch sử trạng thái.
    Show { name: String },
    /// Ghi danh sách (kể cả CA của kyso) ra tệp TOML; mặc định in ra màn hình.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn service_json(s: &Service) -> serde_json::Value {
    json!({
        "name": s.name,
        "type": s.kind.uri(),
        "subject": s.subject_name(),
        "sha256": s.fingerprint(),
        "supply_points": s.supply_points,
        "status": s.current().status.uri(),
        "status_starting_time": kyso_trust::rfc3339(s.current().from),
        "history": s.history.iter().map(|h| json!({"status": h.status.uri(), "status_starting_time": kyso_trust::rfc3339(h.from)})).collect::<Vec<_>>(),
    })
}

fn provider_json(p: &Provider) -> serde_json::Value {
    json!({"name": p.name, "trade_name": p.trade_name, "services": p.services.iter().map(service_json).collect::<Vec<_>>()})
}

fn heading(l: &TrustList) -> String {
    let s = &l.scheme;
    let next = s.next_update.map(|n| format!(", cập nhật tiếp trước {}", vn_time(n))).unwrap_or_default();
    format!(
        "Danh sách tin cậy {} — {} — số {}, ban hành {}{next} (giờ Việt Nam)",
        s.territory,
        s.operator,
        s.sequence_number,
        vn_time(s.issued)
    )
}

fn status_line(s: &Service) -> String {
    let c = s.current();
    format!("{} từ {}", c.status.label_vi(), vn_time(c.from))
}

pub async fn run(dir: &DataDir, db: Option<&str>, c: TrustCommand, json_mode: bool) -> Result<ExitCode> {
    let auth = open(dir, db).await?;
    match c {
        TrustCommand::Import { file } => {
            let raw = std::fs::read(&file).with_context(|| format!("không đọc được {}", file.display()))?;
            let text = String::from_utf8(raw).map_err(|e| {
                anyhow::anyhow!("{}: không phải văn bản UTF-8 (byte {})", file.display(), e.utf8_error().valid_up_to())
            })?;
            let l = auth
                .import_trust_list(&text, ACTOR_CLI)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let services: usize = l.providers.iter().map(|p| p.services.len()).sum();
            out(
                json_mode,
                json!({"sequence_number": l.scheme.sequence_number, "providers": l.providers.len(), "services": services}),
                &format!(
                    "đã nhập danh sách tin cậy số {}: {} nhà cung cấp, {} dịch vụ (ghi vào nhật ký kiểm toán)",
                    l.scheme.sequence_number,
                    l.providers.len(),
                    services
                ),
            );
        }
        TrustCommand::List => {
            let l = auth.trust_list().await?;
            let mut text = vec![heading(&l)];
            for p in &l.providers {
                text.push(format!("\n{}  ({})", p.label(), p.name));
                for s in &p.services {
                    text.push(format!("  {:<38} {:<32} {}", s.kind.label_vi(), s.name, status_line(s)));
                }
            }
            let v = json!({"scheme": {"territory": l.scheme.territory, "operator": l.scheme.operator, "sequence_number": l.scheme.sequence_number}, "providers": l.providers.iter().map(provider_json).collect::<Vec<_>>()});
            out(json_mode, v, &text.join("\n"));
        }
        TrustCommand::Show { name } => {
            let l = auth.trust_list().await?;
            let Some(p) = l.provider(&name) else {
                let names: Vec<&str> = l.providers.iter().map(|p| p.label()).collect();
                bail!("không có nhà cung cấp «{name}» trong danh sách tin cậy; có: {}", names.join(", "));
            };
            let mut text = vec![format!("{}  ({})", p.label(), p.name)];
            for s in &p.services {
                text.push(format!("\n  Dịch vụ: {}", s.name));
                text.push(format!("    Loại: {} ({})", s.kind.label_vi(), s.kind.short()));
                text.push(format!("    Chứng thư: {} (SHA-256 {})", s.subject_name(), s.fingerprint()));
                if !s.supply_points.is_empty() {
                    text.push(format!("    Địa chỉ dịch vụ: {}", s.supply_points.join(", ")));
                }
                text.push(format!("    Trạng thái hiện tại: {}", status_line(s)));
                for h in s.history.iter().rev().skip(1) {
                    text.push(format!("    Trước đó: {} từ {}", h.status.label_vi(), vn_time(h.from)));
                }
            }
            out(json_mode, provider_json(p), &text.join("\n"));
        }
        TrustCommand::Export { out: file } => {
            let text = auth.trust_list().await?.to_toml();
            match file {
                Some(f) => {
                    std::fs::write(&f, &text).with_context(|| format!("không ghi được {}", f.display()))?;
                    out(json_mode, json!({"out": f}), &format!("đã ghi danh sách tin cậy vào {}", f.display()));
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
