//! Provider-list certificates stored as blocks (migration 8), on SQLite and PostgreSQL: imports
//! checked against a plain model of the merge rule (one map entry per certificate), over many
//! imports that land before, between and after existing blocks; the block invariants; and the
//! conversion of the one-row-per-certificate table of migration 7.

use std::collections::BTreeMap;
use std::sync::Arc;

use kyso_store::bulk::BulkProviderCert;
use kyso_store::{AuditEvent, Store};

mod support;
use support::backends;

/// xorshift64*: the same "random" lists on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A list row: ID number, provider, issue day, expiry day, end day, status code.
type ListRow<'a> = (u64, &'a str, i32, Option<i32>, Option<i32>, u8);
/// A stored certificate as read back: provider, issue date, expiry, end, status.
type StoredRow = (String, String, Option<String>, Option<String>, String);

const PROVIDERS: [&str; 4] = ["VNPT-CA", "VIETTEL-CA", "MISA-CA", "BKAV-CA"];

/// (ID, provider name, issue day) → (expires, ended, status): what the store must hold.
type Model = BTreeMap<(u64, String, i32), (Option<i32>, Option<i32>, u8)>;

/// The merge rule, written plainly: a new key is taken as it is; a known key takes the list's
/// status, its expiry when given, the earlier end — and counts as changed only if that differs.
fn apply(model: &mut Model, list: &[ListRow]) -> (u64, u64) {
    let (mut inserted, mut changed) = (0, 0);
    let mut seen = std::collections::HashSet::new();
    for &(id, p, issued, expires, ended, status) in list {
        if !seen.insert((id, p, issued)) {
            continue; // a repeat within the list: the first row wins
        }
        match model.get_mut(&(id, p.to_owned(), issued)) {
            None => {
                model.insert((id, p.to_owned(), issued), (expires, ended, status));
                inserted += 1;
            }
            Some(old) => {
                let new_expires = expires.or(old.0);
                let new_ended = match (ended, old.1) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let new = (new_expires, new_ended, status);
                if new != *old {
                    *old = new;
                    changed += 1;
                }
            }
        }
    }
    (inserted, changed)
}

/// Sorted by ID as the campaign core hands lists over (provider by index of this list's names).
fn to_bulk(list: &[ListRow]) -> (Vec<BulkProviderCert>, Vec<String>) {
    let mut names: Vec<String> = Vec::new();
    let mut certs: Vec<BulkProviderCert> = list
        .iter()
        .enumerate()
        .map(|(row, &(id, p, issued, expires, ended, status))| {
            let provider = match names.iter().position(|n| n == p) {
                Some(i) => i,
                None => {
                    names.push(p.to_owned());
                    names.len() - 1
                }
            } as u16;
            BulkProviderCert { id, issued, expires, ended, row: row as u32 + 2, provider, status }
        })
        .collect();
    certs.sort_by_key(|c| (c.id, c.provider, c.issued, c.row));
    (certs, names)
}

fn random_list(rng: &mut Rng, n: usize, ids: u64) -> Vec<ListRow<'static>> {
    (0..n)
        .map(|_| {
            let id = 1_000_000_000 + rng.below(ids) * 7;
            let p = PROVIDERS[rng.below(PROVIDERS.len() as u64) as usize];
            let issued = 20_000 + rng.below(4) as i32;
            let expires = (rng.below(3) == 0).then(|| issued + 300 + rng.below(3) as i32);
            let ended = (rng.below(5) == 0).then(|| issued + 10 + rng.below(100) as i32);
            (id, p, issued, expires, ended, rng.below(3) as u8)
        })
        .collect()
}

