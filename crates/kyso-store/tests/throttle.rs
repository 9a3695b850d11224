//! Login throttling in the store (migration 12), on SQLite and PostgreSQL: the counting rule is
//! `kyso_access::throttle::Limit`'s (checked against it step by step), attempts racing each other
//! are counted one after the other, several keys are counted all or none, the counts outlive a
//! reopen, and closed windows are pruned.

use kyso_access::throttle::{Limit, Window};
use kyso_store::throttle::{AttemptKey, Counted};
use kyso_store::Store;

mod support;
use support::backends;

fn key(k: &str, max: i64) -> AttemptKey {
    AttemptKey { key: k.into(), max, window: 900 }
}

#[tokio::test]
async fn counts_up_to_the_limit_then_waits_for_the_window() {
    for (s, _d) in backends("throttle_rule").await {
        let b = s.backend();
        let t0 = 1_000_000;
        let a = [key("citizen:a", 5)];
        for n in 1..=5 {
            let c = s.count_attempt(&a, t0 + n).await.unwrap().expect("within the limit");
            assert_eq!(c, vec![Counted { key: "citizen:a".into(), window_start: t0 + 1, attempts: n }], "{b}");
        }
        assert_eq!(s.count_attempt(&a, t0 + 10).await.unwrap(), Err(891), "{b}: full until t0+1+900");
        assert_eq!(s.attempts("citizen:a").await.unwrap(), Some((t0 + 1, 5)), "{b}: a refusal counts nothing");
        assert!(s.count_attempt(&[key("citizen:b", 5)], t0 + 10).await.unwrap().is_ok(), "{b}: keys are separate");
        assert_eq!(s.count_attempt(&a, t0 + 900).await.unwrap(), Err(1), "{b}");
        // The window closed: a new one opens with this attempt.
        let c = s.count_attempt(&a, t0 + 901).await.unwrap().unwrap();
        assert_eq!((c[0].window_start, c[0].attempts), (t0 + 901, 1), "{b}");

        // Given back: the attempt can be spent again; cleared: the key starts afresh.
        for n in 2..=5 {
            s.count_attempt(&a, t0 + 901 + n).await.unwrap().unwrap();
        }
        let refused = s.count_attempt(&a, t0 + 920).await.unwrap();
        assert!(refused.is_err(), "{b}");
        s.give_back_attempts(&[Counted { key: "citizen:a".into(), window_start: t0 + 901, attempts: 5 }])
            .await
            .unwrap();
        assert_eq!(s.attempts("citizen:a").await.unwrap(), Some((t0 + 901, 4)), "{b}");
        // A give-back from an older window takes nothing from the current one.
        s.give_back_attempts(&[Counted { key: "citizen:a".into(), window_start: t0 + 1, attempts: 1 }]).await.unwrap();
        assert_eq!(s.attempts("citizen:a").await.unwrap(), Some((t0 + 901, 4)), "{b}");
        s.clear_attempts("citizen:a").await.unwrap();
        assert_eq!(s.attempts("citizen:a").await.unwrap(), None, "{b}");

        // Several keys: all or none. The address is full, so the account is not counted either.
        let both = [key("citizen:c", 5), key("ip:198.51.100.7", 2)];
        s.count_attempt(&both, t0).await.unwrap().unwrap();
        s.count_attempt(&[key("ip:198.51.100.7", 2)], t0).await.unwrap().unwrap();
        assert_eq!(s.count_attempt(&both, t0 + 100).await.unwrap(), Err(800), "{b}");
        assert_eq!(s.attempts("citizen:c").await.unwrap(), Some((t0, 1)), "{b}: rolled back with the refusal");

        // Pruning removes the closed windows only.
        s.count_attempt(&[key("staff:old", 5)], t0 - 5000).await.unwrap().unwrap();
        let gone = s.prune_attempts(t0 + 100 - 900).await.unwrap();
        assert_eq!(gone, 1, "{b}");
        assert_eq!(s.attempts("staff:old").await.unwrap(), None);
        assert_eq!(s.attempts("citizen:c").await.unwrap(), Some((t0, 1)), "{b}");
    }
}

