//! What changed after a signature: later incremental updates are allowed when they only add
//! signatures, form fields, DSS and time-stamps (the page tree and page contents stay the same);
//! a change of page content fails the signature (the shadow/incremental-save attack).
//!
//! Cost: the final file is parsed once and each distinct signed revision once (signatures that
//! end at the same byte share one parse), on a copy whose signature values are blanked (spaces of
//! the same length: offsets hold, and the parser no longer walks every signature's tens of
//! kilobytes of hex). Pages are compared by the SHA-256 of their decoded contents. Before, every
//! signature parsed both its revision and the whole file with every signature value in it, so the
//! time grew with the square of the number of signatures. The caller bounds the sum of the
//! revisions' lengths (`Limits::max_parse_bytes`) before any of this runs.

use crate::Modification;
use lopdf::Document;
use std::collections::HashMap;

fn load(bytes: &[u8]) -> Option<Document> {
    std::panic::catch_unwind(|| Document::load_mem(bytes).ok()).ok().flatten()
}

/// Per page: the SHA-256 of its decoded content (None when a page cannot be read).
type Pages = Vec<Option<[u8; 32]>>;

fn pages(doc: &Document) -> Pages {
    doc.get_pages()
        .values()
        .map(|id| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.get_page_content(*id).ok()))
                .ok()
                .flatten()
                .and_then(|c| kyso_pki::alg::sha256(&c).try_into().ok())
        })
        .collect()
}

/// The byte count [`Revisions::new`] will parse for these signed revision ends: the whole file
/// once and each distinct shorter revision once.
pub fn parse_cost(pdf_len: usize, ends: impl IntoIterator<Item = usize>) -> usize {
    let mut distinct: Vec<usize> = ends.into_iter().filter(|&e| e < pdf_len).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.iter().fold(pdf_len, |acc, &e| acc.saturating_add(e))
}

/// The final file's pages and each distinct signed revision's, parsed once each.
pub struct Revisions {
    total: usize,
    now: Option<Pages>,
    signed: HashMap<usize, Option<Pages>>,
}

impl Revisions {
    /// Parse `pdf` and its prefixes ending at `ends` (those shorter than the file).
    pub fn new(pdf: &[u8], ends: impl IntoIterator<Item = usize>) -> Revisions {
        let mut ends: Vec<usize> = ends.into_iter().filter(|&e| e < pdf.len()).collect();
        ends.sort_unstable();
        ends.dedup();
        if ends.is_empty() {
            return Revisions { total: pdf.len(), now: None, signed: HashMap::new() };
        }
        let blanked = kyso_sign::pdf::blank_signature_contents(pdf);
        let now = load(&blanked).map(|d| pages(&d));
        let signed = ends.into_iter().map(|e| (e, load(&blanked[..e]).map(|d| pages(&d)))).collect();
        Revisions { total: pdf.len(), now, signed }
    }

    /// What changed after the revision that ends at `covered_to`.
    pub fn analyse(&self, covered_to: usize) -> Modification {
        if covered_to >= self.total {
            return Modification::None;
        }
        let later = self.total - covered_to;
        let (Some(Some(a)), Some(b)) = (self.signed.get(&covered_to), &self.now) else {
            return Modification::Unknown {
                bytes: later,
                detail: "the signed revision or the final file cannot be parsed".into(),
            };
        };
        if a.len() != b.len() {
            return Modification::PageContentChanged {
                at_byte: covered_to,
                detail: format!("the page count changed from {} to {}", a.len(), b.len()),
            };
        }
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            match (x, y) {
                (Some(x), Some(y)) if x == y => {}
                (Some(_), Some(_)) => {
                    return Modification::PageContentChanged {
                        at_byte: covered_to,
                        detail: format!("page {} has different content", i + 1),
                    }
                }
                _ => return Modification::Unknown { bytes: later, detail: format!("page {} cannot be read", i + 1) },
            }
        }
        Modification::AllowedLater { bytes: later }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cost_counts_each_distinct_revision_once() {
        assert_eq!(parse_cost(100, [100, 120]), 100, "the whole file and beyond it: one parse");
        assert_eq!(parse_cost(100, [40, 40, 60, 40]), 200);
        assert_eq!(parse_cost(usize::MAX, [usize::MAX - 1]), usize::MAX, "saturates");
    }
}
