//! The gateway's secrets: SSE-S3 root keys, the local KMS's master keys and the S3 credentials.
//!
//! Kept in one JSON file, `DIR/keys.json` (mode 0600), generated on first start, or read from
//! `--keys FILE`. Its shape:
//!
//! ```json
//! { "access_key": "...", "secret_key": "...",
//!   "sse_s3": { "active": "root-1", "keys": { "root-1": "<64 hex>" } },
//!   "kms": { "default_key": "gateway-default", "keys": { "gateway-default": ["<64 hex>", ...] } } }
//! ```
//!
//! A KMS key's list holds its versions in order (the last is active). SSE-S3 keys are version 1.

use crate::store::{random_hex, write_atomic};
use s3crypt::{Keyring, LocalKms, OsRng, RootKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use zeroize::Zeroizing;

#[derive(Serialize, Deserialize)]
struct SseS3File {
    active: String,
    keys: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct KmsFile {
    default_key: String,
    keys: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct KeysFile {
    access_key: String,
    secret_key: String,
    sse_s3: SseS3File,
    kms: KmsFile,
}

/// The loaded secrets.
pub struct Keys {
    /// S3 access key id.
    pub access_key: String,
    /// S3 secret access key.
    pub secret_key: Zeroizing<String>,
    /// SSE-S3's root keys.
    pub keyring: Keyring,
    /// SSE-KMS's key service.
    pub kms: LocalKms<OsRng>,
    /// The KMS key used when a request names none.
    pub default_kms_key: String,
}

fn generated() -> Result<KeysFile, s3crypt::Error> {
    let root = RootKey::generate(&mut OsRng)?;
    let master = RootKey::generate(&mut OsRng)?;
    Ok(KeysFile {
        access_key: format!("S3CRYPT{}", random_hex(6).to_uppercase()),
        secret_key: random_hex(20),
        sse_s3: SseS3File {
            active: "root-1".into(),
            keys: BTreeMap::from([("root-1".into(), base16ct::lower::encode_string(root.expose_secret()))]),
        },
        kms: KmsFile {
            default_key: "gateway-default".into(),
            keys: BTreeMap::from([(
                "gateway-default".into(),
                vec![base16ct::lower::encode_string(master.expose_secret())],
            )]),
        },
    })
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("keys file: {e}"))
}

/// Loads the keys from `path`, generating and saving them (0600) if the file does not exist.
pub fn load_or_create(path: &Path) -> io::Result<Keys> {
    let text = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let file = generated().map_err(invalid)?;
            let bytes = Zeroizing::new(serde_json::to_vec_pretty(&file)?);
            write_atomic(path, &bytes, 0o600)?;
            bytes
        }
        Err(e) => return Err(e),
    };
    let file: KeysFile = serde_json::from_slice(&text).map_err(invalid)?;

    let mut keyring: Option<Keyring> = None;
    for (id, hex) in &file.sse_s3.keys {
        let key = RootKey::from_hex(hex).map_err(invalid)?;
        match &mut keyring {
            None => keyring = Some(Keyring::new(id, 1, key).map_err(invalid)?),
            Some(k) => k.add(id, 1, key).map_err(invalid)?,
        }
    }
    let mut keyring = keyring.ok_or_else(|| invalid("no SSE-S3 root key"))?;
    keyring.activate(&file.sse_s3.active, 1).map_err(invalid)?;

    let mut kms = LocalKms::new(OsRng);
    for (id, versions) in &file.kms.keys {
        for (i, hex) in versions.iter().enumerate() {
            let key = RootKey::from_hex(hex).map_err(invalid)?;
            if i == 0 {
                kms.create_key(id, key).map_err(invalid)?;
            } else {
                kms.rotate(id, key).map_err(invalid)?;
            }
        }
    }
    if !file.kms.keys.contains_key(&file.kms.default_key) {
        return Err(invalid("the default KMS key is not in the file"));
    }
    Ok(Keys {
        access_key: file.access_key,
        secret_key: Zeroizing::new(file.secret_key),
        keyring,
        kms,
        default_kms_key: file.kms.default_key,
    })
}
