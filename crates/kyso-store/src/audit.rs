//! The tamper-evident audit log: each row carries the SHA-256 of its content chained to the
//! previous row's hash. `verify` walks the chain and names the first edited, deleted or
//! reordered row. (Truncating the tail is only visible against an externally kept head hash,
//! which `kyso audit verify` prints for that purpose.)

/// An event to append. Never put a full ID number or any secret in these fields.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

impl AuditEvent {
    pub fn new(actor: &str, action: &str, subject: &str, detail: impl Into<String>) -> AuditEvent {
        AuditEvent { actor: actor.into(), action: action.into(), subject: subject.into(), detail: detail.into() }
    }
}

#[derive(Clone, Debug)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

pub const GENESIS: [u8; 32] = [0u8; 32];

pub fn row_hash(prev: &[u8], seq: i64, at: i64, e: &AuditEvent) -> Vec<u8> {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"kyso-audit-v1");
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(&at.to_be_bytes());
    for f in [&e.actor, &e.action, &e.subject, &e.detail] {
        ctx.update(&(f.len() as u32).to_be_bytes());
        ctx.update(f.as_bytes());
    }
    ctx.finish().as_ref().to_vec()
}

/// Result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub rows: u64,
    pub head_seq: i64,
    pub head_hash: String,
    /// (seq of the first bad row, what is wrong)
    pub first_error: Option<(i64, String)>,
}

/// Incremental verifier: feed rows in seq order.
pub struct Verifier {
    expected_seq: i64,
    prev: Vec<u8>,
    rows: u64,
    pub first_error: Option<(i64, String)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier { expected_seq: 1, prev: GENESIS.to_vec(), rows: 0, first_error: None }
    }
}

impl Verifier {
    /// Returns false once an error was found (stop feeding).
    pub fn feed(&mut self, r: &AuditRow) -> bool {
        if self.first_error.is_some() {
            return false;
        }
        let err = if r.seq != self.expected_seq {
            Some(if r.seq > self.expected_seq {
                format!("expected row {} but found row {}: row(s) deleted", self.expected_seq, r.seq)
            } else {
                format!("row {} appears out of order", r.seq)
            })
        } else if r.prev_hash != self.prev {
            Some("prev_hash does not match the previous row: rows reordered, or the previous row rewritten".into())
        } else {
            let e = AuditEvent {
                actor: r.actor.clone(),
                action: r.action.clone(),
                subject: r.subject.clone(),
                detail: r.detail.clone(),
            };
            (row_hash(&r.prev_hash, r.seq, r.at, &e) != r.hash)
                .then(|| "content does not match its hash: row edited".into())
        };
        if let Some(e) = err {
            self.first_error = Some((r.seq, e));
            return false;
        }
        self.expected_seq += 1;
        self.prev = r.hash.clone();
        self.rows += 1;
        true
    }
    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            rows: self.rows,
            head_seq: self.expected_seq - 1,
            head_hash: hex::encode(&self.prev),
            first_error: self.first_error,
        }
    }
}