async fn check_against(s: &Store, model: &Model) {
    // Every ID the model has, as the store gives it back.
    let mut by_id: BTreeMap<u64, Vec<StoredRow>> = BTreeMap::new();
    for ((id, p, issued), (expires, ended, status)) in model {
        let iso = kyso_campaign::register_index::iso_date;
        by_id.entry(*id).or_default().push((
            p.clone(),
            iso(*issued),
            expires.map(iso),
            ended.map(iso),
            kyso_campaign::provider_list::STATUSES[*status as usize].to_owned(),
        ));
    }
    for (id, mut want) in by_id {
        want.sort();
        let got: Vec<_> = s
            .provider_certificates(&format!("{id:012}"))
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.provider, r.issued_on, r.expires_on, r.ended_on, r.status))
            .collect();
        assert_eq!(got, want, "{} ID {id}", s.backend());
    }
    assert!(s.provider_certificates("001000000006").await.unwrap().is_empty());
    // The IDs valid on a few days, against the model.
    for day in [19_999, 20_000, 20_002, 20_050, 20_301, 20_400] {
        let mut want: Vec<u64> = model
            .iter()
            .filter(|((_, _, issued), (expires, ended, _))| {
                *issued <= day && expires.is_none_or(|e| e > day) && ended.is_none_or(|e| e > day)
            })
            .map(|((id, _, _), _)| *id)
            .collect();
        want.dedup();
        let date = kyso_campaign::register_index::iso_date(day);
        assert_eq!(s.valid_holder_ids(&date, 0).await.unwrap(), want, "{} on {date}", s.backend());
    }
    // Block invariants, read from the table itself.
    let blocks: Vec<(i64, i64, i64, Vec<u8>)> = match s {
        Store::Sqlite(p) => {
            sqlx::query_as("SELECT first_id, last_id, records, data FROM provider_cert_blocks ORDER BY first_id")
                .fetch_all(p.pool())
                .await
                .unwrap()
        }
        Store::Postgres(p) => sqlx::query_as(
            "SELECT first_id, last_id, CAST(records AS BIGINT), data FROM provider_cert_blocks ORDER BY first_id",
        )
        .fetch_all(p.pool())
        .await
        .unwrap(),
    };
    let mut total = 0;
    let mut previous_last = -1;
    for (first, last, records, data) in &blocks {
        let recs = kyso_store::listed::decode_block(*first, data).unwrap();
        assert_eq!(recs.len() as i64, *records);
        assert_eq!((recs[0].id as i64, recs[recs.len() - 1].id as i64), (*first, *last));
        assert!(*first > previous_last, "blocks overlap or an ID spans two blocks");
        assert!(recs.len() <= 2 * kyso_store::listed::BLOCK);
        previous_last = *last;
        total += recs.len();
    }
    assert_eq!(total, model.len(), "{}", s.backend());
}

#[tokio::test]
async fn imports_follow_the_merge_rule_across_blocks() {
    for (s, _d) in backends("blocks").await {
        let mut rng = Rng(2025);
        let mut model = Model::new();
        let audit = AuditEvent::new("test", "campaign.provider_list.import", "list", "");
        // A first list of a few thousand (several blocks), then lists that fall before, between
        // and after them, repeat some keys with changes, and repeat a key inside one list.
        let mut lists = vec![random_list(&mut rng, 3_000, 1_500)];
        for round in 0..5u64 {
            let mut l = random_list(&mut rng, 150, 1_500 + 400 * round);
            l.push((999_000_000 + round, "VNPT-CA", 20_001, None, None, 0)); // below every block
            l.push((900_000_000_000 + round, "BKAV-CA", 20_001, None, None, 0)); // above them
            let again = l[0];
            l.push((again.0, again.1, again.2, Some(20_999), None, 1)); // a repeat: ignored
            lists.push(l);
        }
        // Some of the first list again, unchanged: nothing to write.
        lists.push(lists[0][..500].to_vec());
        for (i, list) in lists.iter().enumerate() {
            let (want_inserted, want_changed) = apply(&mut model, list);
            let (bulk, names) = to_bulk(list);
            let given = {
                let mut keys: Vec<_> = bulk.iter().map(|c| (c.id, c.provider, c.issued)).collect();
                keys.dedup();
                keys.len() as u64
            };
            let t = s
                .bulk_upsert_provider_certificates(Arc::new(bulk), Arc::new(names), &format!("list-{i}.csv"), &audit)
                .await
                .unwrap();
            assert_eq!(
                (t.inserted, t.changed, t.unchanged),
                (want_inserted, want_changed, given - want_inserted - want_changed),
                "{} list {i}",
                s.backend()
            );
            check_against(&s, &model).await;
        }
        let report = s.verify_audit().await.unwrap();
        assert_eq!((report.rows, report.first_error), (lists.len() as u64, None), "one audit row per import, chained");
    }
}

