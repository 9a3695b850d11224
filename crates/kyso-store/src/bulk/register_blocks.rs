//! The police register as blocks (migration 27): pure encoding, decoding and merging; the
//! backends read and write the bytes.
//!
//! A register of ten million residents is not ten million rows. Residents are kept as
//! `register_blocks`, each holding up to [`BLOCK_ROWS`] residents of one hamlet sorted by ID
//! number (key: commune, hamlet, first ID), beside a sorted copy of their birth days (the adult
//! counts of the nation read only those), and `register_ids`, up to [`ID_BLOCK_ROWS`] ID numbers
//! each with where the person lives, when born and their sex (key: first ID), which answers "who
//! is this ID" with one index seek. A first load writes ~20,000 + ~2,500 rows instead of ten
//! million rows and their index entries; a hamlet's worklist reads one or two blocks.
//!
//! Blocks are written only by [`merge_place`] and [`merge_ids`] (through the store's register
//! writer), so every block is sorted, within its limits and consistent with the ID blocks.

use crate::campaign::ResidentRow;
use crate::StoreError;
use kyso_campaign::register_index::{day_number, id_key};
use std::collections::HashMap;

/// Residents per block at most: a hamlet of a few hundred residents is one block.
pub(crate) const BLOCK_ROWS: usize = 512;
/// ID entries per ID block: new blocks are cut at this size, a block is split past twice it.
pub(crate) const ID_BLOCK_ROWS: usize = 4096;
const MAGIC: &[u8; 4] = b"KRB1";
const ID_MAGIC: &[u8; 4] = b"KRI1";
const NONE16: u16 = u16::MAX;
/// The birth day of a resident whose date does not parse: never an adult.
pub(crate) const UNKNOWN_BIRTH: i32 = i32::MAX;
/// Bytes of one ID entry: id u64, place u16, born i32, sex u8.
const ID_ENTRY: usize = 15;

fn bad(what: &str) -> StoreError {
    StoreError::Conflict(format!("register block: {what} (the stored register is damaged)"))
}

/// The ID number of a row as the blocks key it (12 digits), or a clear refusal.
pub(crate) fn row_id(r: &ResidentRow) -> Result<u64, StoreError> {
    id_key(&r.id_number).ok_or_else(|| {
        StoreError::Conflict(format!(
            "id_number: a register ID number has 12 digits, got {} characters",
            r.id_number.len()
        ))
    })
}

/// Appends the block encoding of a resident: id u64 LE, sex and birth date (u8 length + bytes),
/// name and household (u16 length, `u16::MAX` for none, + bytes). Commune and hamlet are the
/// block's key.
fn encode_row(
    id: u64,
    sex: &str,
    date_of_birth: &str,
    full_name: Option<&str>,
    household: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    out.extend_from_slice(&id.to_le_bytes());
    for v in [sex, date_of_birth] {
        let len = u8::try_from(v.len()).map_err(|_| StoreError::Conflict("sex/date_of_birth: too long".into()))?;
        out.push(len);
        out.extend_from_slice(v.as_bytes());
    }
    for v in [full_name, household] {
        match v {
            None => out.extend_from_slice(&NONE16.to_le_bytes()),
            Some(v) => {
                let len = u16::try_from(v.len())
                    .ok()
                    .filter(|&l| l != NONE16)
                    .ok_or_else(|| StoreError::Conflict("full_name/household: too long".into()))?;
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(v.as_bytes());
            }
        }
    }
    Ok(())
}

/// A resident as a block holds it, borrowed from the block's bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowRef<'a> {
    pub id: u64,
    pub sex: &'a str,
    pub date_of_birth: &'a str,
    pub full_name: Option<&'a str>,
    pub household: Option<&'a str>,
    /// The row's whole encoding (equal bytes: equal rows).
    pub raw: &'a [u8],
}

impl RowRef<'_> {
    pub fn to_row(self, commune_code: &str, hamlet_code: &str) -> ResidentRow {
        ResidentRow {
            id_number: format!("{:012}", self.id),
            full_name: self.full_name.map(str::to_owned),
            date_of_birth: self.date_of_birth.to_owned(),
            sex: self.sex.to_owned(),
            commune_code: commune_code.to_owned(),
            hamlet_code: hamlet_code.to_owned(),
            household: self.household.map(str::to_owned),
        }
    }

    pub fn born(&self) -> i32 {
        day_number(self.date_of_birth).unwrap_or(UNKNOWN_BIRTH)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| bad("cut short"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, StoreError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn str(&mut self, n: usize) -> Result<&'a str, StoreError> {
        std::str::from_utf8(self.take(n)?).map_err(|_| bad("text is not UTF-8"))
    }
    fn opt(&mut self) -> Result<Option<&'a str>, StoreError> {
        match self.u16()? {
            NONE16 => Ok(None),
            n => self.str(usize::from(n)).map(Some),
        }
    }
}

