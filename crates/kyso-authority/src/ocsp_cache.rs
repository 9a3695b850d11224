//! Pre-produced OCSP responses (RFC 5019): a signed response per certificate, kept in memory so
//! that a request with one known CertID and no nonce is answered without the database or a
//! signature. The store stays the source: every entry is produced from a status read from it.
//!
//! Bounded for national scale (tens of millions of certificates): only recently requested or
//! recently issued or revoked serials are kept. 64 shards, each two generations of a hash map
//! ("hot" and "cold"): a hit in cold moves the entry to hot; when hot is full, cold is dropped and
//! hot becomes cold. That is LRU-ish at O(1) per operation, and the total stays under the cap.
//!
//! Memory per entry, EC P-256 responder: the key (~70 B: hash OID, issuer name and key hashes,
//! serial, provider) + the response DER (~850 B, with the responder's certificate) + the CertID
//! DER (~75 B) + the ETag and fields (~80 B) + the map slot (~50 B) ≈ 1.1 KB; an RSA-2048
//! responder adds ~0.5 KB. The default cap of 200,000 entries is ≈ 220 MB
//! (`KYSO_OCSP_CACHE_ENTRIES`).
//!
//! Revocation racing a fill: a fill reads its shard's generation before it reads the status from
//! the store and inserts only if the generation is unchanged; a revocation, after its commit,
//! bumps the generation and replaces (or removes) the entry under the shard's lock. So a "good"
//! read before the commit is either overwritten by the revocation or refused at insertion.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const SHARDS: usize = 64;

/// One pre-produced response and what HTTP caches need to know about it.
#[derive(Clone, Debug)]
pub struct Produced {
    pub der: Vec<u8>,
    /// Quoted, strong: a hash of `der`.
    pub etag: String,
    /// producedAt = thisUpdate (Unix seconds).
    pub produced_at: i64,
    pub next_update: i64,
    pub revoked: bool,
    /// Which responder, and the CertID it answers (to re-produce it before nextUpdate).
    pub provider: Arc<str>,
    pub cert_id_der: Vec<u8>,
}

#[derive(Default)]
struct Shard {
    hot: HashMap<Vec<u8>, Arc<Produced>>,
    cold: HashMap<Vec<u8>, Arc<Produced>>,
    generation: u64,
}

pub struct OcspCache {
    shards: Box<[Mutex<Shard>]>,
    /// Entries per generation per shard (a shard holds at most twice this).
    half: usize,
    hasher: RandomState,
    /// Set once the change feed is followed (see `Authority::ensure_ocsp_cache`); until then
    /// nothing is served from or put in the cache.
    active: AtomicBool,
    started: AtomicBool,
}

impl Default for OcspCache {
    fn default() -> OcspCache {
        let cap = std::env::var("KYSO_OCSP_CACHE_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
        OcspCache::new(cap)
    }
}

impl OcspCache {
    pub fn new(capacity: usize) -> OcspCache {
        OcspCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            half: (capacity / SHARDS / 2).max(1),
            hasher: RandomState::new(),
            active: AtomicBool::new(false),
            started: AtomicBool::new(false),
        }
    }

    fn shard(&self, key: &[u8]) -> std::sync::MutexGuard<'_, Shard> {
        let i = self.hasher.hash_one(key) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(crate) fn activate(&self) {
        self.active.store(true, Ordering::Release);
    }

    /// True the first time only (whoever gets it starts the background tasks).
    pub(crate) fn claim_start(&self) -> bool {
        // a plain load first: this runs on every OCSP request, and a swap would write the line
        !self.started.load(Ordering::Acquire) && !self.started.swap(true, Ordering::AcqRel)
    }

    /// The cached response for `key` if it is still current at `now` (Unix seconds).
    pub fn get(&self, key: &[u8], now: i64) -> Option<Arc<Produced>> {
        let mut s = self.shard(key);
        let p = match s.hot.get(key) {
            Some(p) => p.clone(),
            None => {
                let p = s.cold.remove(key)?;
                s.insert_hot(key.to_vec(), p.clone(), self.half);
                p
            }
        };
        (p.next_update > now).then_some(p)
    }

    /// Read before the status is read from the store; hand back to [`OcspCache::fill`].
    pub fn generation(&self, key: &[u8]) -> u64 {
        self.shard(key).generation
    }

    /// Keep `p` unless a revocation touched this shard since `generation` was read. Returns
    /// whether it was kept.
    pub fn fill(&self, key: Vec<u8>, generation: u64, p: Arc<Produced>) -> bool {
        let mut s = self.shard(&key);
        if s.generation != generation {
            return false;
        }
        s.insert_hot(key, p, self.half);
        true
    }

    /// [`OcspCache::fill`] for a response produced because none was cached (a request's miss, an
    /// issuance's pre-production): a current entry put there meanwhile by another producer is
    /// kept, so that every client — and every HTTP cache — gets the same bytes for as long as
    /// they are current. Returns the entry now cached, or None when refused (a revocation touched
    /// the shard since `generation` was read).
    pub fn fill_missing(&self, key: Vec<u8>, generation: u64, p: Arc<Produced>, now: i64) -> Option<Arc<Produced>> {
        let mut s = self.shard(&key);
        if s.generation != generation {
            return None;
        }
        if let Some(kept) = s.hot.get(&key).or_else(|| s.cold.get(&key)).filter(|k| k.next_update > now) {
            return Some(kept.clone());
        }
        s.insert_hot(key, p.clone(), self.half);
        Some(p)
    }

    /// After a revocation committed: bump the generation and put the revoked response in place.
    pub fn replace(&self, key: Vec<u8>, p: Arc<Produced>) {
        let mut s = self.shard(&key);
        s.generation += 1;
        s.cold.remove(&key);
        s.insert_hot(key, p, self.half);
    }

