//! The register as columns: every resident's ID number (as a number), commune and date of birth,
//! sorted by ID number — what national-scale matching and counting need and nothing else.
//!
//! A provider list of 4 million rows is matched against a register of 10 million by one merge of
//! two sorted runs, and every commune's adults and holders are counted by one pass over arrays;
//! a row store answers the same questions with millions of B-tree probes. The store keeps an
//! encoded copy ([`RegisterIndex::encode`]) beside the register, rebuilt whenever the register
//! changes, so loading it costs one read of ~14 bytes per resident.
//!
//! Pure: built from rows the caller reads, encoded to and decoded from bytes the caller stores.

use std::collections::HashMap;

/// Day numbers (days since 1970-01-01) and their ISO text: the register index's dates.
pub use kyso_calendar::{civil_from_days, day_number, days_from_civil, iso_bytes, iso_date};

/// A 12-digit ID number as a number (leading zeros dropped), or `None` if it is not 12 digits.
pub fn id_key(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    // Three groups of four digits, folded independently: a third of the dependent multiplies
    // (this runs once per row of lists of millions).
    let group = |g: &[u8]| g.iter().fold(0u64, |n, c| n * 10 + u64::from(c - b'0'));
    (b.len() == 12 && b.iter().all(u8::is_ascii_digit))
        .then(|| group(&b[..4]) * 100_000_000 + group(&b[4..8]) * 10_000 + group(&b[8..]))
}

/// The masked form of an ID key, as lists show it: `0012****7890`.
pub fn masked_key(id: u64) -> String {
    let s = format!("{id:012}");
    format!("{}****{}", &s[..4], &s[8..])
}

/// Version 2: a fourth column, each resident's [`row_hash`] (version 1 had three; a stored
/// version 1 is unusable and rebuilt by its reader).
const MAGIC: &[u8; 8] = b"KYSORIX2";

/// Bytes per resident in the encoding: ID (8), commune (2), birth day (4), row hash (8).
const ROW_BYTES: usize = 22;

/// The register as sorted columns. Commune `i` of [`RegisterIndex::communes`] is `commune[k] == i`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterIndex {
    communes: Vec<String>,
    ids: Vec<u64>,
    commune: Vec<u16>,
    born: Vec<i32>,
    hashes: Vec<u64>,
}

/// A register row as the store keeps it, reduced to 64 bits: equal rows give equal hashes, and a
/// changed field changes it (but for a 2^-64 chance). A re-import compares it with the index's
/// and writes only the rows whose hash differs. Fields are the stored text (`date_of_birth`
/// `YYYY-MM-DD`, `sex` `M`/`F`); a missing value and an empty one differ.
pub fn row_hash(
    full_name: Option<&str>,
    date_of_birth: &str,
    sex: &str,
    commune_code: &str,
    hamlet_code: &str,
    household: Option<&str>,
) -> u64 {
    // 64×64→128-bit multiply folded (as in wyhash): every input bit reaches every output bit.
    fn mix(a: u64, b: u64) -> u64 {
        let p = u128::from(a) * u128::from(b);
        (p as u64) ^ ((p >> 64) as u64)
    }
    const K: [u64; 3] = [0xa076_1d64_78bd_642f, 0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3];
    let mut h = K[2];
    let mut field = |v: Option<&str>, tag: u64| {
        let b = v.map_or(&[][..], str::as_bytes);
        // the length and presence first: no two splits of the same bytes hash alike
        h = mix(h ^ K[0], (b.len() as u64) << 8 | tag << 1 | u64::from(v.is_some()) ^ K[1]);
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            h = mix(h ^ u64::from_le_bytes(w.try_into().unwrap_or_default()) ^ K[0], K[1]);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = mix(h ^ u64::from_le_bytes(w) ^ K[0], K[1]);
        }
    };
    field(full_name, 1);
    field(Some(date_of_birth), 2);
    field(Some(sex), 3);
    field(Some(commune_code), 4);
    field(Some(hamlet_code), 5);
    field(household, 6);
    mix(h ^ K[2], K[0])
}

