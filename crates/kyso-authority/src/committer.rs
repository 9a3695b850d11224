//! Group commit: concurrent operations hand their writes to one task that commits them together,
//! so N issuances cost one fsync. Nobody gets an answer before their writes are durable.

use kyso_store::{Store, StoreError, Write};
use tokio::sync::{mpsc, oneshot};

type Job = (Vec<Write>, oneshot::Sender<Result<(), StoreError>>);

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

const MAX_BATCH_WRITES: usize = 6000;

impl Committer {
    pub fn start(store: Store) -> Committer {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                let mut n = jobs[0].0.len();
                while n < MAX_BATCH_WRITES {
                    match rx.try_recv() {
                        Ok(j) => {
                            n += j.0.len();
                            jobs.push(j);
                        }
                        Err(_) => break,
                    }
                }
                if jobs.len() == 1 {
                    let (w, reply) = jobs.pop().expect("one job");
                    let _ = reply.send(store.commit(w).await);
                    continue;
                }
                let all: Vec<Write> = jobs.iter().flat_map(|(w, _)| w.iter().cloned()).collect();
                match store.commit(all).await {
                    Ok(()) => jobs.into_iter().for_each(|(_, r)| {
                        let _ = r.send(Ok(()));
                    }),
                    // One bad job must not fail its neighbours: retry one by one.
                    Err(_) => {
                        for (w, r) in jobs {
                            let _ = r.send(store.commit(w).await);
                        }
                    }
                }
            }
        });
        Committer { tx }
    }

    pub async fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send((writes, tx)).await.map_err(|_| StoreError::Conflict("storage writer has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Conflict("storage writer has stopped".into()))?
    }
}
