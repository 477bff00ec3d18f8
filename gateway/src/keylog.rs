//! The key-usage log: one JSON line per operation that used (or tried to use) a key.
//!
//! Fields: `ts` (RFC 3339), `op` (PutObject, GetObject, …), `mode` (`SSE-S3`, `SSE-C`, `SSE-KMS`,
//! `none`), `key_id` and `key_version` (for SSE-C the key's MD5 as the customer key's identifier is
//! *not* logged: only `customer`), `bucket`, `key`, `bucket_key` (SSE-KMS), `kms_call`
//! (`GenerateDataKey`, `Decrypt`, `cache` when a bucket key was reused), `outcome` (`ok` or the
//! error's kind). Never a key, a plaintext or a KMS blob.

use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;

/// One event.
#[derive(Debug, Default, Serialize)]
pub struct KeyEvent<'a> {
    /// The S3 operation.
    pub op: &'a str,
    /// The encryption mode.
    pub mode: &'a str,
    /// The key id (root key id, KMS key id, or `customer`).
    pub key_id: Option<String>,
    /// The root / KMS key version, where the envelope records one.
    pub key_version: Option<u32>,
    /// The bucket.
    pub bucket: &'a str,
    /// The object key.
    pub key: &'a str,
    /// Whether an S3 Bucket Key was used (SSE-KMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_key: Option<bool>,
    /// The KMS call made, if any (`cache` when a cached bucket key served).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_call: Option<&'static str>,
    /// `ok`, or the failure.
    pub outcome: String,
}

/// Where events go.
pub struct KeyLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLog").finish_non_exhaustive()
    }
}

impl KeyLog {
    /// A log writing JSON lines to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self { out: Mutex::new(out) }
    }

    /// Records `event`.
    pub fn record(&self, event: &KeyEvent<'_>) {
        #[derive(Serialize)]
        struct Line<'a, 'b> {
            ts: String,
            #[serde(flatten)]
            event: &'a KeyEvent<'b>,
        }
        let ts = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let Ok(mut line) = serde_json::to_vec(&Line { ts, event }) else { return };
        line.push(b'\n');
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(&line);
            let _ = out.flush();
        }
    }
}