/// Collects residents in any order; [`RegisterIndexBuilder::finish`] sorts them.
#[derive(Default)]
pub struct RegisterIndexBuilder {
    codes: HashMap<String, u16>,
    communes: Vec<String>,
    rows: Vec<(u64, u16, i32, u64)>,
}

impl RegisterIndexBuilder {
    pub fn with_capacity(n: usize) -> Self {
        Self { rows: Vec::with_capacity(n), ..Self::default() }
    }

    /// Adds one resident (`hash`: its [`row_hash`]). Errors name the field; the register's own
    /// import has validated rows, so an error here means the stored register was edited by hand.
    pub fn push(&mut self, id: &str, commune: &str, date_of_birth: &str, hash: u64) -> Result<(), String> {
        let key = id_key(id).ok_or_else(|| format!("id_number {:?}: not 12 digits", id.len()))?;
        let born =
            day_number(date_of_birth).ok_or_else(|| format!("date_of_birth {date_of_birth:?}: not YYYY-MM-DD"))?;
        let c = self.commune_index(commune)?;
        self.rows.push((key, c, born, hash));
        Ok(())
    }

    /// [`RegisterIndexBuilder::push`] of a resident already reduced to its ID key and birth day.
    pub fn push_key(&mut self, key: u64, commune: &str, born: i32, hash: u64) -> Result<(), String> {
        let c = self.commune_index(commune)?;
        self.rows.push((key, c, born, hash));
        Ok(())
    }

    /// The index of a commune code, given one on first sight.
    fn commune_index(&mut self, commune: &str) -> Result<u16, String> {
        Ok(match self.codes.get(commune) {
            Some(&c) => c,
            None => {
                let c = u16::try_from(self.communes.len()).map_err(|_| "more than 65,536 communes".to_string())?;
                self.codes.insert(commune.to_owned(), c);
                self.communes.push(commune.to_owned());
                c
            }
        })
    }

    /// Starts from `index` (its rows kept unless [`RegisterIndexBuilder::push`] gives the same ID
    /// again: the pushed row wins): the index after an import, without a scan of the register.
    pub fn from_index(index: RegisterIndex) -> Self {
        let codes = index.communes.iter().enumerate().map(|(i, c)| (c.clone(), i as u16)).collect();
        let rows = (0..index.len()).map(|k| (index.ids[k], index.commune[k], index.born[k], index.hashes[k])).collect();
        Self { codes, communes: index.communes, rows }
    }

    /// Sorted by ID number; of a repeated ID number the row pushed last is kept (a scan of the
    /// register never repeats one: it is its primary key).
    pub fn finish(mut self) -> RegisterIndex {
        // stable: equal IDs stay in push order, and the last of each run wins
        self.rows.sort_by_key(|r| r.0);
        let mut rows = std::mem::take(&mut self.rows);
        rows.reverse();
        rows.dedup_by_key(|r| r.0);
        rows.reverse();
        let n = rows.len();
        let mut ix = RegisterIndex {
            communes: self.communes,
            ids: Vec::with_capacity(n),
            commune: Vec::with_capacity(n),
            born: Vec::with_capacity(n),
            hashes: Vec::with_capacity(n),
        };
        for (id, c, b, h) in rows {
            ix.ids.push(id);
            ix.commune.push(c);
            ix.born.push(b);
            ix.hashes.push(h);
        }
        ix
    }
}

impl RegisterIndex {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Commune codes; a commune's index is its position here.
    pub fn communes(&self) -> &[String] {
        &self.communes
    }

    /// The [`row_hash`] of the resident at position `k`.
    pub fn hash_at(&self, k: usize) -> u64 {
        self.hashes[k]
    }

