//! Provider-list certificates packed per ID range (migration 8): the storage layout, no IO.
//!
//! A provider list reports millions of certificates at once, and one row per certificate costs
//! SQLite about a microsecond of B-tree work each — seconds for a national list. So the
//! certificates are stored as *blocks*: one row (`provider_cert_blocks`) holds the certificates of
//! a run of ID numbers as fixed-width 32-byte records sorted by (ID number, provider code, issue
//! day). A national list of 4 million is ~15,000 rows.
//!
//! Invariants the functions here keep, and the store relies on:
//! - records in a block are sorted by key and unique;
//! - an ID number's certificates are all in one block, so the block holding an ID is the one
//!   with the greatest `first_id` not above it (or the first block, for an ID below every block);
//! - blocks are disjoint and ordered: a block's `last_id` is below the next block's `first_id`.
//!
//! An import merges the list into only the blocks it touches ([`merge`]) and writes back only the
//! blocks it changed, re-cut into blocks of about [`BLOCK`] records ([`cut`]).

use kyso_campaign::provider_list::STATUSES;

/// Bytes per record.
pub const RECORD: usize = 32;

/// Records per block when blocks are (re)written: 8 KiB rows, small enough that reading the
/// blocks of one commune's residents stays cheap, large enough that a national list is few rows.
pub const BLOCK: usize = 256;

/// One stored provider-list certificate. Days count from 1970-01-01; `provider` is a code of
/// `list_providers`; `status` indexes [`STATUSES`]; imports are `provider_list_imports` ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: u64,
    pub provider: u16,
    pub status: u8,
    pub issued: i32,
    /// The first day it no longer counts.
    pub expires: Option<i32>,
    /// Revoked (or reported ended) on this day.
    pub ended: Option<i32>,
    /// The import that first reported it, and the last one that changed it.
    pub first_import: u32,
    pub last_import: u32,
}

const HAS_EXPIRES: u8 = 1;
const HAS_ENDED: u8 = 2;

impl Listed {
    /// The identity of a certificate: (ID number, provider, issue day).
    pub fn key(&self) -> (u64, u16, i32) {
        (self.id, self.provider, self.issued)
    }

    pub fn status_name(&self) -> &'static str {
        STATUSES[usize::from(self.status).min(STATUSES.len() - 1)]
    }

    /// Counts on `day`: issued on or before it, not yet at its expiry or end day.
    pub fn valid_on(&self, day: i32) -> bool {
        self.issued <= day && self.expires.is_none_or(|e| e > day) && self.ended.is_none_or(|e| e > day)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let flags =
            if self.expires.is_some() { HAS_EXPIRES } else { 0 } | if self.ended.is_some() { HAS_ENDED } else { 0 };
        out.extend_from_slice(&self.id.to_le_bytes());
        out.extend_from_slice(&self.provider.to_le_bytes());
        out.push(self.status);
        out.push(flags);
        out.extend_from_slice(&self.issued.to_le_bytes());
        out.extend_from_slice(&self.expires.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&self.ended.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&self.first_import.to_le_bytes());
        out.extend_from_slice(&self.last_import.to_le_bytes());
    }

    fn decode(b: &[u8]) -> Listed {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let i32_at = |i: usize| u32_at(i) as i32;
        let flags = b[11];
        Listed {
            id: u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            provider: u16::from_le_bytes([b[8], b[9]]),
            status: b[10],
            issued: i32_at(12),
            expires: (flags & HAS_EXPIRES != 0).then(|| i32_at(16)),
            ended: (flags & HAS_ENDED != 0).then(|| i32_at(20)),
            first_import: u32_at(24),
            last_import: u32_at(28),
        }
    }
}

/// The bytes of a block.
pub fn encode_block(records: &[Listed]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * RECORD);
    encode_block_into(records, &mut out);
    out
}

/// [`encode_block`] appended to a buffer the caller reuses.
pub fn encode_block_into(records: &[Listed], out: &mut Vec<u8>) {
    out.reserve(records.len() * RECORD);
    for r in records {
        r.encode(out);
    }
}

/// The records of a block; an error names the block and what is wrong with its bytes.
pub fn decode_block(first_id: i64, data: &[u8]) -> Result<Vec<Listed>, String> {
    if !data.len().is_multiple_of(RECORD) {
        return Err(format!("provider block {first_id}: {} bytes is not a whole number of records", data.len()));
    }
    let records: Vec<Listed> = data.chunks_exact(RECORD).map(Listed::decode).collect();
    if records.first().is_some_and(|r| r.id as i64 != first_id) || records.windows(2).any(|w| w[0].key() >= w[1].key())
    {
        return Err(format!("provider block {first_id}: records out of order or not starting at {first_id}"));
    }
    Ok(records)
}

