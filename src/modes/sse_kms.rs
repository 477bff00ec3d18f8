//! SSE-KMS: wrapping keys that come from a key-management service, one round trip away.

use crate::envelope::{Envelope, KMS_BLOB_MAX, ObjectId, Scheme, valid_key_id};
use crate::error::{Error, Result};
use crate::kms::{
    AsyncKms, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms,
    KmsDataKey, ReEncryptRequest, ReEncryptResponse, s3_arn,
};
use crate::wrap::{Encryptor, KmsBinding, WrappingKey};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The SSE-KMS settings of a write (PutObject, CopyObject, CreateMultipartUpload): which KMS key,
/// the user's encryption context, and whether to use an S3 Bucket Key.
///
/// It builds the [`GenerateDataKeyRequest`] for an object; the response makes a [`KmsKey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseKms {
    key_id: String,
    context: EncryptionContext,
    bucket_key: bool,
}

impl SseKms {
    /// SSE-KMS under `key_id` (a KMS key id, alias or ARN), no user context, no bucket key.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] unless `key_id` is 1 to 255 printable ASCII characters.
    pub fn new(key_id: &str) -> Result<Self> {
        if !valid_key_id(key_id) {
            return Err(Error::InvalidKeyId);
        }
        Ok(Self { key_id: key_id.to_owned(), context: EncryptionContext::new(), bucket_key: false })
    }

    /// Adds the user's encryption context (without S3's `aws:s3:arn`, which is added per object).
    #[must_use]
    pub fn with_context(mut self, context: EncryptionContext) -> Self {
        self.context = context;
        self
    }

    /// Uses an S3 Bucket Key: one KMS data key per bucket (cached by the embedder, see
    /// [`BucketKeyCache`]) wraps every object's key, instead of one KMS call per object.
    #[must_use]
    pub fn with_bucket_key(mut self, enabled: bool) -> Self {
        self.bucket_key = enabled;
        self
    }

    /// The KMS key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Whether a bucket key is used.
    pub fn bucket_key(&self) -> bool {
        self.bucket_key
    }

    /// The user's encryption context (without `aws:s3:arn`: see [`SseKms::context_for`]).
    pub fn user_context(&self) -> &EncryptionContext {
        &self.context
    }

    /// The encryption context the KMS binds: the user's pairs plus `aws:s3:arn`, which is the
    /// object's ARN, or the bucket's with a bucket key (as S3 does).
    ///
    /// # Errors
    /// [`crate::SseError::InvalidEncryptionContext`] if the names are not UTF-8 or the context
    /// grows too large.
    pub fn context_for(&self, object: &ObjectId<'_>) -> Result<EncryptionContext> {
        let key = (!self.bucket_key).then(|| object.key());
        self.context.with_arn(&s3_arn(object.bucket(), key)?)
    }

    /// The GenerateDataKey request to send for `object` (with a bucket key: for its bucket).
    ///
    /// # Errors
    /// As [`SseKms::context_for`].
    pub fn generate_data_key_request(&self, object: &ObjectId<'_>) -> Result<GenerateDataKeyRequest> {
        Ok(GenerateDataKeyRequest { key_id: self.key_id.clone(), context: self.context_for(object)? })
    }

    /// Turns the KMS's answer to `request` into the key that seals the object.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] for a malformed key id in the response; [`Error::Kms`] for an empty
    /// or oversized blob.
    pub fn key_from_response(
        &self,
        request: &GenerateDataKeyRequest,
        response: GenerateDataKeyResponse,
    ) -> Result<KmsKey> {
        KmsKey::new(
            &request.key_id,
            response.key_id,
            response.plaintext,
            response.ciphertext_blob,
            request.context.clone(),
            self.bucket_key,
        )
    }

    /// The whole round trip with a blocking client.
    ///
    /// # Errors
    /// [`Error::Kms`] with the KMS's error; as [`SseKms::key_from_response`].
    pub fn generate_key(&self, kms: &impl Kms, object: &ObjectId<'_>) -> Result<KmsKey> {
        let request = self.generate_data_key_request(object)?;
        let response = kms.generate_data_key(&request)?;
        self.key_from_response(&request, response)
    }

    /// The whole round trip with an async client.
    ///
    /// # Errors
    /// As [`SseKms::generate_key`].
    pub async fn generate_key_async(&self, kms: &impl AsyncKms, object: &ObjectId<'_>) -> Result<KmsKey> {
        let request = self.generate_data_key_request(object)?;
        let response = kms.generate_data_key(&request).await?;
        self.key_from_response(&request, response)
    }
}

