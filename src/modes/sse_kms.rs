//! SSE-KMS: wrapping keys that come from a key-management service, one round trip away.

use crate::envelope::{Envelope, KMS_BLOB_MAX, ObjectId, Scheme, valid_key_id};
use crate::error::{Error, Result};
use crate::kms::{
    AsyncKms, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms,
    KmsDataKey, ReEncryptRequest, ReEncryptResponse, s3_arn,
};
use crate::object::ObjectKey;
use crate::wrap::{Encryptor, KmsBinding, WrappingKey};
use std::collections::{HashMap, VecDeque};
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
    origin: Origin,
}

/// Where a [`KmsKey`] came from, which decides whether a [`BucketKeyCache`] may keep it unopened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// The KMS generated it (GenerateDataKey, ReEncrypt) for the binding it carries.
    Kms,
    /// Recovered for a stored envelope, whose binding is not proven until an open succeeds.
    Envelope,
}

/// The blob and context of an SSE-KMS `envelope`, once its context is known to name `object`.
fn stored_binding<'e>(
    envelope: &'e Envelope,
    object: &ObjectId<'_>,
) -> Result<(&'e [u8], &'e EncryptionContext)> {
    let (Some(blob), Some(context)) = (envelope.kms_blob(), envelope.kms_context()) else {
        return Err(Error::SchemeMismatch { envelope: envelope.scheme(), presented: Scheme::SseKms });
    };
    if !context.names(object, envelope.bucket_key()) {
        return Err(Error::KmsContextMismatch);
    }
    Ok((blob, context))
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
    pub(crate) fn new(
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
        Ok(Self {
            key_id,
            requested: requested.to_owned(),
            plaintext,
            blob,
            context,
            bucket_key,
            origin: Origin::Kms,
        })
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

    /// The Decrypt request that recovers the wrapping key of `envelope`, stored as `object`: its
    /// key id, blob and stored context, exactly.
    ///
    /// The envelope is checked first: it must be an SSE-KMS envelope whose context names `object`
    /// (for a bucket key, `object`'s bucket). An envelope copied from another object — whose
    /// context names that object — is refused here, before the KMS is asked anything: otherwise
    /// anyone who can write the storage could make the gateway's KMS identity decrypt any blob
    /// they can copy (`docs/DESIGN.md` §4.1).
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] if the envelope is not SSE-KMS; [`Error::KmsContextMismatch`] if
    /// its context names another object or bucket.
    pub fn decrypt_request(envelope: &Envelope, object: &ObjectId<'_>) -> Result<DecryptRequest> {
        let (blob, context) = stored_binding(envelope, object)?;
        Ok(DecryptRequest {
            key_id: envelope.key_id().to_owned(),
            ciphertext_blob: blob.to_vec(),
            context: context.clone(),
        })
    }

    /// The key of `envelope` (stored as `object`), from the KMS's answer to
    /// [`KmsKey::decrypt_request`].
    ///
    /// # Errors
    /// As [`KmsKey::decrypt_request`]. (A plaintext that is not the envelope's key is caught when
    /// opening: [`Error::WrongKey`].)
    pub fn from_decrypted(envelope: &Envelope, object: &ObjectId<'_>, plaintext: KmsDataKey) -> Result<Self> {
        let request = Self::decrypt_request(envelope, object)?;
        Self::recovered(
            request.key_id,
            plaintext,
            request.ciphertext_blob,
            request.context,
            envelope.bucket_key(),
        )
    }

    /// The whole round trip with a blocking client. Nothing is sent to the KMS unless the envelope
    /// names `object` ([`KmsKey::decrypt_request`]).
    ///
    /// # Errors
    /// [`Error::Kms`] with the KMS's error; as [`KmsKey::from_decrypted`].
    pub fn for_envelope(kms: &impl Kms, envelope: &Envelope, object: &ObjectId<'_>) -> Result<Self> {
        let plaintext = kms.decrypt(&Self::decrypt_request(envelope, object)?)?;
        Self::from_decrypted(envelope, object, plaintext)
    }

    /// The whole round trip with an async client.
    ///
    /// # Errors
    /// As [`KmsKey::for_envelope`].
    pub async fn for_envelope_async(
        kms: &impl AsyncKms,
        envelope: &Envelope,
        object: &ObjectId<'_>,
    ) -> Result<Self> {
        let plaintext = kms.decrypt(&Self::decrypt_request(envelope, object)?).await?;
        Self::from_decrypted(envelope, object, plaintext)
    }

    /// The ReEncrypt request that moves this key's blob to `to` (another KMS key, or the same key
    /// after a rotation) for `object`, without the plaintext leaving the KMS.
    ///
    /// The source is this key's own blob and context: a key recovered with
    /// [`KmsKey::for_envelope`] carries the stored context only after it was checked to name the
    /// source object, so a ReEncrypt never asks the KMS about another object's blob either.
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

    /// A key recovered for a stored envelope (not proven until the envelope opens).
    pub(crate) fn recovered(
        key_id: String,
        plaintext: KmsDataKey,
        blob: Vec<u8>,
        context: EncryptionContext,
        bucket_key: bool,
    ) -> Result<Self> {
        let requested = key_id.clone();
        let mut key = Self::new(&requested, key_id, plaintext, blob, context, bucket_key)?;
        key.origin = Origin::Envelope;
        Ok(key)
    }

    /// The wrapping key, if `envelope` names this KMS key.
    pub(crate) fn opening_key_for(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        if envelope.key_id() != self.key_id {
            return Err(Error::UnknownKey {
                key_id: envelope.key_id().to_owned(),
                version: envelope.key_version(),
            });
        }
        Ok(self.wrapping_key())
    }

    pub(crate) fn wrapping_key(&self) -> WrappingKey<'_> {
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
        self.opening_key_for(envelope)
    }
}