/// The records of a block whose ID number is in `ids` (sorted), found by binary search on the
/// fixed-width records: a block is not decoded to pick a few IDs out of it.
pub fn records_of(first_id: i64, data: &[u8], ids: &[u64], out: &mut Vec<Listed>) -> Result<(), String> {
    if !data.len().is_multiple_of(RECORD) || data.is_empty() {
        return Err(format!("provider block {first_id}: {} bytes is not a whole number of records", data.len()));
    }
    let n = data.len() / RECORD;
    let id_at = |k: usize| u64::from_le_bytes(data[k * RECORD..k * RECORD + 8].try_into().unwrap_or_default());
    let (lo, hi) = (id_at(0), id_at(n - 1));
    if lo as i64 != first_id {
        return Err(format!("provider block {first_id}: records not starting at {first_id}"));
    }
    let wanted = &ids[ids.partition_point(|&i| i < lo)..ids.partition_point(|&i| i <= hi)];
    let mut from = 0;
    for &id in wanted {
        // The first record of `id` at or after `from` (IDs ascend), then its run.
        let (mut a, mut b) = (from, n);
        while a < b {
            let m = (a + b) / 2;
            if id_at(m) < id {
                a = m + 1;
            } else {
                b = m;
            }
        }
        let mut k = a;
        while k < n && id_at(k) == id {
            out.push(Listed::decode(&data[k * RECORD..(k + 1) * RECORD]));
            k += 1;
        }
        from = k;
    }
    Ok(())
}

/// Calls `f` for every record of a block without collecting them (for scans of every block).
pub fn for_each_record(data: &[u8], mut f: impl FnMut(Listed)) {
    data.chunks_exact(RECORD).for_each(|b| f(Listed::decode(b)));
}

/// Cuts sorted records into blocks of about [`BLOCK`] (equal shares of `ceil(n / BLOCK)`), each
/// cut moved forward to where the ID number changes, so no ID spans two blocks.
pub fn cut(records: &[Listed]) -> Vec<&[Listed]> {
    let n = records.len();
    let blocks = n.div_ceil(BLOCK).max(1);
    let mut out = Vec::with_capacity(blocks);
    let mut start = 0;
    for b in 1..=blocks {
        let mut end = if b == blocks { n } else { (n * b / blocks).max(start) };
        while end > start && end < n && records[end].id == records[end - 1].id {
            end += 1;
        }
        if end > start {
            out.push(&records[start..end]);
            start = end;
        }
    }
    out
}

/// Groups items sorted by ID number by the block each belongs to: `(index into first_ids,
/// range of items)`, in order. With no blocks, everything is one group of index `None`.
pub fn groups<T>(
    first_ids: &[i64],
    items: &[T],
    id: impl Fn(&T) -> u64,
) -> Vec<(Option<usize>, std::ops::Range<usize>)> {
    if first_ids.is_empty() {
        return if items.is_empty() { Vec::new() } else { vec![(None, 0..items.len())] };
    }
    let mut out: Vec<(Option<usize>, std::ops::Range<usize>)> = Vec::new();
    let mut b = 0;
    for (i, item) in items.iter().enumerate() {
        let id = id(item) as i64;
        while b + 1 < first_ids.len() && first_ids[b + 1] <= id {
            b += 1;
        }
        match out.last_mut() {
            Some((Some(last), range)) if *last == b => range.end = i + 1,
            _ => out.push((Some(b), i..i + 1)),
        }
    }
    out
}

/// The block holding `id`: the greatest `first_id` not above it, else the first.
pub fn block_of(first_ids: &[i64], id: u64) -> Option<usize> {
    if first_ids.is_empty() {
        return None;
    }
    Some(first_ids.partition_point(|&f| f <= id as i64).saturating_sub(1))
}

/// What a merge did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub inserted: u64,
    pub changed: u64,
}