#[tokio::test]
async fn the_row_per_certificate_table_of_migration_7_is_converted() {
    for (s, _d) in backends("convert").await {
        let create = "CREATE TABLE provider_certificates_v7 (id_number TEXT NOT NULL, provider TEXT NOT NULL, \
            issued_on TEXT NOT NULL, expires_on TEXT, ended_on TEXT, status TEXT NOT NULL, source TEXT NOT NULL, \
            first_seen BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (id_number, provider, issued_on))";
        let rows = [
            ("019190000002", "VNPT-CA", "2026-01-05", Some("2027-01-05"), None, "active", "a.csv", 100),
            ("019190000002", "VIETTEL-CA", "2026-02-01", None, Some("2026-11-10"), "revoked", "b.csv", 200),
            ("001190000001", "VNPT-CA", "2025-12-31", None, None, "expired", "a.csv", 90),
        ];
        // Literal values (both backends read the same SQL): constants of this test only.
        let text = |v: Option<&str>| v.map_or("NULL".to_string(), |v| format!("'{v}'"));
        let mut sql = format!("{create};");
        for r in rows {
            sql.push_str(&format!(
                "INSERT INTO provider_certificates_v7 VALUES ('{}', '{}', '{}', {}, {}, '{}', '{}', {}, {});",
                r.0,
                r.1,
                r.2,
                text(r.3),
                text(r.4),
                r.5,
                r.6,
                r.7,
                r.7
            ));
        }
        s.execute_raw(&sql).await.unwrap();
        assert_eq!(s.convert_v7_provider_certificates().await.unwrap(), 3);
        assert_eq!(s.convert_v7_provider_certificates().await.unwrap(), 0, "the old table is gone");
        let got: Vec<_> = s
            .provider_certificates("019190000002")
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.provider, r.issued_on, r.expires_on, r.ended_on, r.status))
            .collect();
        assert_eq!(
            got,
            [
                ("VIETTEL-CA".into(), "2026-02-01".into(), None, Some("2026-11-10".into()), "revoked".into()),
                ("VNPT-CA".into(), "2026-01-05".into(), Some("2027-01-05".to_string()), None, "active".into()),
            ]
        );
        assert_eq!(s.provider_certificates("001190000001").await.unwrap()[0].status, "expired");
        let imports: Vec<String> = match &s {
            Store::Sqlite(p) => sqlx::query_scalar("SELECT source FROM provider_list_imports ORDER BY id")
                .fetch_all(p.pool())
                .await
                .unwrap(),
            Store::Postgres(p) => sqlx::query_scalar("SELECT source FROM provider_list_imports ORDER BY id")
                .fetch_all(p.pool())
                .await
                .unwrap(),
        };
        assert_eq!(imports, ["a.csv", "b.csv"], "one import per list the old rows named");
    }
}

/// Migration 23: on PostgreSQL the blocks (and the register index) are compressed with lz4, which
/// writes a national list ~4× faster than the default pglz; blocks read back the same.
#[tokio::test]
async fn postgres_compresses_blocks_with_lz4() {
    for (s, _d) in backends("lz4").await {
        let Store::Postgres(p) = &s else { continue };
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.relname::text, a.attcompression::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE a.attname = 'data' AND c.relname IN ('provider_cert_blocks', 'register_index') \
             AND c.relnamespace = to_regnamespace(current_schema()) ORDER BY 1",
        )
        .fetch_all(p.pool())
        .await
        .unwrap();
        assert_eq!(columns, [("provider_cert_blocks".into(), "l".into()), ("register_index".into(), "l".into())]);
        // Full 8 KiB blocks (TOAST compresses values past ~2 KiB): every one stored as lz4.
        let list = random_list(&mut Rng(7), 2_000, 1_000);
        let (bulk, names) = to_bulk(&list);
        let audit = AuditEvent::new("test", "campaign.provider_list.import", "list", "");
        s.bulk_upsert_provider_certificates(Arc::new(bulk), Arc::new(names), "list.csv", &audit).await.unwrap();
        let kinds: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT pg_column_compression(data), COUNT(*) FROM provider_cert_blocks WHERE records >= 128 GROUP BY 1",
        )
        .fetch_all(p.pool())
        .await
        .unwrap();
        assert!(matches!(&kinds[..], [(Some(k), n)] if k == "lz4" && *n > 0), "{kinds:?}");
        let mut model = Model::new();
        apply(&mut model, &list);
        check_against(&s, &model).await;
    }
}