/// The residents of one block, in ID order.
pub(crate) fn decode_block(data: &[u8]) -> Result<Vec<RowRef<'_>>, StoreError> {
    let mut c = Cursor { b: data, at: 0 };
    if c.take(4)? != MAGIC {
        return Err(bad("unknown format"));
    }
    let n = c.u32()? as usize;
    if n > BLOCK_ROWS * 2 {
        return Err(bad("too many rows"));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = read_row(&mut c)?;
        if out.last().is_some_and(|p: &RowRef| p.id >= r.id) {
            return Err(bad("rows out of order"));
        }
        out.push(r);
    }
    if c.at != data.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(out)
}

fn read_row<'a>(c: &mut Cursor<'a>) -> Result<RowRef<'a>, StoreError> {
    let start = c.at;
    let id = c.u64()?;
    let sex_len = usize::from(c.u8()?);
    let sex = c.str(sex_len)?;
    let dob_len = usize::from(c.u8()?);
    let date_of_birth = c.str(dob_len)?;
    let full_name = c.opt()?;
    let household = c.opt()?;
    Ok(RowRef { id, sex, date_of_birth, full_name, household, raw: &c.b[start..c.at] })
}

/// One row's encoding (as [`encode_row`] wrote it) read back.
pub(crate) fn decode_block_row(raw: &[u8]) -> Result<RowRef<'_>, StoreError> {
    let mut c = Cursor { b: raw, at: 0 };
    let r = read_row(&mut c)?;
    if c.at != raw.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(r)
}

/// A block to store: its key's ID range, its residents' sorted birth days, its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewBlock {
    pub first_id: i64,
    pub last_id: i64,
    pub n: i32,
    pub births: Vec<i32>,
    pub data: Vec<u8>,
}

/// Cuts sorted encoded rows `(id, born, raw)` into blocks of at most [`BLOCK_ROWS`].
fn cut_blocks(rows: &[(u64, i32, &[u8])]) -> Vec<NewBlock> {
    rows.chunks(BLOCK_ROWS)
        .map(|part| {
            let mut data = Vec::with_capacity(8 + part.iter().map(|r| r.2.len()).sum::<usize>());
            data.extend_from_slice(MAGIC);
            data.extend_from_slice(&(part.len() as u32).to_le_bytes());
            let mut births = Vec::with_capacity(part.len());
            for (_, born, raw) in part {
                data.extend_from_slice(raw);
                births.push(*born);
            }
            births.sort_unstable();
            NewBlock {
                first_id: part[0].0 as i64,
                last_id: part[part.len() - 1].0 as i64,
                n: part.len() as i32,
                births,
                data,
            }
        })
        .collect()
}

/// (commune, hamlet) pairs by number: the writer's places.
#[derive(Default, Debug)]
pub(crate) struct Places {
    pub list: Vec<(String, String)>,
    /// commune → hamlet → number (looked up by `&str`: no allocation per row).
    of: HashMap<String, HashMap<String, u32>>,
}

impl Places {
    pub fn intern(&mut self, commune: &str, hamlet: &str) -> u32 {
        if let Some(&p) = self.of.get(commune).and_then(|h| h.get(hamlet)) {
            return p;
        }
        let p = self.list.len() as u32;
        self.list.push((commune.to_owned(), hamlet.to_owned()));
        self.of.entry(commune.to_owned()).or_default().insert(hamlet.to_owned(), p);
        p
    }
    pub fn get(&self, p: u32) -> (&str, &str) {
        let (c, h) = &self.list[p as usize];
        (c, h)
    }
}

/// Where an ID lives and who it is, as an ID block holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdEntry {
    pub id: u64,
    pub place: u32,
    pub born: i32,
    pub sex: u8,
}