    /// A lookup of positions by ID number faster than [`RegisterIndex::get`]'s binary search over
    /// the whole column (for probing every row of a national import).
    pub fn lookup(&self) -> IdLookup<'_> {
        IdLookup::new(&self.ids)
    }

    /// The commune code and birth day of a resident, by binary search.
    pub fn get(&self, id: u64) -> Option<(&str, i32)> {
        let k = self.ids.binary_search(&id).ok()?;
        Some((&self.communes[usize::from(self.commune[k])], self.born[k]))
    }

    /// For ID keys sorted ascending (repeats allowed): the position of each in the register,
    /// `None` for those it does not hold. One merge, no probes.
    pub fn positions_sorted(&self, sorted: impl IntoIterator<Item = u64>) -> Vec<Option<u32>> {
        let mut out = Vec::new();
        let mut k = 0usize;
        for id in sorted {
            // Gallop when the gap is large (a short list against the national register).
            if self.ids.get(k).is_some_and(|&x| x < id) {
                let mut step = 1;
                while self.ids.get(k + step).is_some_and(|&x| x < id) {
                    k += step;
                    step *= 2;
                }
                k += self.ids[k..(k + step).min(self.ids.len())].partition_point(|&x| x < id);
            }
            out.push((self.ids.get(k) == Some(&id)).then_some(k as u32));
        }
        out
    }

    /// Residents born on or before `born_by` (a day number), per commune index.
    pub fn adults_per_commune(&self, born_by: i32) -> Vec<u64> {
        let mut n = vec![0u64; self.communes.len()];
        for (c, b) in self.commune.iter().zip(&self.born) {
            n[usize::from(*c)] += u64::from(*b <= born_by);
        }
        n
    }

    /// Registered residents among `holders` (ID keys, sorted ascending, repeats allowed and
    /// counted once), per commune index; IDs the register does not hold are not counted.
    pub fn holders_per_commune(&self, holders: &[u64]) -> Vec<u64> {
        let mut n = vec![0u64; self.communes.len()];
        let mut last = None;
        let unique = holders.iter().copied().filter(|&id| last.replace(id) != Some(id));
        for k in self.positions_sorted(unique).into_iter().flatten() {
            n[usize::from(self.commune[k as usize])] += 1;
        }
        n
    }

    /// The columns as bytes: magic, commune codes, then the three columns little-endian.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.ids.len();
        let mut out = Vec::with_capacity(24 + self.communes.iter().map(|c| c.len() + 2).sum::<usize>() + n * ROW_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.communes.len() as u32).to_le_bytes());
        for c in &self.communes {
            out.extend_from_slice(&(c.len() as u16).to_le_bytes());
            out.extend_from_slice(c.as_bytes());
        }
        out.extend_from_slice(&(n as u64).to_le_bytes());
        out.extend(self.ids.iter().flat_map(|v| v.to_le_bytes()));
        out.extend(self.commune.iter().flat_map(|v| v.to_le_bytes()));
        out.extend(self.born.iter().flat_map(|v| v.to_le_bytes()));
        out.extend(self.hashes.iter().flat_map(|v| v.to_le_bytes()));
        out
    }

    /// Reads [`RegisterIndex::encode`]'s bytes back; errors name the byte offset.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut r = RegisterIndexReader::default();
        r.feed(bytes)?;
        r.finish()
    }
}

/// [`RegisterIndex::decode`] fed in pieces (the stored parts, as the database hands them over),
/// straight into the columns: no copy of the whole encoding is ever assembled.
#[derive(Default)]
pub struct RegisterIndexReader {
    /// Bytes not yet used: the header while it is incomplete, then a value split between pieces.
    pending: Vec<u8>,
    /// Bytes fed so far, for error messages.
    offset: usize,
    header: Option<usize>,
    /// The encoding's whole length, when the caller knows it.
    total: Option<usize>,
    index: RegisterIndex,
}

