//! The sans-I/O KMS interface: plain-data requests the embedder sends to its key-management service,
//! and the responses it hands back.
//!
//! s3crypt never calls a KMS. A gateway builds a request ([`GenerateDataKeyRequest`],
//! [`DecryptRequest`], [`ReEncryptRequest`]), performs it with its own client — blocking or async,
//! AWS KMS, Vault Transit, KES, an HSM — and turns the response into a [`crate::KmsKey`], which is an
//! [`crate::Encryptor`]. The [`Kms`] and [`AsyncKms`] traits let it write that client once; the crate
//! depends on no runtime. See `docs/DESIGN.md` §4.

mod context;
mod local;

pub use context::{EncryptionContext, MAX_CONTEXT_LEN, S3_ARN_KEY, s3_arn};
pub use local::LocalKms;

use crate::keys::secret_key;
use std::borrow::Cow;

secret_key!(
    /// A plaintext data key returned by a KMS (GenerateDataKey or Decrypt): the wrapping key of an
    /// SSE-KMS envelope. Zeroized on drop; never printed.
    KmsDataKey
);

/// GenerateDataKey: a new 256-bit data key under `key_id`, bound to `context`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateDataKeyRequest {
    /// The KMS key id, alias or ARN to generate under.
    pub key_id: String,
    /// The encryption context (canonical; S3's `aws:s3:arn` included).
    pub context: EncryptionContext,
}

/// The KMS's answer to [`GenerateDataKeyRequest`].
#[derive(Debug)]
pub struct GenerateDataKeyResponse {
    /// The key that was used, as the KMS names it canonically (AWS returns the key ARN even when
    /// asked with an alias). This is what the envelope records and what decrypt will ask for.
    pub key_id: String,
    /// The plaintext data key (32 bytes).
    pub plaintext: KmsDataKey,
    /// The data key encrypted under `key_id` and the context.
    pub ciphertext_blob: Vec<u8>,
}

/// Decrypt: recover the data key in `ciphertext_blob` under `key_id` and exactly `context`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptRequest {
    /// The key id recorded in the envelope.
    pub key_id: String,
    /// The blob recorded in the envelope.
    pub ciphertext_blob: Vec<u8>,
    /// The encryption context recorded in the envelope.
    pub context: EncryptionContext,
}

/// ReEncrypt: move a blob to another key (or to the current version of the same key) without the
/// plaintext leaving the KMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReEncryptRequest {
    /// The blob's current key.
    pub source_key_id: String,
    /// The blob.
    pub ciphertext_blob: Vec<u8>,
    /// The blob's current context.
    pub source_context: EncryptionContext,
    /// The key to re-encrypt under.
    pub destination_key_id: String,
    /// The context to bind the new blob to.
    pub destination_context: EncryptionContext,
}

/// The KMS's answer to [`ReEncryptRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReEncryptResponse {
    /// The destination key, as the KMS names it canonically.
    pub key_id: String,
    /// The new blob.
    pub ciphertext_blob: Vec<u8>,
}

/// An error from the embedder's KMS, passed through as [`crate::Error::Kms`]: distinct from
/// authentication failures, and mapped by [`crate::Error::s3_response`] to its own status and code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("KMS error {code}: {message}")]
pub struct KmsError {
    /// HTTP status a gateway should answer with (500 unless the KMS said otherwise).
    pub status: u16,
    /// The error code, `KMS.*` by convention (`KMS.NotFoundException`, `KMS.DisabledException`…).
    pub code: Cow<'static, str>,
    /// A human-readable message (never containing key material).
    pub message: String,
}

impl KmsError {
    /// A KMS error with status 500.
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { status: 500, code: code.into(), message: message.into() }
    }

    /// The same error with another HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

/// A KMS client with blocking calls. Implement it (or [`AsyncKms`]) once for your KMS.
pub trait Kms {
    /// Performs GenerateDataKey (AES-256).
    ///
    /// # Errors
    /// The KMS's error.
    fn generate_data_key(
        &self,
        request: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError>;

    /// Performs Decrypt.
    ///
    /// # Errors
    /// The KMS's error, including a blob that does not decrypt under the key id and context.
    fn decrypt(&self, request: &DecryptRequest) -> Result<KmsDataKey, KmsError>;

    /// Performs ReEncrypt.
    ///
    /// # Errors
    /// The KMS's error.
    fn re_encrypt(&self, request: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError>;
}

/// A KMS client with async calls, for gateways on an async runtime (no runtime is assumed: the
/// futures are the client's own).
pub trait AsyncKms {
    /// Performs GenerateDataKey (AES-256).
    fn generate_data_key(
        &self,
        request: &GenerateDataKeyRequest,
    ) -> impl Future<Output = Result<GenerateDataKeyResponse, KmsError>> + Send;

    /// Performs Decrypt.
    fn decrypt(&self, request: &DecryptRequest) -> impl Future<Output = Result<KmsDataKey, KmsError>> + Send;

    /// Performs ReEncrypt.
    fn re_encrypt(
        &self,
        request: &ReEncryptRequest,
    ) -> impl Future<Output = Result<ReEncryptResponse, KmsError>> + Send;
}
