//! A local KMS: named, versioned master keys held in process, for tests, examples and single-node
//! deployments (like MinIO's built-in KMS).

use super::{
    DecryptRequest, EncryptionContext, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms, KmsDataKey,
    KmsError, ReEncryptRequest, ReEncryptResponse,
};
use crate::envelope::valid_key_id;
use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, RootKey};
use crate::primitives::{OnceKey, TAG_LEN};
use rand_core::TryCryptoRng;
use std::collections::BTreeMap;
use std::sync::Mutex;

const MAGIC: &[u8; 4] = b"LKMS";
const VERSION: u8 = 1;
const SALT_LEN: usize = 32;
const INFO: &[u8] = b"s3crypt local kms v1\0";
/// `magic ‖ format ‖ BE32(key version) ‖ salt ‖ encrypted data key ‖ tag`
const BLOB_LEN: usize = 4 + 1 + 4 + SALT_LEN + KEY_LEN + TAG_LEN;

struct MasterKey {
    versions: BTreeMap<u32, RootKey>,
    active: u32,
}

/// A KMS in process: named master keys with versions, data keys wrapped with AES-256-GCM under a
/// key derived (HKDF-SHA-512, fresh 256-bit salt) from the master key, the canonical encryption
/// context as associated data. Rotating a master key adds a version; blobs of older versions still
/// decrypt.
///
/// Its blobs are `"LKMS" ‖ 0x01 ‖ BE32(version) ‖ salt (32) ‖ AES-256-GCM(data key) (48)`, 89 bytes.
pub struct LocalKms<R> {
    keys: BTreeMap<String, MasterKey>,
    rng: Mutex<R>,
}

impl<R> core::fmt::Debug for LocalKms<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let keys: Vec<(&str, u32)> = self.keys.iter().map(|(k, m)| (k.as_str(), m.active)).collect();
        f.debug_struct("LocalKms").field("active_versions", &keys).finish_non_exhaustive()
    }
}

fn not_found(key_id: &str) -> KmsError {
    KmsError::new("KMS.NotFoundException", format!("key {key_id:?} does not exist")).with_status(400)
}

fn invalid_ciphertext() -> KmsError {
    KmsError::new("KMS.InvalidCiphertextException", "the ciphertext, key or context is wrong")
        .with_status(400)
}

impl<R: TryCryptoRng> LocalKms<R> {
    /// An empty KMS drawing data keys and salts from `rng`.
    pub fn new(rng: R) -> Self {
        Self { keys: BTreeMap::new(), rng: Mutex::new(rng) }
    }

    /// Creates master key `key_id` at version 1.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] for a malformed id; [`Error::DuplicateKey`] if it exists.
    pub fn create_key(&mut self, key_id: &str, key: RootKey) -> Result<()> {
        if !valid_key_id(key_id) {
            return Err(Error::InvalidKeyId);
        }
        if self.keys.contains_key(key_id) {
            return Err(Error::DuplicateKey { key_id: key_id.to_owned(), version: 1 });
        }
        self.keys.insert(key_id.to_owned(), MasterKey { versions: BTreeMap::from([(1, key)]), active: 1 });
        Ok(())
    }

    /// Rotates master key `key_id`: `key` becomes its next version, used for every new data key;
    /// older versions keep decrypting. Returns the new version.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if there is no such key; [`Error::TooLong`] past 2^32 − 1 versions.
    pub fn rotate(&mut self, key_id: &str, key: RootKey) -> Result<u32> {
        let master = self
            .keys
            .get_mut(key_id)
            .ok_or_else(|| Error::UnknownKey { key_id: key_id.to_owned(), version: 0 })?;
        let version = master.active.checked_add(1).ok_or(Error::TooLong)?;
        master.versions.insert(version, key);
        master.active = version;
        Ok(version)
    }

    fn random(&self, buf: &mut [u8]) -> Result<(), KmsError> {
        let mut rng =
            self.rng.lock().map_err(|_| KmsError::new("KMS.InternalException", "generator poisoned"))?;
        rng.try_fill_bytes(buf).map_err(|_| KmsError::new("KMS.InternalException", "generator failed"))
    }

