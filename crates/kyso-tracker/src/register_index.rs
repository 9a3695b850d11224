//! The register's column index ([`RegisterIndex`]): stored beside the register and rebuilt when the
//! register changed, so that adoption counts and provider-list matching never scan the row store.

use crate::Progress;
use anyhow::Result;
use kyso_campaign::register_index::{row_hash, RegisterIndex, RegisterIndexBuilder, RegisterIndexReader};
use kyso_store::Store;
use std::time::Instant;

/// The register's column index: the stored one if the register has not changed since it was
/// built, else built now from one scan of the register and stored for the next reader.
pub async fn register_index(store: &Store, progress: &mut dyn Progress) -> Result<RegisterIndex> {
    Ok(register_index_at(store, progress).await?.0)
}

/// [`register_index`] with the register generation it was built from.
pub async fn register_index_at(store: &Store, progress: &mut dyn Progress) -> Result<(RegisterIndex, i64)> {
    let read = store
        .read_register_index(
            |total| (RegisterIndexReader::with_len(total), None::<String>),
            |(reader, failed), part| {
                if failed.is_none() {
                    if let Err(e) = reader.feed(part) {
                        *failed = Some(e);
                    }
                }
            },
        )
        .await?;
    if let Some((generation, (reader, failed))) = read {
        match failed.map_or_else(|| reader.finish(), Err) {
            Ok(ix) => return Ok((ix, generation)),
            Err(e) => tracing::warn!("the stored register index is unusable ({e}): rebuilding it"),
        }
    }
    build(store, progress).await
}

/// Stores `ix`, the index of the register at `generation` (an import's index updated in place),
/// unless the register changed since.
pub async fn save(store: &Store, ix: &RegisterIndex, generation: i64) -> Result<bool> {
    Ok(store.save_register_index(generation, &ix.encode()).await?)
}

/// Builds the index from one scan of the register and stores it (unless the register changed
/// meanwhile).
pub async fn build(store: &Store, progress: &mut dyn Progress) -> Result<(RegisterIndex, i64)> {
    let started = Instant::now();
    progress.note("register index: reading the register…");
    let state = (RegisterIndexBuilder::default(), 0u64, None::<String>);
    let (generation, (builder, bad, first_bad)) = store
        .scan_register(state, |(b, bad, first), r| {
            let hash = row_hash(r.full_name, r.date_of_birth, r.sex, r.commune_code, r.hamlet_code, r.household);
            if let Err(e) = b.push(r.id_number, r.commune_code, r.date_of_birth, hash) {
                *bad += 1;
                first.get_or_insert(e);
            }
        })
        .await?;
    if let Some(e) = first_bad {
        progress.note(&format!("register index: {bad} register rows left out, the first because {e}"));
    }
    let ix = builder.finish();
    let kept = store.save_register_index(generation, &ix.encode()).await?;
    progress.note(&format!(
        "register index: {} residents in {:.1} s{}",
        ix.len(),
        started.elapsed().as_secs_f64(),
        if kept { "" } else { " (the register changed meanwhile: not stored)" }
    ));
    Ok((ix, generation))
}