/// Merges a list's certificates (sorted by key, each key once) into a block's records (sorted).
/// A new key is inserted; a known one takes the list's status, its expiry when it gives one,
/// and the earlier of the two end days — and is left as it is (its `last_import` too) when the
/// list says nothing new, so a re-import changes nothing.
pub fn merge(existing: &[Listed], incoming: &[Listed], import: u32) -> (Vec<Listed>, Merged) {
    let mut out = Vec::with_capacity(existing.len() + incoming.len());
    let mut m = Merged::default();
    let (mut i, mut j) = (0, 0);
    while i < existing.len() || j < incoming.len() {
        let take_existing = j == incoming.len() || (i < existing.len() && existing[i].key() < incoming[j].key());
        if take_existing {
            out.push(existing[i]);
            i += 1;
            continue;
        }
        let n = incoming[j];
        j += 1;
        if i < existing.len() && existing[i].key() == n.key() {
            let mut e = existing[i];
            i += 1;
            let changed = n.status != e.status
                || (n.expires.is_some() && n.expires != e.expires)
                || n.ended.is_some_and(|d| e.ended.is_none_or(|old| d < old));
            if changed {
                e.expires = n.expires.or(e.expires);
                e.ended = match (n.ended, e.ended) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                e.status = n.status;
                e.last_import = import;
                m.changed += 1;
            }
            out.push(e);
        } else {
            out.push(Listed { first_import: import, last_import: import, ..n });
            m.inserted += 1;
        }
    }
    (out, m)
}