    fn kek(key_id: &str, version: u32, master: &RootKey, salt: &[u8]) -> Result<OnceKey, KmsError> {
        let id_len = u8::try_from(key_id.len()).map_err(|_| not_found(key_id))?;
        let info: [&[u8]; 4] = [INFO, &[id_len], key_id.as_bytes(), &version.to_be_bytes()];
        OnceKey::derive(salt, master.expose_secret(), &info, &mut []).map_err(|_| invalid_ciphertext())
    }

    fn aad(key_id: &str, version: u32, context: &EncryptionContext) -> Result<Vec<u8>, KmsError> {
        let id_len = u8::try_from(key_id.len()).map_err(|_| not_found(key_id))?;
        let mut aad = INFO.to_vec();
        aad.extend_from_slice(&version.to_be_bytes());
        aad.push(id_len);
        aad.extend_from_slice(key_id.as_bytes());
        aad.extend_from_slice(context.canonical_json().as_bytes());
        Ok(aad)
    }

    /// Encrypts `plaintext` under the active version of `key_id`.
    fn encrypt(
        &self,
        key_id: &str,
        plaintext: &KmsDataKey,
        context: &EncryptionContext,
    ) -> Result<Vec<u8>, KmsError> {
        let master = self.keys.get(key_id).ok_or_else(|| not_found(key_id))?;
        let version = master.active;
        let key = master.versions.get(&version).ok_or_else(|| not_found(key_id))?;
        let mut salt = [0u8; SALT_LEN];
        self.random(&mut salt)?;
        let sealed = Self::kek(key_id, version, key, &salt)?
            .seal(&Self::aad(key_id, version, context)?, plaintext.expose_secret())
            .map_err(|_| invalid_ciphertext())?;
        let mut blob = Vec::with_capacity(BLOB_LEN);
        blob.extend_from_slice(MAGIC);
        blob.push(VERSION);
        blob.extend_from_slice(&version.to_be_bytes());
        blob.extend_from_slice(&salt);
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    fn decrypt_blob(
        &self,
        key_id: &str,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<KmsDataKey, KmsError> {
        let master = self.keys.get(key_id).ok_or_else(|| not_found(key_id))?;
        if blob.len() != BLOB_LEN || &blob[..4] != MAGIC || blob[4] != VERSION {
            return Err(invalid_ciphertext());
        }
        let version = u32::from_be_bytes(blob[5..9].try_into().map_err(|_| invalid_ciphertext())?);
        let key = master.versions.get(&version).ok_or_else(invalid_ciphertext)?;
        let (salt, sealed) = blob[9..].split_at(SALT_LEN);
        let plaintext = Self::kek(key_id, version, key, salt)?
            .open(&Self::aad(key_id, version, context)?, sealed)
            .map_err(|_| invalid_ciphertext())?;
        KmsDataKey::from_slice(&plaintext).map_err(|_| invalid_ciphertext())
    }
}

impl<R: TryCryptoRng> Kms for LocalKms<R> {
    fn generate_data_key(
        &self,
        request: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        let mut bytes = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        self.random(bytes.as_mut_slice())?;
        let plaintext = KmsDataKey::from_bytes(*bytes);
        let ciphertext_blob = self.encrypt(&request.key_id, &plaintext, &request.context)?;
        Ok(GenerateDataKeyResponse { key_id: request.key_id.clone(), plaintext, ciphertext_blob })
    }

    fn decrypt(&self, request: &DecryptRequest) -> Result<KmsDataKey, KmsError> {
        self.decrypt_blob(&request.key_id, &request.ciphertext_blob, &request.context)
    }

    fn re_encrypt(&self, request: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        let plaintext =
            self.decrypt_blob(&request.source_key_id, &request.ciphertext_blob, &request.source_context)?;
        let ciphertext_blob =
            self.encrypt(&request.destination_key_id, &plaintext, &request.destination_context)?;
        Ok(ReEncryptResponse { key_id: request.destination_key_id.clone(), ciphertext_blob })
    }
}
