//! The trust list's editions and the fetch cache (migration 14) on SQLite and PostgreSQL: an
//! import is audited, an older edition or the same one again is refused, the newest is in force;
//! cached items are served until their next_update and pruned after it.

use kyso_store::StoreError;

mod support;
use support::backends;

#[tokio::test]
async fn trust_list_editions_newest_in_force_older_refused() {
    for (s, _d) in backends("trust_list_editions").await {
        let b = s.backend();
        assert_eq!(s.trust_list().await.unwrap(), None, "{b}");
        assert_eq!(s.trust_list_seq().await.unwrap(), None, "{b}");
        let first = s.import_trust_list(3, "aa", "[scheme]\n# 3", "cli").await.unwrap();
        let again = s.import_trust_list(3, "aa", "[scheme]\n# 3", "cli").await;
        assert!(matches!(again, Err(StoreError::Conflict(ref m)) if m.contains("đã được nhập")), "{b}: {again:?}");
        let older = s.import_trust_list(2, "bb", "[scheme]\n# 2", "cli").await;
        assert!(matches!(older, Err(StoreError::Conflict(ref m)) if m.contains("cũ hơn")), "{b}: {older:?}");
        let second = s.import_trust_list(4, "cc", "[scheme]\n# 4", "staff:an").await.unwrap();
        assert!(second > first, "{b}");
        let cur = s.trust_list().await.unwrap().unwrap();
        assert_eq!(
            (cur.seq, cur.sequence_number, cur.body.as_str(), cur.imported_by.as_str()),
            (second, 4, "[scheme]\n# 4", "staff:an"),
            "{b}"
        );
        assert_eq!(s.trust_list_seq().await.unwrap(), Some(second), "{b}");
        let audit = s.audit_rows(0, 100).await.unwrap();
        let imports: Vec<_> = audit.iter().filter(|r| r.action == "trust_list.import").collect();
        assert_eq!(imports.len(), 2, "{b}: one audit row per stored edition, none for the refused");
        assert_eq!(s.verify_audit().await.unwrap().first_error, None, "{b}");
    }
}

#[tokio::test]
async fn fetched_items_are_served_until_next_update() {
    for (s, _d) in backends("fetch_cache").await {
        let b = s.backend();
        let keys = vec!["ocsp:a:01".to_string(), "crl:http://x/crl".to_string()];
        assert!(s.fetch_cached(&keys, 1000).await.unwrap().is_empty(), "{b}");
        s.put_fetched("ocsp:a:01", "ocsp", b"one", 1000, 2000).await.unwrap();
        s.put_fetched("crl:http://x/crl", "crl", b"crl", 1000, 1500).await.unwrap();
        let got = s.fetch_cached(&keys, 1499).await.unwrap();
        assert_eq!(got.len(), 2, "{b}");
        assert_eq!(got["ocsp:a:01"], b"one", "{b}");
        let got = s.fetch_cached(&keys, 1500).await.unwrap();
        assert_eq!(got.keys().collect::<Vec<_>>(), vec!["ocsp:a:01"], "{b}: stale at its next_update");
        s.put_fetched("ocsp:a:01", "ocsp", b"two", 1600, 2600).await.unwrap();
        assert_eq!(s.fetch_cached(&keys, 2100).await.unwrap()["ocsp:a:01"], b"two", "{b}: replaced");
        assert_eq!(s.prune_fetched(2100).await.unwrap(), 1, "{b}: the stale CRL");
        // more keys than one query asks about: every fresh one found, the unknown ones absent
        let many: Vec<String> = (0..150).map(|i| format!("ocsp:many:{i:03}")).collect();
        for k in many.iter().step_by(7) {
            s.put_fetched(k, "ocsp", k.as_bytes(), 2100, 3000).await.unwrap();
        }
        let got = s.fetch_cached(&many, 2200).await.unwrap();
        assert_eq!(got.len(), many.iter().step_by(7).count(), "{b}");
        assert!(got.iter().all(|(k, v)| v == k.as_bytes()), "{b}");
        assert!(
            s.put_fetched("k", "crl", &vec![0u8; kyso_store::trust::MAX_FETCH_BYTES + 1], 0, 1).await.is_err(),
            "{b}"
        );
    }
}