    /// After a revocation committed elsewhere: bump the generation and drop the entry (the next
    /// request reads the store).
    pub fn invalidate(&self, key: &[u8]) {
        let mut s = self.shard(key);
        s.generation += 1;
        s.hot.remove(key);
        s.cold.remove(key);
    }

    /// Entries produced at or before `before` (Unix seconds) and asked for lately (in the hot
    /// generation): due for a refresh. Due entries of the cold generation are dropped instead, so
    /// that refreshing does not keep serials nobody asks for.
    pub fn due(&self, before: i64) -> Vec<(Vec<u8>, Arc<Produced>)> {
        let mut out = Vec::new();
        for sh in self.shards.iter() {
            let mut s = sh.lock().unwrap_or_else(|e| e.into_inner());
            s.cold.retain(|_, p| p.produced_at > before);
            for (k, p) in s.hot.iter() {
                if p.produced_at <= before {
                    out.push((k.clone(), p.clone()));
                }
            }
        }
        out
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                s.hot.len() + s.cold.len()
            })
            .sum()
    }
}

impl Shard {
    fn insert_hot(&mut self, key: Vec<u8>, p: Arc<Produced>, half: usize) {
        if self.hot.len() >= half && !self.hot.contains_key(&key) {
            self.cold = std::mem::take(&mut self.hot);
            self.cold.remove(&key);
        }
        self.hot.insert(key, p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn produced(revoked: bool) -> Arc<Produced> {
        Arc::new(Produced {
            der: vec![u8::from(revoked)],
            etag: String::new(),
            produced_at: 0,
            next_update: i64::MAX,
            revoked,
            provider: "p".into(),
            cert_id_der: Vec::new(),
        })
    }

    #[test]
    fn bounded_and_recently_used_entries_survive() {
        let c = OcspCache::new(SHARDS * 4);
        for i in 0..10_000u32 {
            c.fill(i.to_be_bytes().to_vec(), c.generation(&i.to_be_bytes()), produced(false));
            // key 0 is asked for all the time: it stays
            assert!(c.get(&0u32.to_be_bytes(), 1).is_some(), "at {i}");
        }
        assert!(c.len() <= SHARDS * 4, "{} entries", c.len());
    }

    #[test]
    fn a_fill_that_read_before_the_revocation_is_refused() {
        let c = OcspCache::new(1000);
        let key = b"serial".to_vec();
        let g = c.generation(&key); // the fill reads the generation, then "good" from the store
        c.replace(key.clone(), produced(true)); // the revocation commits and replaces
        assert!(!c.fill(key.clone(), g, produced(false)), "a stale good must not be kept");
        assert!(c.get(&key, 1).unwrap().revoked);
        // an invalidation (revocation seen on the change feed) also refuses it
        let g = c.generation(&key);
        c.invalidate(&key);
        assert!(!c.fill(key.clone(), g, produced(false)));
        assert!(c.get(&key, 1).is_none());
    }

    #[test]
    fn a_second_producer_gets_the_response_already_cached() {
        let c = OcspCache::new(1000);
        let key = b"serial".to_vec();
        let (g1, g2) = (c.generation(&key), c.generation(&key)); // two misses at once
        let first = Arc::new(Produced { der: vec![1], ..(*produced(false)).clone() });
        let second = Arc::new(Produced { der: vec![2], ..(*produced(false)).clone() });
        assert_eq!(c.fill_missing(key.clone(), g1, first, 1).unwrap().der, [1]);
        assert_eq!(c.fill_missing(key.clone(), g2, second, 1).unwrap().der, [1], "the first stays");
        assert_eq!(c.get(&key, 1).unwrap().der, [1]);
        // an expired entry is replaced
        let later = Arc::new(Produced { der: vec![3], ..(*produced(false)).clone() });
        assert_eq!(c.fill_missing(key.clone(), c.generation(&key), later, i64::MAX).unwrap().der, [3]);
        // a revocation since the generation was read refuses it, and the revoked entry stays
        let g = c.generation(&key);
        c.replace(key.clone(), produced(true));
        assert!(c.fill_missing(key.clone(), g, produced(false), 1).is_none());
        assert!(c.get(&key, 1).unwrap().revoked);
    }

    /// Fills racing revocations on many threads: once a revocation has replaced the entry, no
    /// fill that read its status before that may leave "good" behind.
    #[test]
    fn revocations_racing_fills_never_leave_good() {
        for round in 0..50 {
            let c = Arc::new(OcspCache::new(1000));
            let key = format!("serial-{round}").into_bytes();
            let revoked = Arc::new(AtomicBool::new(false));
            let fillers: Vec<_> = (0..4)
                .map(|_| {
                    let (c, key, revoked) = (c.clone(), key.clone(), revoked.clone());
                    std::thread::spawn(move || {
                        for _ in 0..2000 {
                            // the order of a real fill: generation, then the store's status
                            let g = c.generation(&key);
                            let is_revoked = revoked.load(Ordering::SeqCst);
                            std::thread::yield_now();
                            c.fill(key.clone(), g, produced(is_revoked));
                        }
                    })
                })
                .collect();
            std::thread::sleep(std::time::Duration::from_micros(200));
            // the revocation: commit, then replace under the shard's lock
            revoked.store(true, Ordering::SeqCst);
            c.replace(key.clone(), produced(true));
            for _ in 0..1000 {
                assert!(c.get(&key, 1).map(|p| p.revoked).unwrap_or(true), "good after the revocation returned");
            }
            for f in fillers {
                f.join().unwrap();
            }
            assert!(c.get(&key, 1).unwrap().revoked);
        }
    }
}