/// The store and the pure rule agree on a long pseudo-random run of counts and give-backs.
#[tokio::test]
async fn the_store_follows_the_access_rule() {
    for (s, _d) in backends("throttle_model").await {
        let limit = Limit { max: 3, window: 60 };
        let keys = ["k:0", "k:1", "k:2"];
        let mut model: [Option<Window>; 3] = [None; 3];
        let mut held: Vec<(usize, u64)> = Vec::new();
        let (mut now, mut x) = (10_000u64, 0x2545_f491_u64);
        for step in 0..400 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            now += (x >> 59) * 3; // 0 to 93 s
            let i = ((x >> 20) % 3) as usize;
            if (x >> 30) % 4 == 0 && !held.is_empty() {
                let (j, start) = held.swap_remove(((x >> 40) as usize) % held.len());
                model[j] = limit.release(model[j], start);
                let c = Counted { key: keys[j].into(), window_start: start as i64, attempts: 0 };
                s.give_back_attempts(&[c]).await.unwrap();
            } else {
                let want = limit.reserve(model[i], now);
                let k = AttemptKey { key: keys[i].into(), max: limit.max.into(), window: limit.window as i64 };
                let got = s.count_attempt(&[k], now as i64).await.unwrap();
                match (&want, &got) {
                    (Ok(w), Ok(c)) => {
                        assert_eq!((c[0].window_start, c[0].attempts), (w.start as i64, i64::from(w.count)));
                        model[i] = Some(*w);
                        held.push((i, w.start));
                    }
                    (Err(a), Err(b)) => assert_eq!(*a as i64, *b, "{} step {step}", s.backend()),
                    _ => panic!("{} step {step}: rule {want:?}, store {got:?}", s.backend()),
                }
            }
            for (j, k) in keys.iter().enumerate() {
                let stored = s.attempts(k).await.unwrap().map(|(a, b)| (a as u64, b as u32));
                assert_eq!(stored, model[j].map(|w| (w.start, w.count)), "{} step {step} key {k}", s.backend());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attempts_are_counted_one_after_the_other() {
    for (s, _d) in backends("throttle_race").await {
        let now = kyso_store::now();
        // 40 attempts at once on one account (max 5), each also on one shared address (max 30),
        // plus 40 on 40 different accounts from another address (max 30).
        let mut tasks = Vec::new();
        for n in 0..40 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let one = s.count_attempt(&[key("citizen:one", 5), key("ip:a", 30)], now).await.unwrap();
                let spray = s.count_attempt(&[key(&format!("citizen:n{n}"), 5), key("ip:b", 30)], now).await.unwrap();
                (one.is_ok(), spray.is_ok())
            }));
        }
        let (mut one, mut spray) = (0, 0);
        for t in tasks {
            let (a, b) = t.await.unwrap();
            one += usize::from(a);
            spray += usize::from(b);
        }
        let b = s.backend();
        assert_eq!(one, 5, "{b}: exactly five attempts on the account");
        assert_eq!(spray, 30, "{b}: exactly thirty from the address");
        assert_eq!(s.attempts("citizen:one").await.unwrap().unwrap().1, 5, "{b}");
        assert_eq!(s.attempts("ip:a").await.unwrap().unwrap().1, 5, "{b}: refused attempts counted nowhere");
        assert_eq!(s.attempts("ip:b").await.unwrap().unwrap().1, 30, "{b}");
        let mut accounts = 0;
        for n in 0..40 {
            accounts += s.attempts(&format!("citizen:n{n}")).await.unwrap().map_or(0, |(_, c)| c);
        }
        assert_eq!(accounts, 30, "{b}: the ten refused sprays counted on no account");
    }
}

#[tokio::test]
async fn counts_outlive_a_reopen() {
    let dir = support::TempDir::new("kyso-store", "throttle_reopen");
    let url = format!("sqlite://{}/kyso.db", dir.path().display());
    let now = kyso_store::now();
    let s = Store::open(&url).await.unwrap();
    for _ in 0..5 {
        s.count_attempt(&[key("citizen:x", 5)], now).await.unwrap().unwrap();
    }
    s.close().await;
    let s = Store::open(&url).await.unwrap();
    assert!(s.count_attempt(&[key("citizen:x", 5)], now + 1).await.unwrap().is_err(), "still full after a reopen");
    s.close().await;
    // PostgreSQL: a new connection pool to the same schema sees the same counts.
    let url =
        std::env::var("KYSO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("t_throttle_reopen_{}_{}", std::process::id(), now % 100_000);
    let pg = match Store::open_postgres_schema(&url, &schema).await {
        Ok(pg) => pg,
        Err(e) if std::env::var("KYSO_REQUIRE_POSTGRES").as_deref() == Ok("1") => panic!("PostgreSQL required: {e}"),
        Err(e) => return eprintln!("NOTICE: PostgreSQL unavailable ({e}); reopen tested on SQLite only"),
    };
    for _ in 0..5 {
        pg.count_attempt(&[key("citizen:x", 5)], now).await.unwrap().unwrap();
    }
    pg.close().await;
    let again = Store::open_postgres_schema(&url, &schema).await.unwrap();
    assert!(again.count_attempt(&[key("citizen:x", 5)], now + 1).await.unwrap().is_err(), "postgres: still full");
}
