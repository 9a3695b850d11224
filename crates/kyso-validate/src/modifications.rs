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
//! revisions' lengths (`Limits::max_work_bytes`) before any of this runs.

use crate::Modification;
use lopdf::Document;
use std::collections::HashMap;

pub(crate) fn load(bytes: &[u8]) -> Option<Document> {
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

/// The objects the pages' contents depend on in `doc`: the catalog, every node of the page tree
/// and its /Kids, every page, its /Contents (arrays included), and the objects those name at
/// their top level (a stream's /Length, a node's /Type…) except keys that cannot change what a
/// page draws (/Parent, /Annots, /Resources and the like). More than strictly needed only sends
/// more revisions to the full parse. None when the tree is unusual.
fn depends_on(doc: &Document) -> Option<std::collections::HashSet<u32>> {
    use lopdf::Object;
    #[derive(Clone, Copy)]
    enum Role {
        Catalog,
        Node,
        Kids,
        Contents,
        Leaf,
    }
    const IRRELEVANT: [&[u8]; 9] =
        [b"Parent", b"Annots", b"Resources", b"Group", b"Thumb", b"B", b"Metadata", b"PieceInfo", b"StructParents"];
    let mut out = std::collections::HashSet::new();
    let root = doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
    let mut todo = vec![(root, Role::Catalog, 0usize)];
    while let Some((id, role, depth)) = todo.pop() {
        if depth > 64 || out.len() > 200_000 {
            return None;
        }
        if !out.insert(id.0) {
            continue;
        }
        let next = depth + 1;
        let obj = doc.get_object(id).ok()?;
        match (role, obj) {
            (Role::Leaf, _) => {}
            (Role::Kids | Role::Contents, Object::Array(a)) => {
                let each = if matches!(role, Role::Kids) { Role::Node } else { Role::Contents };
                for o in a {
                    if let Object::Reference(r) = o {
                        todo.push((*r, each, next));
                    }
                }
            }
            (Role::Contents, Object::Stream(st)) => {
                for (_, v) in st.dict.iter() {
                    if let Object::Reference(r) = v {
                        todo.push((*r, Role::Leaf, next));
                    }
                }
            }
            (Role::Catalog, Object::Dictionary(d)) => {
                if let Ok(Object::Reference(r)) = d.get(b"Pages") {
                    todo.push((*r, Role::Node, next));
                }
            }
            (Role::Node, Object::Dictionary(d)) => {
                for (k, v) in d.iter() {
                    if IRRELEVANT.contains(&k.as_slice()) {
                        continue;
                    }
                    let role = match k.as_slice() {
                        b"Kids" => Role::Kids,
                        b"Contents" => Role::Contents,
                        _ => Role::Leaf,
                    };
                    match v {
                        Object::Reference(r) => todo.push((*r, role, next)),
                        Object::Array(a) if !matches!(role, Role::Leaf) => {
                            let each = if matches!(role, Role::Kids) { Role::Node } else { Role::Contents };
                            for o in a {
                                if let Object::Reference(r) = o {
                                    todo.push((*r, each, next));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            // anything else where structure is expected: let the full parse decide
            _ => return None,
        }
    }
    Some(out)
}

/// The byte count [`Revisions::with_final`] will parse for these signed revision ends: the whole file
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
    /// Signed revisions parsed in full (the rest were known unchanged from their xref chains).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) parsed: usize,
    now: Option<Pages>,
    signed: HashMap<usize, Option<Pages>>,
}

impl Revisions {
    /// Parse `pdf` and its prefixes ending at `ends` (those shorter than the file).
    #[cfg(test)]
    pub fn new(pdf: &[u8], ends: impl IntoIterator<Item = usize>) -> Revisions {
        let ends: Vec<usize> = ends.into_iter().collect();
        if !ends.iter().any(|&e| e < pdf.len()) {
            return Revisions::with_final(pdf, &[], None, ends);
        }
        let blanked = kyso_sign::pdf::blank_signature_contents_ending_dicts(pdf);
        let doc = load(&blanked);
        Revisions::with_final(pdf, &blanked, doc.as_ref(), ends)
    }

    /// The final file's pages and each signed revision's, for a caller that already parsed the final file: `blanked` is `pdf` with
    /// its signature values blanked and `doc` its parse (None when it did not parse).
    pub fn with_final(
        pdf: &[u8],
        blanked: &[u8],
        doc: Option<&Document>,
        ends: impl IntoIterator<Item = usize>,
    ) -> Revisions {
        let mut ends: Vec<usize> = ends.into_iter().filter(|&e| e < pdf.len()).collect();
        ends.sort_unstable();
        ends.dedup();
        if ends.is_empty() {
            return Revisions { total: pdf.len(), parsed: 0, now: None, signed: HashMap::new() };
        }
        let Some(doc) = doc else {
            return Revisions { total: pdf.len(), parsed: 0, now: None, signed: HashMap::new() };
        };
        let now = pages(doc);
        // The shortcut: where a revision's xref resolves every object the final pages depend on
        // to the same place as the final file's, its pages are the final pages (same bytes at
        // the same offsets of the same file): no parse. Otherwise (a page or its tree changed,
        // an xref stream, anything unusual) the revision is parsed in full.
        let unchanged = depends_on(doc).and_then(|wanted| {
            let mut chains = kyso_sign::XrefChains::new(pdf, wanted.clone());
            let final_at = kyso_sign::startxref_before(pdf, pdf.len())?;
            let final_map = chains.resolve(final_at)?;
            // lopdf read the final file through the same table, or the shortcut is off
            let agrees = final_map.0.iter().all(|(num, e)| match (e, doc.reference_table.entries.get(num)) {
                (Some((g, off)), Some(lopdf::xref::XrefEntry::Normal { offset, generation })) => {
                    *g == *generation && *off == *offset as usize
                }
                _ => false,
            }) && final_map.0.len() == wanted.len();
            agrees.then_some((chains, final_map))
        });
        let mut shortcut = unchanged;
        let mut parsed = 0;
        let signed = ends
            .into_iter()
            .map(|e| {
                let same = shortcut.as_mut().is_some_and(|(chains, final_map)| {
                    kyso_sign::startxref_before(pdf, e)
                        .and_then(|at| chains.resolve(at))
                        .is_some_and(|m| &m == final_map && m.0.values().all(|v| v.is_some_and(|(_, off)| off < e)))
                });
                if same {
                    (e, Some(now.clone()))
                } else {
                    parsed += 1;
                    (e, load(&blanked[..e]).map(|d| pages(&d)))
                }
            })
            .collect();
        Revisions { total: pdf.len(), parsed, now: Some(now), signed }
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

    fn base() -> Vec<u8> {
        let content = "BT /F1 24 Tf 72 720 Td (base) Tj ET";
        kyso_sign::pdf::classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_string(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        ])
    }

    /// An incremental update redefining object `num` as `body`.
    fn update(pdf: &[u8], num: u32, body: &str) -> Vec<u8> {
        let prev = kyso_sign::startxref_before(pdf, pdf.len()).unwrap();
        let mut out = pdf.to_vec();
        let at = out.len();
        out.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
        let x = out.len();
        out.extend_from_slice(
            format!("xref\n{num} 1\n{at:010} 00000 n\r\ntrailer\n<< /Size 7 /Root 1 0 R /Prev {prev} >>\nstartxref\n{x}\n%%EOF\n")
                .as_bytes(),
        );
        out
    }

    /// The shortcut answers "unchanged" only where the page objects did not move; a redefined
    /// content stream is parsed and caught, whatever the update looks like otherwise.
    #[test]
    fn later_updates_are_judged_with_and_without_the_shortcut() {
        let signed = base();
        let end = signed.len();
        let unrelated = update(&signed, 6, "<< /Whatever true >>");
        let r = Revisions::new(&unrelated, [end]);
        assert!(matches!(r.analyse(end), Modification::AllowedLater { .. }));
        assert_eq!(r.parsed, 0, "known unchanged from the xref chain");
        let changed = update(&signed, 4, "<< /Length 9 >>\nstream\nBT ET q Q\nendstream");
        let r = Revisions::new(&changed, [end]);
        assert!(matches!(r.analyse(end), Modification::PageContentChanged { .. }));
        assert_eq!(r.parsed, 1, "the content stream moved: parsed");
        // the same content written again: parsed (the object moved), and found equal
        let content = "BT /F1 24 Tf 72 720 Td (base) Tj ET";
        let same = update(&signed, 4, &format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()));
        assert!(matches!(Revisions::new(&same, [end]).analyse(end), Modification::AllowedLater { .. }));
        // a changed page after an unrelated update: still caught at the first revision
        let both = update(&update(&signed, 6, "<< >>"), 4, "<< /Length 3 >>\nstream\nq Q\nendstream");
        let mid = update(&signed, 6, "<< >>").len();
        let r = Revisions::new(&both, [end, mid]);
        assert!(matches!(r.analyse(end), Modification::PageContentChanged { .. }));
        assert!(matches!(r.analyse(mid), Modification::PageContentChanged { .. }));
        // a new page tree root in the catalog: parsed, page count compared
        let pages = update(&signed, 2, "<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>");
        assert!(matches!(Revisions::new(&pages, [end]).analyse(end), Modification::PageContentChanged { .. }));
    }

    #[test]
    fn parse_cost_counts_each_distinct_revision_once() {
        assert_eq!(parse_cost(100, [100, 120]), 100, "the whole file and beyond it: one parse");
        assert_eq!(parse_cost(100, [40, 40, 60, 40]), 200);
        assert_eq!(parse_cost(usize::MAX, [usize::MAX - 1]), usize::MAX, "saturates");
    }
}