/// What selects a bucket key for reading: every field of the envelope that picks the key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ReadSlot {
    key_id: String,
    blob: Vec<u8>,
    context: String,
}

/// What selects a bucket key for writing: the key id asked for and the bucket's context.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct WriteSlot {
    requested: String,
    context: String,
}

#[derive(Debug)]
struct Entry {
    key: Arc<KmsKey>,
    born: Instant,
    seq: u64,
    write: WriteSlot,
}

/// A bounded-lifetime cache of bucket keys, for the embedder to keep beside its KMS client.
///
/// Sans-I/O like the rest of the crate: it reads no clock; every call takes `now`. Entries expire
/// `ttl` after they were inserted. Writers look keys up by the KMS key id they ask for and the
/// bucket's context, readers by every envelope field that selects the key (key id, blob, context,
/// bucket-key flag), so one GenerateDataKey (and, in another process, one Decrypt) serves every
/// object of a bucket for `ttl`. Lookups and inserts are hash-map operations.
///
/// Only keys that are known to be right are cached: keys the KMS generated ([`BucketKeyCache::insert`])
/// and keys recovered for an envelope that then opened ([`BucketKeyCache::open`]). A forged
/// envelope can therefore never leave a key in the cache that makes genuine objects fail.
#[derive(Debug)]
pub struct BucketKeyCache {
    ttl: Duration,
    max_entries: usize,
    reads: HashMap<ReadSlot, Entry>,
    writes: HashMap<WriteSlot, ReadSlot>,
    /// Insertion order (equal to expiry order: one TTL for all), with the entry's sequence number so
    /// that a slot re-inserted later is not evicted by its older record.
    order: VecDeque<(u64, ReadSlot)>,
    seq: u64,
}

