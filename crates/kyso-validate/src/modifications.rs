//! What changed after a signature: later incremental updates are allowed when they only add
//! signatures, form fields, DSS and time-stamps (the page tree and page contents stay the same);
//! a change of page content fails the signature (the shadow/incremental-save attack).

use crate::Modification;
use lopdf::Document;

fn load(bytes: &[u8]) -> Option<Document> {
    std::panic::catch_unwind(|| Document::load_mem(bytes).ok()).ok().flatten()
}

/// Per page: the decoded content bytes (None when a page cannot be read).
fn pages(doc: &Document) -> Vec<Option<Vec<u8>>> {
    doc.get_pages()
        .values()
        .map(|id| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.get_page_content(*id).ok())).ok().flatten()
        })
        .collect()
}

pub fn analyse(pdf: &[u8], covered_to: usize, _last_full: usize) -> Modification {
    if covered_to >= pdf.len() {
        return Modification::None;
    }
    let later = pdf.len() - covered_to;
    let (Some(signed), Some(now)) = (pdf.get(..covered_to).and_then(load), load(pdf)) else {
        return Modification::Unknown {
            bytes: later,
            detail: "the signed revision or the final file cannot be parsed".into(),
        };
    };
    let (a, b) = (pages(&signed), pages(&now));
    if a.len() != b.len() {
        return Modification::PageContentChanged {
            at_byte: covered_to,
            detail: format!("the page count changed from {} to {}", a.len(), b.len()),
        };
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
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