/// Puts records sorted by (ID number, anything) into key order: the certificates of one ID are
/// few, so each run of equal IDs is sorted on its own (linear for a list already in ID order).
pub fn sort_within_ids(records: &mut [Listed]) {
    let mut start = 0;
    while start < records.len() {
        let id = records[start].id;
        let end = start + records[start..].iter().take_while(|r| r.id == id).count();
        if end - start > 1 {
            records[start..end].sort_unstable_by_key(Listed::key);
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, provider: u16, issued: i32) -> Listed {
        Listed { id, provider, status: 0, issued, expires: None, ended: None, first_import: 0, last_import: 0 }
    }

    #[test]
    fn records_round_trip_and_bad_blocks_are_named() {
        let a = Listed {
            expires: Some(20_500),
            ended: Some(-3),
            status: 2,
            first_import: 7,
            last_import: 9,
            ..rec(1, 3, 20_000)
        };
        let b = Listed { id: 999_999_999_999, ..rec(0, 65_534, i32::MIN) };
        let bytes = encode_block(&[a, b]);
        assert_eq!(bytes.len(), 2 * RECORD);
        assert_eq!(decode_block(1, &bytes).unwrap(), vec![a, b]);
        assert!(decode_block(1, &bytes[..40]).unwrap_err().contains("40 bytes"));
        assert!(decode_block(2, &bytes).unwrap_err().contains("block 2"), "first id must match");
        let backwards = encode_block(&[b, a]);
        assert!(decode_block(b.id as i64, &backwards).is_err());
        // Picking IDs out of a block gives what decoding and filtering gives.
        let many: Vec<Listed> = (0..300u64).map(|i| rec(1000 + i / 3 * 2, (i % 3) as u16, 1)).collect();
        let block = encode_block(&many);
        let ids = [1, 1000, 1001, 1002, 1100, 1198, 1199, 5000];
        let mut picked = Vec::new();
        records_of(1000, &block, &ids, &mut picked).unwrap();
        let filtered: Vec<Listed> = many.iter().copied().filter(|r| ids.contains(&r.id)).collect();
        assert_eq!((picked.len(), &picked), (12, &filtered));
        assert!(records_of(999, &block, &ids, &mut picked).is_err());
        assert!(records_of(1000, &block[..40], &ids, &mut picked).is_err());
        // None and Some(0) stay apart.
        let zero = Listed { expires: Some(0), ..rec(5, 0, -10) };
        assert_eq!(decode_block(5, &encode_block(&[zero])).unwrap()[0], zero);
    }

    #[test]
    fn merge_inserts_updates_by_the_rule_and_leaves_unchanged_alone() {
        let old = [
            Listed { expires: Some(100), last_import: 1, first_import: 1, ..rec(10, 0, 5) },
            Listed { ended: Some(50), last_import: 1, first_import: 1, ..rec(20, 0, 5) },
            Listed { last_import: 1, first_import: 1, ..rec(30, 0, 5) },
        ];
        let incoming = [
            rec(5, 0, 1),                                           // new, before everything
            Listed { expires: None, ..rec(10, 0, 5) },              // says nothing new: unchanged
            Listed { ended: Some(60), ..rec(20, 0, 5) },            // later end: the earlier stays, unchanged
            Listed { ended: Some(40), status: 1, ..rec(30, 0, 5) }, // revoked: changed
            rec(30, 1, 5),                                          // same ID, other provider: new
        ];
        let (out, m) = merge(&old, &incoming, 2);
        assert_eq!(m, Merged { inserted: 2, changed: 1 });
        assert_eq!(
            out.iter().map(Listed::key).collect::<Vec<_>>(),
            [(5, 0, 1), (10, 0, 5), (20, 0, 5), (30, 0, 5), (30, 1, 5)]
        );
        assert_eq!((out[0].first_import, out[0].last_import), (2, 2));
        assert_eq!(out[1], old[0]);
        assert_eq!(out[2], old[1]);
        assert_eq!((out[3].status, out[3].ended, out[3].first_import, out[3].last_import), (1, Some(40), 1, 2));
        // An earlier end and a new expiry both change; an expiry is replaced, not kept.
        let (out, m) = merge(
            &out,
            &[Listed { expires: Some(90), ..rec(10, 0, 5) }, Listed { ended: Some(45), ..rec(20, 0, 5) }],
            3,
        );
        assert_eq!(m.changed, 2);
        assert_eq!(out[1].expires, Some(90));
        assert_eq!(out[2].ended, Some(45));
        // The same list again: nothing.
        let (again, m) = merge(&out, &[out[1]], 4);
        assert_eq!((again, m), (out.clone(), Merged::default()));
    }

    #[test]
    fn cuts_never_split_an_id_and_groups_find_each_ids_block() {
        // 1,000 records, IDs repeating in threes: cuts fall between IDs.
        let mut records: Vec<Listed> = (0..1000).map(|i| rec(100 + (i / 3) as u64, (i % 3) as u16, 1)).collect();
        sort_within_ids(&mut records);
        let blocks = cut(&records);
        assert_eq!(blocks.len(), 1000usize.div_ceil(BLOCK));
        assert_eq!(blocks.iter().map(|b| b.len()).sum::<usize>(), 1000);
        for w in blocks.windows(2) {
            assert!(w[0].last().unwrap().id < w[1][0].id, "an ID spans two blocks");
        }
        assert!(blocks.iter().all(|b| b.len() <= BLOCK + 2 && b.len() >= BLOCK / 2));
        // One ID with more certificates than a block holds stays whole.
        let many: Vec<Listed> = (0..(BLOCK as i32 * 2 + 1)).map(|d| rec(7, 0, d)).collect();
        assert_eq!(cut(&many).len(), 1);
        assert_eq!(cut(&[]).len(), 0);

        let first_ids: Vec<i64> = blocks.iter().map(|b| b[0].id as i64).collect();
        let probe = [
            rec(1, 0, 0),
            rec(100, 0, 0),
            rec(first_ids[1] as u64, 0, 0),
            rec(first_ids[1] as u64 + 1, 0, 0),
            rec(9999, 0, 0),
        ];
        let g = groups(&first_ids, &probe, |r| r.id);
        assert_eq!(g, vec![(Some(0), 0..2), (Some(1), 2..4), (Some(first_ids.len() - 1), 4..5)]);
        assert_eq!(block_of(&first_ids, 1), Some(0));
        assert_eq!(block_of(&first_ids, first_ids[2] as u64), Some(2));
        assert_eq!(block_of(&first_ids, first_ids[2] as u64 - 1), Some(1));
        assert_eq!(block_of(&[], 5), None);
        assert_eq!(groups(&[], &probe, |r| r.id), vec![(None, 0..5)]);
    }

    #[test]
    fn sorting_within_ids_orders_by_provider_then_day() {
        let mut r = vec![rec(1, 2, 5), rec(1, 0, 9), rec(1, 0, 3), rec(2, 1, 1), rec(2, 0, 1)];
        sort_within_ids(&mut r);
        assert_eq!(
            r.iter().map(Listed::key).collect::<Vec<_>>(),
            [(1, 0, 3), (1, 0, 9), (1, 2, 5), (2, 0, 1), (2, 1, 1)]
        );
        let valid = Listed { expires: Some(10), ended: Some(8), ..rec(1, 0, 5) };
        assert_eq!((4..=9).map(|d| valid.valid_on(d)).collect::<Vec<_>>(), [false, true, true, true, false, false]);
    }
}