impl BucketKeyCache {
    /// A cache whose entries live for `ttl`, holding at most `max_entries` keys.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            reads: HashMap::new(),
            writes: HashMap::new(),
            order: VecDeque::new(),
            seq: 0,
        }
    }

    /// Number of keys held (expired ones included until the next insert drops them).
    pub fn len(&self) -> usize {
        self.reads.len()
    }

    /// Whether the cache holds no key.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }

    fn live(&self, slot: &ReadSlot, now: Instant) -> Option<&Arc<KmsKey>> {
        let entry = self.reads.get(slot)?;
        (now.saturating_duration_since(entry.born) < self.ttl).then_some(&entry.key)
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
        if !sse.bucket_key {
            return Ok(None);
        }
        // By the id the writer asks for: AWS answers an alias with the key's ARN.
        let slot =
            WriteSlot { requested: sse.key_id.clone(), context: sse.context_for(object)?.canonical_json() };
        Ok(self.writes.get(&slot).and_then(|read| self.live(read, now)).cloned())
    }

    /// A live bucket key that opens `envelope`, stored as `object`: the envelope must be a
    /// bucket-key envelope whose context names `object`'s bucket, and the key must match its key
    /// id, blob and context exactly.
    pub fn for_read(&self, envelope: &Envelope, object: &ObjectId<'_>, now: Instant) -> Option<Arc<KmsKey>> {
        if !envelope.bucket_key() {
            return None;
        }
        let (blob, context) = stored_binding(envelope, object).ok()?;
        let slot = ReadSlot {
            key_id: envelope.key_id().to_owned(),
            blob: blob.to_vec(),
            context: context.canonical_json(),
        };
        self.live(&slot, now).cloned()
    }

    /// Caches a bucket key the KMS generated ([`SseKms::generate_key`], [`KmsKey::re_encrypted`]).
    /// Per-object keys, and keys recovered for a stored envelope (cache those with
    /// [`BucketKeyCache::open`], which proves them first), are returned uncached.
    pub fn insert(&mut self, key: KmsKey, now: Instant) -> Arc<KmsKey> {
        let key = Arc::new(key);
        if key.origin == Origin::Kms {
            self.store(Arc::clone(&key), now);
        }
        key
    }

    /// Opens `envelope` (stored as `object`) with `key`, a key recovered for it
    /// ([`KmsKey::for_envelope`]), and caches the key only if the open succeeded.
    ///
    /// # Errors
    /// As [`Envelope::open`].
    pub fn open(
        &mut self,
        key: KmsKey,
        envelope: &Envelope,
        object: &ObjectId<'_>,
        now: Instant,
    ) -> Result<(ObjectKey, Arc<KmsKey>)> {
        let opened = envelope.open(&key, object)?;
        let key = Arc::new(key);
        self.store(Arc::clone(&key), now);
        Ok((opened, key))
    }

    fn store(&mut self, key: Arc<KmsKey>, now: Instant) {
        if !key.bucket_key || self.max_entries == 0 {
            return;
        }
        let read = ReadSlot {
            key_id: key.key_id.clone(),
            blob: key.blob.clone(),
            context: key.context.canonical_json(),
        };
        self.remove(&read);
        // Expired entries, then the oldest while full; records of re-inserted slots are skipped.
        while let Some((seq, slot)) = self.order.front() {
            let current = self.reads.get(slot).filter(|e| e.seq == *seq);
            let drop = current.is_some_and(|e| {
                now.saturating_duration_since(e.born) >= self.ttl || self.reads.len() >= self.max_entries
            });
            if current.is_some() && !drop {
                break;
            }
            if let Some((_, slot)) = self.order.pop_front() {
                if drop {
                    self.remove(&slot);
                }
            }
        }
        let write = WriteSlot { requested: key.requested.clone(), context: key.context.canonical_json() };
        self.seq += 1;
        self.order.push_back((self.seq, read.clone()));
        self.writes.insert(write.clone(), read.clone());
        self.reads.insert(read, Entry { key, born: now, seq: self.seq, write });
    }

    fn remove(&mut self, slot: &ReadSlot) {
        if let Some(entry) = self.reads.remove(slot) {
            if self.writes.get(&entry.write) == Some(slot) {
                self.writes.remove(&entry.write);
            }
        }
    }
}