/// The header of an encoding, if `b` holds all of it: commune codes, resident count, bytes used.
fn parse_header(b: &[u8]) -> Result<Option<(Vec<String>, usize, usize)>, String> {
    let Some(magic) = b.get(..8) else { return Ok(None) };
    if magic != MAGIC {
        return Err("register index: bad magic at byte 0".into());
    }
    let mut at = 8;
    let mut take = |len: usize| -> Option<&[u8]> {
        let s = b.get(at..at + len)?;
        at += len;
        Some(s)
    };
    let Some(nc) = take(4) else { return Ok(None) };
    let nc = u32::from_le_bytes(nc.try_into().unwrap_or_default()) as usize;
    let mut communes = Vec::with_capacity(nc.min(1 << 16));
    for _ in 0..nc {
        let Some(len) = take(2) else { return Ok(None) };
        let len = u16::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
        let Some(code) = take(len) else { return Ok(None) };
        communes.push(std::str::from_utf8(code).map_err(|e| format!("register index: commune code: {e}"))?.to_owned());
    }
    let Some(n) = take(8) else { return Ok(None) };
    let n = usize::try_from(u64::from_le_bytes(n.try_into().unwrap_or_default()))
        .ok()
        .filter(|n| n.checked_mul(ROW_BYTES).is_some())
        .ok_or("register index: count too large")?;
    Ok(Some((communes, n, at)))
}

impl RegisterIndexReader {
    /// A reader for an encoding of `total` bytes (the sum of the stored parts' lengths).
    pub fn with_len(total: usize) -> Self {
        Self { total: Some(total), ..Self::default() }
    }

    /// Takes the next piece of the encoding.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        let mut data = data;
        if self.header.is_none() {
            let from_pending = !self.pending.is_empty();
            if from_pending {
                self.pending.extend_from_slice(data);
            }
            let src = if from_pending { &self.pending[..] } else { data };
            let Some((communes, n, used)) = parse_header(src)? else {
                if !from_pending {
                    self.pending.extend_from_slice(data);
                }
                self.offset += data.len();
                return Ok(());
            };
            self.header = Some(n);
            let ix = &mut self.index;
            ix.communes = communes;
            // The columns are reserved whole only when the total length vouches for the count
            // (a corrupt count must not allocate); otherwise they grow as the bytes arrive.
            if let Some(total) = self.total {
                if total != used + ROW_BYTES * n {
                    return Err(format!(
                        "register index: {total} bytes, but its header announces {}",
                        used + ROW_BYTES * n
                    ));
                }
                ix.ids.reserve_exact(n);
                ix.commune.reserve_exact(n);
                ix.born.reserve_exact(n);
                ix.hashes.reserve_exact(n);
            }
            if from_pending {
                let rest = self.pending.split_off(used);
                self.offset = used;
                self.pending.clear();
                return self.feed_columns(&rest);
            }
            self.offset += used;
            data = &data[used..];
        }
        self.feed_columns(data)
    }

    fn feed_columns(&mut self, mut data: &[u8]) -> Result<(), String> {
        let n = self.header.unwrap_or(0);
        while !data.is_empty() {
            let ix = &mut self.index;
            let (width, have) = if ix.ids.len() < n {
                (8, ix.ids.len())
            } else if ix.commune.len() < n {
                (2, ix.commune.len())
            } else if ix.born.len() < n {
                (4, ix.born.len())
            } else if ix.hashes.len() < n {
                (9, ix.hashes.len())
            } else {
                return Err(format!("register index: {} trailing bytes at byte {}", data.len(), self.offset));
            };
            // Whole values from the pending bytes and this piece, at most what the column lacks.
            // (the hash column is tagged 9: its values are 8 bytes wide too)
            let (tag, width) = (width, if width == 9 { 8 } else { width });
            let push = |ix: &mut RegisterIndex, v: &[u8]| match tag {
                8 => ix.ids.push(u64::from_le_bytes(v.try_into().unwrap_or_default())),
                2 => ix.commune.push(u16::from_le_bytes(v.try_into().unwrap_or_default())),
                4 => ix.born.push(i32::from_le_bytes(v.try_into().unwrap_or_default())),
                _ => ix.hashes.push(u64::from_le_bytes(v.try_into().unwrap_or_default())),
            };
            if !self.pending.is_empty() {
                let k = (width - self.pending.len()).min(data.len());
                self.pending.extend_from_slice(&data[..k]);
                (data, self.offset) = (&data[k..], self.offset + k);
                if self.pending.len() == width {
                    push(ix, &self.pending);
                    self.pending.clear();
                }
                continue;
            }
            let whole = (data.len() / width).min(n - have);
            if whole == 0 {
                self.pending.extend_from_slice(data);
                self.offset += data.len();
                break;
            }
            match tag {
                8 => ix.ids.reserve(whole),
                2 => ix.commune.reserve(whole),
                4 => ix.born.reserve(whole),
                _ => ix.hashes.reserve(whole),
            }
            for v in data[..whole * width].chunks_exact(width) {
                push(ix, v);
            }
            (data, self.offset) = (&data[whole * width..], self.offset + whole * width);
        }
        Ok(())
    }

    /// The index, once every piece was fed; errors if it is incomplete or inconsistent.
    pub fn finish(self) -> Result<RegisterIndex, String> {
        let Some(n) = self.header else {
            return Err(format!("register index truncated at byte {}", self.offset));
        };
        let ix = self.index;
        if ix.hashes.len() < n || !self.pending.is_empty() {
            return Err(format!("register index truncated at byte {}", self.offset));
        }
        if ix.ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err("register index: ID numbers not strictly ascending".into());
        }
        if ix.commune.iter().any(|&c| usize::from(c) >= ix.communes.len()) {
            return Err("register index: commune index out of range".into());
        }
        Ok(ix)
    }
}

