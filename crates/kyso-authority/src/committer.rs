//! Group commit: concurrent operations hand their writes to one task that commits them together,
//! so N issuances cost one fsync. Nobody gets an answer before their writes are durable.
//!
//! On SQLite the writer thread owns a direct connection ([`SqliteWriter`]) and applies the
//! issuance writes on its own thread, statement by prepared statement; other batches (and
//! PostgreSQL) go through [`Store::commit`].

use kyso_store::{SqliteWriter, Store, StoreError, Write};
use tokio::sync::{mpsc, oneshot};

type Job = (Vec<Write>, oneshot::Sender<Result<(), StoreError>>);

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

const MAX_BATCH_WRITES: usize = 6000;

async fn commit(store: &Store, direct: &mut Option<SqliteWriter>, writes: &[Write]) -> Result<(), StoreError> {
    match direct {
        Some(w) if SqliteWriter::handles(writes) => w.commit(writes),
        _ => store.commit(writes).await,
    }
}

impl Committer {
    pub fn start(store: Store) -> Committer {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let mut direct = match store.sqlite_writer() {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "no direct SQLite writer; group commits go through the pool");
                None
            }
        };
        // The writer gets a thread of its own: on a shared runtime it would queue behind
        // thousands of CPU-bound issuance tasks and the whole pipeline would stall.
        let writer = async move {
            let mut all: Vec<Write> = Vec::with_capacity(MAX_BATCH_WRITES);
            let mut waiting: Vec<(usize, oneshot::Sender<Result<(), StoreError>>)> = Vec::new();
            while let Some((w, reply)) = rx.recv().await {
                all.clear();
                waiting.clear();
                waiting.push((w.len(), reply));
                all.extend(w);
                while all.len() < MAX_BATCH_WRITES {
                    match rx.try_recv() {
                        Ok((w, reply)) => {
                            waiting.push((w.len(), reply));
                            all.extend(w);
                        }
                        Err(_) => break,
                    }
                }
                let t = std::time::Instant::now();
                let result = commit(&store, &mut direct, &all).await;
                tracing::debug!(
                    jobs = waiting.len(),
                    writes = all.len(),
                    ms = t.elapsed().as_millis() as u64,
                    "group commit"
                );
                match result {
                    Ok(()) => waiting.drain(..).for_each(|(_, reply)| {
                        let _ = reply.send(Ok(()));
                    }),
                    Err(e) if waiting.len() == 1 => {
                        let _ = waiting.pop().map(|(_, reply)| reply.send(Err(e)));
                    }
                    // One bad job must not fail its neighbours: retry them one by one.
                    Err(_) => {
                        let mut start = 0;
                        for (len, reply) in waiting.drain(..) {
                            let _ = reply.send(commit(&store, &mut direct, &all[start..start + len]).await);
                            start += len;
                        }
                    }
                }
            }
        };
        std::thread::Builder::new()
            .name("kyso-writer".into())
            .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(writer),
                Err(e) => tracing::error!(error = %e, "cannot start the storage writer"),
            })
            .expect("spawn the storage writer thread");
        Committer { tx }
    }

    pub async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send((writes, tx)).await.map_err(|_| StoreError::Conflict("storage writer has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Conflict("storage writer has stopped".into()))?
    }
}