/// An ID block's entries, their places interned into `places`.
pub(crate) fn decode_ids(data: &[u8], places: &mut Places) -> Result<Vec<IdEntry>, StoreError> {
    let mut c = Cursor { b: data, at: 0 };
    if c.take(4)? != ID_MAGIC {
        return Err(bad("unknown ID block format"));
    }
    let n = c.u32()? as usize;
    let k = usize::from(c.u16()?);
    let mut local = Vec::with_capacity(k);
    for _ in 0..k {
        let cl = usize::from(c.u8()?);
        let commune = c.str(cl)?;
        let hl = usize::from(c.u8()?);
        let hamlet = c.str(hl)?;
        local.push(places.intern(commune, hamlet));
    }
    if data.len() - c.at != n * ID_ENTRY {
        return Err(bad("ID block length"));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = c.u64()?;
        let p = usize::from(c.u16()?);
        let born = c.u32()? as i32;
        let sex = c.u8()?;
        let place = *local.get(p).ok_or_else(|| bad("ID block place"))?;
        if out.last().is_some_and(|e: &IdEntry| e.id >= id) {
            return Err(bad("ID entries out of order"));
        }
        out.push(IdEntry { id, place, born, sex });
    }
    Ok(out)
}

/// One ID block's bytes.
pub(crate) fn encode_ids(entries: &[IdEntry], places: &Places) -> Result<Vec<u8>, StoreError> {
    let mut local: HashMap<u32, u16> = HashMap::new();
    let mut order = Vec::new();
    for e in entries {
        if let std::collections::hash_map::Entry::Vacant(v) = local.entry(e.place) {
            v.insert(u16::try_from(order.len()).map_err(|_| bad("too many places in one ID block"))?);
            order.push(e.place);
        }
    }
    let mut out = Vec::with_capacity(10 + order.len() * 16 + entries.len() * ID_ENTRY);
    out.extend_from_slice(ID_MAGIC);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&(order.len() as u16).to_le_bytes());
    for &p in &order {
        let (commune, hamlet) = places.get(p);
        for s in [commune, hamlet] {
            let len =
                u8::try_from(s.len()).map_err(|_| StoreError::Conflict("commune/hamlet code: too long".into()))?;
            out.push(len);
            out.extend_from_slice(s.as_bytes());
        }
    }
    for e in entries {
        out.extend_from_slice(&e.id.to_le_bytes());
        out.extend_from_slice(&local[&e.place].to_le_bytes());
        out.extend_from_slice(&(e.born as u32).to_le_bytes());
        out.push(e.sex);
    }
    Ok(out)
}

/// The entry for `id` in a decoded ID block.
pub(crate) fn find_id(entries: &[IdEntry], id: u64) -> Option<IdEntry> {
    entries.binary_search_by_key(&id, |e| e.id).ok().map(|i| entries[i])
}

/// Register rows on their way to the writer ([`crate::Store::write_register`]), encoded as
/// the blocks hold them (~60 bytes a resident, no allocation per row): an import fills one while
/// it reads the file. Sorted by ID before writing (a repeated ID: the last given wins).
#[derive(Default)]
pub struct RegisterRows {
    pub(crate) places: Places,
    rows: Vec<InRow>,
    bytes: Vec<u8>,
    /// Rows were pushed in ascending ID order so far.
    sorted: bool,
}

// never an ID number or a name in a log: the count only
impl std::fmt::Debug for RegisterRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterRows").field("rows", &self.rows.len()).finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct InRow {
    pub id: u64,
    pub place: u32,
    pub born: i32,
    pub sex: u8,
    at: u64,
    len: u32,
}

impl RegisterRows {
    /// Room for `rows` rows of about `bytes` bytes of text in all.
    pub fn with_capacity(rows: usize, bytes: usize) -> RegisterRows {
        RegisterRows {
            rows: Vec::with_capacity(rows),
            bytes: Vec::with_capacity(bytes + rows * 16),
            sorted: true,
            ..RegisterRows::default()
        }
    }

    /// Adds a row, checked against the store's limits (an ID number must be 12 digits).
    pub fn push(&mut self, r: &ResidentRow) -> Result<(), StoreError> {
        let id = row_id(r)?;
        self.push_fields(
            id,
            r.full_name.as_deref(),
            &r.date_of_birth,
            &r.sex,
            &r.commune_code,
            &r.hamlet_code,
            r.household.as_deref(),
        )
    }

