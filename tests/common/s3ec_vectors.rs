//! The S3EC vector files shared by tests/s3ec.rs and tests/s3ec_legacy.rs: listing and reading the
//! JSON descriptions, regenerating their seeded plaintext, and the stub KMS that answers for them.

use base64ct::{Base64, Encoding};
use s3crypt::{
    DecryptRequest, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms, KmsDataKey, KmsError,
    ReEncryptRequest, ReEncryptResponse,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A vector directory below tests/s3ec (`vectors`, `legacy-vectors`).
pub fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3ec").join(name)
}

/// The descriptions (`*.json`) in `dir`, sorted by name.
pub fn descriptions(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// A description, parsed.
pub fn read_description(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The object body a description at `path` names (stored next to it).
pub fn body(path: &Path, desc: &Value) -> Vec<u8> {
    std::fs::read(path.parent().unwrap().join(desc["body"].as_str().unwrap())).unwrap()
}

/// The seeded plaintext of a vector: SHA-256(seed ‖ BE32(i)) blocks, truncated (harness.py).
pub fn plaintext(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut i = 0u32;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update(i.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        i += 1;
    }
    out.truncate(len);
    out
}

/// The plaintext a description's `plaintext` field (seed, len, sha256) stands for, checked against
/// the digest the generator recorded.
pub fn described_plaintext(p: &Value) -> Vec<u8> {
    let plain = plaintext(p["seed"].as_str().unwrap(), p["len"].as_u64().unwrap() as usize);
    assert_eq!(
        hex(&Sha256::digest(&plain)),
        p["sha256"].as_str().unwrap(),
        "seeded plaintext differs from harness.py"
    );
    plain
}

/// A JSON object of strings as a map.
pub fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex (either case, whitespace ignored) to bytes.
pub fn unhex(h: &str) -> Vec<u8> {
    let h: String = h.split_whitespace().collect();
    (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// AWS's KMS as botocore's Stubber answered it: Decrypt succeeds only for the exact key id, blob and
/// stored context the object was written with; counts the Decrypt calls, so a refusal "before the
/// KMS" can be checked.
#[derive(Clone)]
pub struct StubKms {
    pub key_id: String,
    pub blob: Vec<u8>,
    pub plaintext: [u8; 32],
    pub context: BTreeMap<String, String>,
    calls: Cell<u32>,
}

impl StubKms {
    /// The stub a description's `kms` object (key_id, ciphertext_blob, plaintext, context) describes.
    pub fn from_description(k: &Value) -> Self {
        Self {
            key_id: k["key_id"].as_str().unwrap().to_owned(),
            blob: Base64::decode_vec(k["ciphertext_blob"].as_str().unwrap()).unwrap(),
            plaintext: Base64::decode_vec(k["plaintext"].as_str().unwrap()).unwrap().try_into().unwrap(),
            context: string_map(&k["context"]),
            calls: Cell::new(0),
        }
    }

    /// How many times Decrypt was asked.
    pub fn calls(&self) -> u32 {
        self.calls.get()
    }
}

impl Kms for StubKms {
    fn generate_data_key(&self, _: &GenerateDataKeyRequest) -> Result<GenerateDataKeyResponse, KmsError> {
        Err(KmsError::new("KMS.Unsupported", "read-only stub"))
    }

    fn decrypt(&self, request: &DecryptRequest) -> Result<KmsDataKey, KmsError> {
        self.calls.set(self.calls.get() + 1);
        let context: BTreeMap<String, String> =
            request.context.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        if request.key_id != self.key_id || request.ciphertext_blob != self.blob || context != self.context {
            return Err(KmsError::new("KMS.InvalidCiphertextException", "wrong blob, key or context")
                .with_status(400));
        }
        Ok(KmsDataKey::from_bytes(self.plaintext))
    }

    fn re_encrypt(&self, _: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        Err(KmsError::new("KMS.Unsupported", "read-only stub"))
    }
}
