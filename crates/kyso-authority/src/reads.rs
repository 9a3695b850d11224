//! Where reads go when the province runs a read replica (`kyso serve --read-database-url`):
//! dashboards, rankings and exports ([`Authority::read_store`]), OCSP answers and CRL building
//! go to the standby while it is within the lag bound, to the primary past it. Writes always go
//! to the primary (`Authority::store`).
//!
//! OCSP is the delicate one: its responses are pre-produced and cached, and the cache learns of
//! revocations by other processes from the audit log (`status.rs`, the change feed). A response
//! produced from the standby must never be older than what the change feed has already told the
//! cache, or a stale "good" would be kept until the next refresh. So the OCSP reads carry a
//! *floor*: a moment on the primary that the standby must have replayed to be used. The floor
//! rises when the change feed reads revocations from the primary (the standby is behind), when this
//! process revokes, and when the cache starts (the feed starts from the primary's head). A fill
//! reads its shard's generation first, then the floor, then the status, so a revocation the feed
//! handles after the fill began is refused at insertion (`OcspCache::fill`) and one handled
//! before is on whichever store the fill reads.

use crate::Authority;
use kyso_store::replica::ReadReplica;
use kyso_store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Reads {
    replica: Option<ReadReplica>,
    /// The OCSP floor ([`Mark`] on the replica's clock; 0 = none).
    ocsp_floor: AtomicU64,
}

impl Authority {
    /// Read dashboards, rankings and exports from this replica while it is within its bound
    /// (set before the server starts).
    pub fn set_read_replica(&mut self, replica: ReadReplica) {
        self.reads.replica = Some(replica);
    }

    pub fn read_replica(&self) -> Option<&ReadReplica> {
        self.reads.replica.as_ref()
    }

    /// The store for reads that may be as old as the replica's bound: the replica while it is
    /// within it, else the primary.
    pub fn read_store(&self) -> &Store {
        match &self.reads.replica {
            Some(r) if r.fresh_since(0) => r.store(),
            _ => &self.store,
        }
    }

    /// The store for an OCSP status read or a change-feed read: the replica while it is within
    /// its bound and has replayed past the OCSP floor. The second value says it is the replica.
    pub(crate) fn ocsp_store(&self) -> (&Store, bool) {
        match &self.reads.replica {
            Some(r) if r.fresh_since(self.reads.ocsp_floor.load(Ordering::Acquire)) => (r.store(), true),
            _ => (&self.store, false),
        }
    }

    /// Raise the OCSP floor to now: what this process has just read from, or written to, the
    /// primary must be on the replica before OCSP reads it there.
    pub(crate) fn raise_ocsp_floor(&self) {
        if let Some(r) = &self.reads.replica {
            self.reads.ocsp_floor.fetch_max(r.mark(), Ordering::AcqRel);
        }
    }

    /// The store for a read that must miss nothing committed so far (a CRL's revoked list): the
    /// replica once it has replayed everything committed until now (waiting at most its bound,
    /// and at most two seconds), else the primary.
    pub(crate) async fn complete_read_store(&self) -> &Store {
        match &self.reads.replica {
            Some(r) if r.caught_up_now(r.max_lag().min(Duration::from_secs(2))).await => r.store(),
            _ => &self.store,
        }
    }

    /// After a revocation committed: wait (at most the bound) until the replica has replayed it,
    /// so that servers whose OCSP reads the replica can see it on their next change-feed poll.
    pub(crate) async fn replica_caught_up(&self) {
        if let Some(r) = &self.reads.replica {
            if !r.caught_up_now(r.max_lag()).await {
                tracing::warn!("the read replica did not replay the revocation within its bound");
            }
        }
    }
}