    /// [`RegisterRows::push`] from borrowed fields, the ID number as a number.
    #[allow(clippy::too_many_arguments)]
    pub fn push_fields(
        &mut self,
        id: u64,
        full_name: Option<&str>,
        date_of_birth: &str,
        sex: &str,
        commune_code: &str,
        hamlet_code: &str,
        household: Option<&str>,
    ) -> Result<(), StoreError> {
        use crate::limits::{FULL_NAME, HAMLET_CODE, HOUSEHOLD, UNIT_CODE, WORD};
        if id > 999_999_999_999 {
            return Err(StoreError::Conflict("id_number: a register ID number has 12 digits".into()));
        }
        for (limit, v) in [(WORD, date_of_birth), (WORD, sex), (UNIT_CODE, commune_code), (HAMLET_CODE, hamlet_code)] {
            limit.check(v)?;
        }
        for (limit, v) in [(FULL_NAME, full_name), (HOUSEHOLD, household)] {
            v.map_or(Ok(()), |v| limit.check(v))?;
        }
        let at = self.bytes.len();
        encode_row(id, sex, date_of_birth, full_name, household, &mut self.bytes)?;
        let place = self.places.intern(commune_code, hamlet_code);
        if self.rows.last().is_some_and(|l| l.id >= id) {
            self.sorted = false;
        }
        self.rows.push(InRow {
            id,
            place,
            born: day_number(date_of_birth).unwrap_or(UNKNOWN_BIRTH),
            sex: sex.as_bytes().first().copied().unwrap_or(b'?'),
            at: at as u64,
            len: (self.bytes.len() - at) as u32,
        });
        Ok(())
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows of `other` after these.
    pub fn append(&mut self, other: RegisterRows) {
        if self.rows.is_empty() {
            *self = other;
            return;
        }
        for r in &other.rows {
            let (c, h) = other.places.get(r.place);
            let place = self.places.intern(c, h);
            let at = self.bytes.len() as u64;
            self.bytes.extend_from_slice(other.raw(r));
            if self.rows.last().is_some_and(|l| l.id >= r.id) {
                self.sorted = false;
            }
            self.rows.push(InRow { place, at, ..*r });
        }
    }

    /// Sorts by ID and drops earlier repeats of an ID.
    pub(crate) fn finish(&mut self) {
        if !self.sorted {
            // of repeats, the last given stays last (`at` grows with every row pushed)
            self.rows.sort_unstable_by_key(|r| (r.id, r.at));
            let mut out: Vec<InRow> = Vec::with_capacity(self.rows.len());
            for r in self.rows.drain(..) {
                match out.last_mut() {
                    Some(l) if l.id == r.id => *l = r,
                    _ => out.push(r),
                }
            }
            self.rows = out;
            self.sorted = true;
        }
    }

    pub(crate) fn rows(&self) -> &[InRow] {
        &self.rows
    }

    pub(crate) fn raw(&self, r: &InRow) -> &[u8] {
        &self.bytes[r.at as usize..r.at as usize + r.len as usize]
    }
}

/// What a place's merge did.
#[derive(Debug, Default)]
pub(crate) struct MergedPlace {
    /// The place's new blocks; None: its blocks stay as they are.
    pub blocks: Option<Vec<NewBlock>>,
    pub inserted: u64,
    pub updated: u64,
}

/// One place's residents with `add` (indices of incoming rows of this place, in ID order, each
/// with whether its ID is in the register anywhere) written in and the `gone` IDs (moved to
/// another place, sorted) taken out. `old`: the place's stored blocks' bytes.
pub(crate) fn merge_place(
    old: &[Vec<u8>],
    incoming: &RegisterRows,
    add: &[(u32, bool)],
    gone: &[u64],
) -> Result<MergedPlace, StoreError> {
    let row = |k: u32| &incoming.rows[k as usize];
    let mut stored: Vec<RowRef<'_>> = Vec::new();
    for b in old {
        stored.extend(decode_block(b)?);
    }
    stored.sort_unstable_by_key(|r| r.id);
    let mut out = MergedPlace::default();
    let mut rows: Vec<(u64, i32, &[u8])> = Vec::with_capacity(stored.len() + add.len());
    let (mut i, mut j, mut g) = (0, 0, 0);
    let mut changed = false;
    loop {
        let stored_first = match (stored.get(i), add.get(j).map(|(k, _)| row(*k))) {
            (None, None) => break,
            (Some(s), Some(a)) if s.id == a.id => {
                let raw = incoming.raw(a);
                if raw != s.raw {
                    out.updated += 1;
                    changed = true;
                }
                rows.push((a.id, a.born, raw));
                i += 1;
                j += 1;
                continue;
            }
            (Some(s), Some(a)) => s.id < a.id,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if stored_first {
            let s = &stored[i];
            while g < gone.len() && gone[g] < s.id {
                g += 1;
            }
            if g < gone.len() && gone[g] == s.id {
                changed = true; // moved away
            } else {
                rows.push((s.id, s.born(), s.raw));
            }
            i += 1;
        } else {
            let (k, known) = add[j];
            let a = row(k);
            if known {
                out.updated += 1; // moved here
            } else {
                out.inserted += 1;
            }
            changed = true;
            rows.push((a.id, a.born, incoming.raw(a)));
            j += 1;
        }
    }
    if changed {
        out.blocks = Some(cut_blocks(&rows));
    }
    Ok(out)
}

/// An ID block to replace: the old key (None: a new block) and what takes its place.
#[derive(Debug, Default)]
pub(crate) struct IdRewrite {
    pub delete: Vec<i64>,
    pub insert: Vec<(i64, i64, i32, Vec<u8>)>,
}

/// The ID blocks with the incoming rows' entries written in. `blocks`: the stored ID blocks
/// (first ID, entries) in key order; `changed`: the new or changed entries, sorted by ID.
pub(crate) fn merge_ids(
    blocks: &[(i64, Vec<IdEntry>)],
    changed: &[IdEntry],
    places: &Places,
) -> Result<IdRewrite, StoreError> {
    let mut out = IdRewrite::default();
    let cut = |entries: &[IdEntry], out: &mut IdRewrite| -> Result<(), StoreError> {
        let size = if entries.len() > 2 * ID_BLOCK_ROWS { ID_BLOCK_ROWS } else { entries.len().max(1) };
        for part in entries.chunks(size) {
            out.insert.push((
                part[0].id as i64,
                part[part.len() - 1].id as i64,
                part.len() as i32,
                encode_ids(part, places)?,
            ));
        }
        Ok(())
    };
    if blocks.is_empty() {
        for part in changed.chunks(ID_BLOCK_ROWS) {
            cut(part, &mut out)?;
        }
        return Ok(out);
    }
    let mut c = 0;
    for (k, (first, entries)) in blocks.iter().enumerate() {
        // this block takes the changed IDs below the next block's first ID (the first block also
        // those below its own)
        let end = blocks.get(k + 1).map(|(f, _)| *f as u64);
        let from = c;
        while c < changed.len() && end.is_none_or(|e| changed[c].id < e) {
            c += 1;
        }
        if from == c {
            continue;
        }
        let mut merged = Vec::with_capacity(entries.len() + (c - from));
        let (mut i, mut j) = (0, from);
        loop {
            match (entries.get(i), changed[..c].get(j)) {
                (None, None) => break,
                (Some(e), Some(n)) if e.id == n.id => {
                    merged.push(*n);
                    i += 1;
                    j += 1;
                }
                (Some(e), Some(n)) if n.id < e.id => {
                    merged.push(*n);
                    j += 1;
                }
                (Some(e), _) => {
                    merged.push(*e);
                    i += 1;
                }
                (None, Some(n)) => {
                    merged.push(*n);
                    j += 1;
                }
            }
        }
        if merged != *entries {
            out.delete.push(*first);
            cut(&merged, &mut out)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, hamlet: &str, name: Option<&str>) -> ResidentRow {
        ResidentRow {
            id_number: id.into(),
            full_name: name.map(Into::into),
            date_of_birth: "1990-02-03".into(),
            sex: "F".into(),
            commune_code: "01960".into(),
            hamlet_code: hamlet.into(),
            household: Some("12".into()),
        }
    }

    #[test]
    fn a_block_decodes_to_what_was_encoded() {
        let mut inc = RegisterRows::default();
        inc.push(&row("001190000002", "T1", Some("Lê Thị Ân"))).unwrap();
        inc.push(&row("001190000001", "T1", None)).unwrap();
        inc.finish();
        let add: Vec<(u32, bool)> = (0..inc.len() as u32).map(|k| (k, false)).collect();
        let m = merge_place(&[], &inc, &add, &[]).unwrap();
        assert_eq!(m.inserted, 2);
        let blocks = m.blocks.unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!((blocks[0].first_id, blocks[0].last_id, blocks[0].n), (1_190_000_001, 1_190_000_002, 2));
        assert_eq!(blocks[0].births, vec![day_number("1990-02-03").unwrap(); 2]);
        let rows = decode_block(&blocks[0].data).unwrap();
        assert_eq!(rows[0].to_row("01960", "T1"), row("001190000001", "T1", None));
        assert_eq!(rows[1].to_row("01960", "T1"), row("001190000002", "T1", Some("Lê Thị Ân")));
        // damaged bytes are an error, not a panic
        for cut in 0..blocks[0].data.len() {
            assert!(decode_block(&blocks[0].data[..cut]).is_err());
        }
    }

    #[test]
    fn a_merge_counts_new_changed_moved_and_unchanged() {
        let mut first = RegisterRows::default();
        for i in 1..=3 {
            first.push(&row(&format!("00119000000{i}"), "T1", Some("A"))).unwrap();
        }
        first.finish();
        let add: Vec<_> = (0..first.len() as u32).map(|k| (k, false)).collect();
        let old = merge_place(&[], &first, &add, &[]).unwrap().blocks.unwrap();
        let old: Vec<Vec<u8>> = old.into_iter().map(|b| b.data).collect();

        let mut next = RegisterRows::default();
        next.push(&row("001190000001", "T1", Some("A"))).unwrap(); // unchanged
        next.push(&row("001190000002", "T1", Some("B"))).unwrap(); // changed
        next.push(&row("001190000004", "T1", Some("D"))).unwrap(); // new
        next.finish();
        let add: Vec<_> = next.rows().iter().enumerate().map(|(k, r)| (k as u32, r.id != 1_190_000_004)).collect();
        // 3 moved to another hamlet
        let m = merge_place(&old, &next, &add, &[1_190_000_003]).unwrap();
        assert_eq!((m.inserted, m.updated), (1, 1));
        let b = m.blocks.unwrap();
        let ids: Vec<u64> = decode_block(&b[0].data).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids, [1_190_000_001, 1_190_000_002, 1_190_000_004]);

        // the same rows again: nothing to write
        let mut same = RegisterRows::default();
        same.push(&row("001190000001", "T1", Some("A"))).unwrap();
        same.finish();
        let add: Vec<_> = (0..same.len() as u32).map(|k| (k, true)).collect();
        let m = merge_place(&old, &same, &add, &[]).unwrap();
        assert!(m.blocks.is_none());
        assert_eq!((m.inserted, m.updated), (0, 0));
    }

    #[test]
    fn blocks_are_cut_at_their_size() {
        let mut inc = RegisterRows::default();
        for i in 0..(BLOCK_ROWS * 2 + 1) {
            inc.push(&row(&format!("{:012}", 1_000_000 + i), "T1", None)).unwrap();
        }
        inc.finish();
        let add: Vec<_> = (0..inc.len() as u32).map(|k| (k, false)).collect();
        let b = merge_place(&[], &inc, &add, &[]).unwrap().blocks.unwrap();
        assert_eq!(b.iter().map(|b| b.n).collect::<Vec<_>>(), [BLOCK_ROWS as i32, BLOCK_ROWS as i32, 1]);
    }

    #[test]
    fn id_blocks_take_new_ids_in_their_range_and_split_when_large() {
        let mut places = Places::default();
        let p = places.intern("01960", "T1");
        let q = places.intern("01960", "T2");
        let e = |id: u64, place| IdEntry { id, place, born: 7000, sex: b'F' };
        let fresh: Vec<IdEntry> = (0..(ID_BLOCK_ROWS as u64 + 10)).map(|i| e(100 + i * 10, p)).collect();
        let w = merge_ids(&[], &fresh, &places).unwrap();
        assert_eq!(w.insert.len(), 2);
        let stored: Vec<(i64, Vec<IdEntry>)> =
            w.insert.iter().map(|(f, _, _, d)| (*f, decode_ids(d, &mut places).unwrap())).collect();
        assert_eq!(stored[0].1.len(), ID_BLOCK_ROWS);
        // one below everything, one moved, one unchanged
        let changed = vec![e(5, p), e(110, q), e(120, p)];
        let w = merge_ids(&stored, &changed, &places).unwrap();
        assert_eq!(w.delete, vec![100]);
        assert_eq!(w.insert.len(), 1);
        let got = decode_ids(&w.insert[0].3, &mut places).unwrap();
        assert_eq!(got[0], e(5, p));
        assert_eq!(find_id(&got, 110), Some(e(110, q)));
        assert_eq!(got.len(), ID_BLOCK_ROWS + 1);
        // nothing changed: nothing rewritten
        let w = merge_ids(&stored, &[e(120, p)], &places).unwrap();
        assert!(w.delete.is_empty() && w.insert.is_empty());
    }
}