/// An SSE-KMS wrapping key: the plaintext data key a KMS returned, with the key id, blob and
/// context the envelope records to get it back. It is the [`Encryptor`] for SSE-KMS.
///
/// Get one for a new object from [`SseKms::generate_key`] (or the request/response pair), and for
/// an existing object from [`KmsKey::for_envelope`] (or [`KmsKey::decrypt_request`] and
/// [`KmsKey::from_decrypted`]). With bucket keys one `KmsKey` serves many objects.
pub struct KmsKey {
    key_id: String,
    /// The key id the request named (an alias, say), which the KMS may have answered with an ARN:
    /// what a writer's cache is looked up by.
    requested: String,
    plaintext: KmsDataKey,
    blob: Vec<u8>,
    context: EncryptionContext,
    bucket_key: bool,
}

impl core::fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KmsKey")
            .field("key_id", &self.key_id)
            .field("context", &self.context)
            .field("bucket_key", &self.bucket_key)
            .finish_non_exhaustive()
    }
}

fn bad_blob() -> Error {
    Error::Kms(crate::KmsError::new(
        "KMS.InvalidCiphertextException",
        "the KMS returned an empty or oversized blob",
    ))
}

impl KmsKey {
    fn new(
        requested: &str,
        key_id: String,
        plaintext: KmsDataKey,
        blob: Vec<u8>,
        context: EncryptionContext,
        bucket_key: bool,
    ) -> Result<Self> {
        if !valid_key_id(&key_id) {
            return Err(Error::InvalidKeyId);
        }
        if blob.is_empty() || blob.len() > KMS_BLOB_MAX {
            return Err(bad_blob());
        }
        Ok(Self { key_id, requested: requested.to_owned(), plaintext, blob, context, bucket_key })
    }

    /// The KMS key id (as the KMS named it when generating).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The encryption context bound to the blob.
    pub fn context(&self) -> &EncryptionContext {
        &self.context
    }

    /// The KMS ciphertext blob.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// Whether this is a bucket key.
    pub fn is_bucket_key(&self) -> bool {
        self.bucket_key
    }

    /// The Decrypt request that recovers the wrapping key of `envelope`: its key id, blob and
    /// stored context, exactly.
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] if the envelope is not SSE-KMS.
    pub fn decrypt_request(envelope: &Envelope) -> Result<DecryptRequest> {
        let (Some(blob), Some(context)) = (envelope.kms_blob(), envelope.kms_context()) else {
            return Err(Error::SchemeMismatch { envelope: envelope.scheme(), presented: Scheme::SseKms });
        };
        Ok(DecryptRequest {
            key_id: envelope.key_id().to_owned(),
            ciphertext_blob: blob.to_vec(),
            context: context.clone(),
        })
    }

    /// The key of `envelope`, from the KMS's answer to [`KmsKey::decrypt_request`].
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] if the envelope is not SSE-KMS. (A plaintext that is not the
    /// envelope's key is caught when opening: [`Error::WrongKey`].)
    pub fn from_decrypted(envelope: &Envelope, plaintext: KmsDataKey) -> Result<Self> {
        let request = Self::decrypt_request(envelope)?;
        let requested = request.key_id.clone();
        Self::new(
            &requested,
            request.key_id,
            plaintext,
            request.ciphertext_blob,
            request.context,
            envelope.bucket_key(),
        )
    }

    /// The whole round trip with a blocking client.
    ///
    /// # Errors
    /// [`Error::Kms`] with the KMS's error; as [`KmsKey::from_decrypted`].
    pub fn for_envelope(kms: &impl Kms, envelope: &Envelope) -> Result<Self> {
        let plaintext = kms.decrypt(&Self::decrypt_request(envelope)?)?;
        Self::from_decrypted(envelope, plaintext)
    }

    /// The whole round trip with an async client.
    ///
    /// # Errors
    /// As [`KmsKey::for_envelope`].
    pub async fn for_envelope_async(kms: &impl AsyncKms, envelope: &Envelope) -> Result<Self> {
        let plaintext = kms.decrypt(&Self::decrypt_request(envelope)?).await?;
        Self::from_decrypted(envelope, plaintext)
    }

    /// The ReEncrypt request that moves this key's blob to `to` (another KMS key, or the same key
    /// after a rotation) for `object`, without the plaintext leaving the KMS.
    ///
    /// # Errors
    /// As [`SseKms::context_for`].
    pub fn re_encrypt_request(&self, to: &SseKms, object: &ObjectId<'_>) -> Result<ReEncryptRequest> {
        Ok(ReEncryptRequest {
            source_key_id: self.key_id.clone(),
            ciphertext_blob: self.blob.clone(),
            source_context: self.context.clone(),
            destination_key_id: to.key_id.clone(),
            destination_context: to.context_for(object)?,
        })
    }

    /// The same wrapping key under its new blob, from the KMS's answer to
    /// [`KmsKey::re_encrypt_request`]. Re-seal the envelope from `self` to the result: the body is
    /// untouched.
    ///
    /// # Errors
    /// As [`SseKms::key_from_response`].
    pub fn re_encrypted(
        &self,
        request: &ReEncryptRequest,
        response: ReEncryptResponse,
        to: &SseKms,
    ) -> Result<Self> {
        let plaintext = KmsDataKey::from_bytes(*self.plaintext.expose_secret());
        Self::new(
            &request.destination_key_id,
            response.key_id,
            plaintext,
            response.ciphertext_blob,
            request.destination_context.clone(),
            to.bucket_key,
        )
    }

    fn wrapping_key(&self) -> WrappingKey<'_> {
        let binding = KmsBinding { blob: &self.blob, context: &self.context, bucket_key: self.bucket_key };
        WrappingKey::with_kms(self.plaintext.expose_secret(), &self.key_id, binding)
    }
}

