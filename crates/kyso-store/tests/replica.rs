//! A read replica (PostgreSQL streaming replication) and its lag bound, on a primary and a hot
//! standby made for this test (`kyso_testkit::pg_cluster`: initdb, pg_basebackup -R, on free
//! ports; skipped with a notice unless KYSO_REQUIRE_POSTGRES=1). Checks that an idle primary
//! keeps the standby "fresh" (the LSN comparison, where replay timestamps would call it stale),
//! that a write is seen on the standby once it is caught up, that a standby whose replay is
//! paused crosses the bound and is no longer used once the primary moves on (and is used again
//! after it catches up), and the refusals: a SQLite primary, a URL that is not a standby.

use kyso_store::replica::ReadReplica;
use kyso_store::{AuditEvent, AuditKey, Store, StoreError, Write};
use kyso_testkit::pg_cluster;
use std::time::{Duration, Instant};

/// Large enough for a loaded 2-core machine (load average 10 seen while other tests ran), whose
/// sampler may be starved of CPU for a second or more.
const BOUND: Duration = Duration::from_millis(3000);

async fn audit(s: &Store, subject: &str) {
    s.commit(&[Write::Audit(AuditEvent::new("test", "replica.probe", subject, ""))]).await.unwrap();
}

async fn subjects(s: &Store) -> Vec<String> {
    s.audit_rows(0, 1000).await.unwrap().into_iter().map(|r| r.subject).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replica_is_read_within_the_bound_and_not_past_it() {
    let Some((primary, replica)) = pg_cluster::primary_and_replica("store-replica", "kyso") else { return };
    let p = Store::open(&primary.url("kyso")).await.unwrap().with_audit_key(AuditKey::insecure_test_key());
    // the standby has kyso's tables once it replayed the migrations
    replica
        .wait_for("kyso", "SELECT count(*) > 0 FROM kyso_migrations", "t", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", replica.log()));

    // Refusals, each naming what to do.
    let sqlite_dir = kyso_testkit::TempDir::new("kyso-replica", "sqlite");
    let sqlite = Store::open(&format!("sqlite://{}", sqlite_dir.path().join("k.db").display())).await.unwrap();
    match ReadReplica::connect(&sqlite, &replica.url("kyso"), BOUND).await {
        Err(StoreError::Replica(m)) => assert!(m.contains("SQLite") && m.contains("PostgreSQL"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a SQLite primary with a replica was accepted"),
    }
    match ReadReplica::connect(&p, &primary.url("kyso"), BOUND).await {
        Err(StoreError::Replica(m)) => assert!(m.contains("not a standby") && m.contains("pg_is_in_recovery"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("the primary itself was accepted as its replica"),
    }
    match ReadReplica::connect(&p, "sqlite://x.db", BOUND).await {
        Err(StoreError::Replica(m)) => assert!(m.contains("postgres://"), "{m}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a sqlite replica URL was accepted"),
    }

    let r = ReadReplica::connect(&p, &replica.url("kyso"), BOUND).await.unwrap();
    assert!(r.fresh_since(0), "measured at connect: {:?}", r.staleness());

    // An idle primary: nothing is written for twice the bound, the standby stays fresh
    // (its replay position equals the primary's WAL position; the age of the last replayed
    // transaction would grow all that time).
    tokio::time::sleep(BOUND * 2).await;
    let stale = r.staleness().unwrap();
    assert!(stale < BOUND, "idle primary, caught-up standby, yet {stale:?} stale");
    assert!(r.fresh_since(0));

    // A write on the primary: once caught up, the standby shows it.
    audit(&p, "first").await;
    assert!(r.caught_up_now(Duration::from_secs(5)).await, "the standby did not replay a write in 5 s");
    assert!(subjects(r.store()).await.contains(&"first".to_string()));
    // and writing there fails: it is a standby
    assert!(r.store().commit(&[Write::Audit(AuditEvent::new("t", "x", "y", ""))]).await.is_err());

    // Replay paused: as long as the primary writes nothing more the standby still has everything
    // (fresh; not waited for long: the primary logs a running-transactions record by itself
    // every 15 s after activity); once the primary moves on, it is stale past the bound and not
    // used.
    replica.psql("kyso", "SELECT pg_wal_replay_pause()").unwrap();
    replica.wait_for("kyso", "SELECT pg_get_wal_replay_pause_state()", "paused", Duration::from_secs(10)).unwrap();
    assert!(r.fresh_since(0), "paused but nothing to replay: still everything, {:?}", r.staleness());
    let floor = r.mark();
    audit(&p, "second").await;
    assert!(!r.caught_up_now(BOUND / 2).await, "a paused standby cannot have replayed the second write");
    assert!(!r.fresh_since(floor), "the standby lacks a write made after this mark");
    let t = Instant::now();
    while r.fresh_since(0) {
        assert!(t.elapsed() < BOUND * 3, "still called fresh {:?} after the write, bound {BOUND:?}", t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(r.staleness().unwrap() > BOUND);
    assert!(!subjects(r.store()).await.contains(&"second".to_string()), "replay was paused");

    // Resumed: it catches up, shows the write, and is within the bound again.
    replica.psql("kyso", "SELECT pg_wal_replay_resume()").unwrap();
    assert!(r.caught_up_now(Duration::from_secs(10)).await, "no catch-up after resume");
    assert!(r.fresh_since(floor));
    assert!(subjects(r.store()).await.contains(&"second".to_string()));

    // The standby goes away: the staleness grows past the bound by itself.
    drop(replica);
    let t = Instant::now();
    while r.fresh_since(0) {
        assert!(t.elapsed() < BOUND * 3, "a stopped standby still called fresh after {:?}", t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.close().await;
}
