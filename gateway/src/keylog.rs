//! The key-usage log: s3crypt's [`s3crypt::KeyEvent`]s as JSON lines, to stderr or a file.
//!
//! One line per use of a key — `seal`, `open`, `reseal`, `kms-generate`, `kms-decrypt` — with the
//! operation, mode, key id and version, bucket, key and outcome (`success`, `wrong-key`,
//! `tampered`, `kms-error`, `refused`). Never a key, a plaintext or a KMS blob.

use std::io::Write;
use std::sync::Mutex;

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

    /// Writes one line (a JSON object without a newline).
    pub fn line(&self, json: &str) {
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(json.as_bytes());
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
    }
}
