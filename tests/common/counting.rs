//! A KMS wrapper that counts the requests reaching the KMS behind it: how tests show one
//! GenerateDataKey per upload, one Decrypt per read, and refusals made before any KMS call.

use s3crypt::{
    DecryptRequest, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms, KmsDataKey, KmsError,
    ReEncryptRequest, ReEncryptResponse,
};
use std::cell::Cell;

/// Forwards every request to `inner`, counting GenerateDataKey and Decrypt calls (tests read and
/// reset the counters directly).
pub struct CountingKms<'a, K> {
    inner: &'a K,
    pub generate: Cell<u32>,
    pub decrypt: Cell<u32>,
}

impl<'a, K: Kms> CountingKms<'a, K> {
    pub fn new(inner: &'a K) -> Self {
        Self { inner, generate: Cell::new(0), decrypt: Cell::new(0) }
    }
}

impl<K: Kms> Kms for CountingKms<'_, K> {
    fn generate_data_key(&self, r: &GenerateDataKeyRequest) -> Result<GenerateDataKeyResponse, KmsError> {
        self.generate.set(self.generate.get() + 1);
        self.inner.generate_data_key(r)
    }

    fn decrypt(&self, r: &DecryptRequest) -> Result<KmsDataKey, KmsError> {
        self.decrypt.set(self.decrypt.get() + 1);
        self.inner.decrypt(r)
    }

    fn re_encrypt(&self, r: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        self.inner.re_encrypt(r)
    }
}