impl Encryptor for KmsKey {
    fn scheme(&self) -> Scheme {
        Scheme::SseKms
    }

    fn sealing_key(&self) -> Result<WrappingKey<'_>> {
        Ok(self.wrapping_key())
    }

    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        if envelope.key_id() != self.key_id {
            return Err(Error::UnknownKey {
                key_id: envelope.key_id().to_owned(),
                version: envelope.key_version(),
            });
        }
        Ok(self.wrapping_key())
    }
}

/// A bounded-lifetime cache of bucket keys, for the embedder to keep beside its KMS client.
///
/// Sans-I/O like the rest of the crate: it reads no clock; every call takes `now`. Entries expire
/// `ttl` after they were inserted. Writers look keys up by KMS key id and bucket context, readers
/// by the blob an envelope records, so one GenerateDataKey (and, in another process, one Decrypt)
/// serves every object of a bucket for `ttl`.
#[derive(Debug)]
pub struct BucketKeyCache {
    ttl: Duration,
    max_entries: usize,
    entries: Vec<(Arc<KmsKey>, Instant)>,
}

impl BucketKeyCache {
    /// A cache whose entries live for `ttl`, holding at most `max_entries` keys.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self { ttl, max_entries, entries: Vec::new() }
    }

    fn live(&self, now: Instant) -> impl Iterator<Item = &Arc<KmsKey>> {
        self.entries
            .iter()
            .filter(move |(_, born)| now.saturating_duration_since(*born) < self.ttl)
            .map(|(k, _)| k)
    }

    /// A live bucket key to seal a new object of `object`'s bucket with, under `sse`.
    ///
    /// # Errors
    /// As [`SseKms::context_for`].
    pub fn for_write(
        &self,
        sse: &SseKms,
        object: &ObjectId<'_>,
        now: Instant,
    ) -> Result<Option<Arc<KmsKey>>> {
        let context = sse.context_for(object)?;
        // By the id the writer asks for: AWS answers an alias with the key's ARN.
        Ok(self
            .live(now)
            .find(|k| k.bucket_key && k.requested == sse.key_id && k.context == context)
            .cloned())
    }

    /// A live bucket key that opens `envelope` (same key id, blob and context).
    pub fn for_read(&self, envelope: &Envelope, now: Instant) -> Option<Arc<KmsKey>> {
        let blob = envelope.kms_blob()?;
        let context = envelope.kms_context()?;
        self.live(now)
            .find(|k| {
                k.bucket_key && k.key_id == envelope.key_id() && k.blob == blob && &k.context == context
            })
            .cloned()
    }

    /// Caches a bucket key (others are not cached); expired entries are dropped, and the oldest
    /// goes when the cache is full.
    pub fn insert(&mut self, key: KmsKey, now: Instant) -> Arc<KmsKey> {
        let key = Arc::new(key);
        if !key.bucket_key || self.max_entries == 0 {
            return key;
        }
        let ttl = self.ttl;
        self.entries.retain(|(_, born)| now.saturating_duration_since(*born) < ttl);
        if self.entries.len() >= self.max_entries {
            self.entries.remove(0);
        }
        self.entries.push((Arc::clone(&key), now));
        key
    }
}