/// Positions in a sorted ID column by a table of where each span of IDs starts: a probe is a
/// table read and a binary search over a few entries, where a search of the whole column is ~23
/// steps, most of them cache misses.
pub struct IdLookup<'a> {
    ids: &'a [u64],
    starts: Vec<u32>,
    shift: u32,
}

impl<'a> IdLookup<'a> {
    fn new(ids: &'a [u64]) -> Self {
        let bits = 64 - ids.last().copied().unwrap_or(0).leading_zeros();
        // about two IDs per span
        let table_bits = (usize::BITS - ids.len().leading_zeros()).saturating_sub(1).clamp(1, 26).min(bits.max(1));
        let shift = bits.saturating_sub(table_bits);
        let spans = 1usize << table_bits;
        let mut starts = Vec::with_capacity(spans + 1);
        let mut k = 0usize;
        for span in 0..spans as u64 {
            while k < ids.len() && (ids[k] >> shift) < span {
                k += 1;
            }
            starts.push(k as u32);
        }
        starts.push(ids.len() as u32);
        Self { ids, starts, shift }
    }

    /// The position of `id`, if the column holds it.
    pub fn find(&self, id: u64) -> Option<usize> {
        let span = usize::try_from(id >> self.shift).unwrap_or(usize::MAX);
        if span >= self.starts.len() - 1 {
            return None; // above the largest ID
        }
        let (from, to) = (self.starts[span] as usize, self.starts[span + 1] as usize);
        self.ids[from..to].binary_search(&id).ok().map(|k| k + from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RegisterIndex {
        let mut b = RegisterIndexBuilder::default();
        b.push("019190000003", "01960", "2000-02-29", 3).unwrap();
        b.push("001085000001", "00004", "1985-01-01", 1).unwrap();
        b.push("019190000001", "01960", "2011-11-20", u64::MAX).unwrap();
        b.push("019190000002", "01963", "2011-11-21", 2).unwrap();
        b.finish()
    }

    #[test]
    fn dates_round_trip_and_match_known_days() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(day_number("1900-01-01"), Some(-25_567));
        assert_eq!(day_number("2026-13-01"), None);
        assert_eq!(day_number("2026-1-01"), None);
        for d in (-40_000..40_000).step_by(7) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, i32::from(m), i32::from(dd)), d);
            assert_eq!(day_number(&iso_date(d)), Some(d));
        }
    }

    #[test]
    fn ids_become_numbers_and_masks() {
        assert_eq!(id_key("001085000001"), Some(1_085_000_001));
        assert_eq!(id_key("00108500000"), None);
        assert_eq!(id_key("00108500000x"), None);
        assert_eq!(masked_key(1_085_000_001), "0010****0001");
    }

    #[test]
    fn sorted_lookup_counts_and_round_trip() {
        let ix = sample();
        assert_eq!(ix.len(), 4);
        assert_eq!(ix.get(19_190_000_002), Some(("01963", day_number("2011-11-21").unwrap())));
        assert_eq!(ix.get(19_190_000_009), None);
        let probe = [5, 1_085_000_001, 1_085_000_001, 19_190_000_002, 19_190_000_004, 99_999_999_999];
        assert_eq!(ix.positions_sorted(probe), vec![None, Some(0), Some(0), Some(2), None, None]);
        // 15+ on 2026-11-20: born on or before 2011-11-20.
        let adults = ix.adults_per_commune(day_number("2011-11-20").unwrap());
        let by_code = |v: &[u64], code: &str| v[ix.communes().iter().position(|c| c == code).unwrap()];
        assert_eq!((by_code(&adults, "01960"), by_code(&adults, "01963"), by_code(&adults, "00004")), (2, 0, 1));
        let holders = ix.holders_per_commune(&[1_085_000_001, 19_190_000_001, 19_190_000_001, 19_190_000_007]);
        assert_eq!((by_code(&holders, "01960"), by_code(&holders, "00004")), (1, 1));
        let bytes = ix.encode();
        assert_eq!(RegisterIndex::decode(&bytes).unwrap(), ix);
        // Fed in pieces of every size (values and the header split anywhere), with and without
        // the total length: the same index.
        for piece in 1..=bytes.len() {
            for total in [None, Some(bytes.len())] {
                let mut r = total.map_or_else(RegisterIndexReader::default, RegisterIndexReader::with_len);
                for chunk in bytes.chunks(piece) {
                    r.feed(chunk).unwrap();
                }
                assert_eq!(r.finish().unwrap(), ix, "pieces of {piece}");
            }
        }
        assert!(RegisterIndexReader::with_len(bytes.len() + 1).feed(&bytes).unwrap_err().contains("announces"));
        let mut r = RegisterIndexReader::default();
        r.feed(&bytes[..bytes.len() - 3]).unwrap();
        assert!(r.finish().unwrap_err().contains("truncated"));
        let mut long = bytes.clone();
        long.push(0);
        assert!(RegisterIndexReader::default().feed(&long).unwrap_err().contains("trailing"));
        assert!(RegisterIndex::decode(&bytes[..bytes.len() - 1]).unwrap_err().contains("truncated"));
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(RegisterIndex::decode(&bad).unwrap_err().contains("magic"));
    }

    #[test]
    fn galloping_merge_agrees_with_binary_search() {
        let mut b = RegisterIndexBuilder::default();
        for i in 0..5_000u64 {
            b.push(&format!("{:012}", i * 7 + 3), "00001", "1990-01-01", i).unwrap();
        }
        let ix = b.finish();
        let probe: Vec<u64> = (0..40_000u64).step_by(3).collect();
        let got = ix.positions_sorted(probe.iter().copied());
        let lookup = ix.lookup();
        for (id, pos) in probe.iter().zip(got) {
            assert_eq!(pos.map(|k| ix.ids[k as usize]), ix.get(*id).map(|_| *id), "id {id}");
            assert_eq!(lookup.find(*id).map(|k| k as u32), pos, "id {id}");
        }
    }

    #[test]
    fn lookup_finds_every_id_and_nothing_else() {
        // clustered IDs (as a province's are), the largest and smallest possible, an empty column
        let mut ids: Vec<u64> = (0..3_000u64).map(|i| 19_190_000_000 + i * i).collect();
        ids.extend([0, 1, 999_999_999_999, 500_000_000_000]);
        ids.sort_unstable();
        ids.dedup();
        let lookup = IdLookup::new(&ids);
        for (k, &id) in ids.iter().enumerate() {
            assert_eq!(lookup.find(id), Some(k), "id {id}");
            if id > 0 && ids.binary_search(&(id - 1)).is_err() {
                assert_eq!(lookup.find(id - 1), None, "id {}", id - 1);
            }
            assert_eq!(lookup.find(id + 1).is_some(), ids.binary_search(&(id + 1)).is_ok(), "id {}", id + 1);
        }
        assert_eq!(lookup.find(u64::MAX), None);
        assert_eq!(IdLookup::new(&[]).find(5), None);
        assert_eq!(IdLookup::new(&[7]).find(7), Some(0));
        assert_eq!(IdLookup::new(&[7]).find(6), None);
    }

    #[test]
    fn row_hash_changes_with_every_field_and_tells_missing_from_empty() {
        let base = row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01960", "T01", Some("12"));
        assert_eq!(base, row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01960", "T01", Some("12")));
        let changed = [
            row_hash(Some("Lê Văn Ân"), "1990-01-02", "M", "01960", "T01", Some("12")),
            row_hash(None, "1990-01-02", "M", "01960", "T01", Some("12")),
            row_hash(Some("Lê Văn An"), "1990-01-03", "M", "01960", "T01", Some("12")),
            row_hash(Some("Lê Văn An"), "1990-01-02", "F", "01960", "T01", Some("12")),
            row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01963", "T01", Some("12")),
            row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01960", "T02", Some("12")),
            row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01960", "T01", None),
            row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01960", "T01", Some("")),
            row_hash(Some("Lê Văn An"), "1990-01-02", "M", "01960", "T01", Some("12 ")),
        ];
        for (i, h) in changed.iter().enumerate() {
            assert_ne!(*h, base, "change {i}");
        }
        // a value moved from one field to the next is a change
        assert_ne!(row_hash(Some(""), "x", "M", "1", "2", None), row_hash(None, "x", "M", "1", "2", Some("")));
        assert_ne!(row_hash(Some("ab"), "c", "M", "1", "2", None), row_hash(Some("a"), "bc", "M", "1", "2", None));
    }

    #[test]
    fn an_index_updated_in_place_equals_one_built_whole() {
        let before = sample();
        let mut b = RegisterIndexBuilder::from_index(before.clone());
        b.push("019190000002", "01960", "2011-11-21", 20).unwrap(); // moved, changed
        b.push("096190000009", "30856", "2011-01-01", 9).unwrap(); // new, new commune
        let after = b.finish();
        let mut whole = RegisterIndexBuilder::default();
        whole.push("019190000003", "01960", "2000-02-29", 3).unwrap();
        whole.push("001085000001", "00004", "1985-01-01", 1).unwrap();
        whole.push("019190000001", "01960", "2011-11-20", u64::MAX).unwrap();
        whole.push("019190000002", "01960", "2011-11-21", 20).unwrap();
        whole.push("096190000009", "30856", "2011-01-01", 9).unwrap();
        let whole = whole.finish();
        assert_eq!(after.len(), 5);
        for k in 0..5 {
            let id = whole.ids[k];
            let j = after.lookup().find(id).unwrap();
            assert_eq!((after.get(id), after.hash_at(j)), (whole.get(id), whole.hash_at(k)));
        }
        assert_eq!(RegisterIndex::decode(&after.encode()).unwrap(), after);
    }
}
