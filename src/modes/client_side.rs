//! Client-side encryption: the S3 client seals the object before it leaves the process, under a
//! wrapping key the store never sees.
//!
//! Two kinds of client key, both [`Encryptor`]s for scheme [`Scheme::ClientSide`]:
//!
//! - [`ClientKeyring`]: named, versioned raw AES-256 keys, one active (like the SSE-S3
//!   [`crate::Keyring`]), each registered with a *material description* (string pairs, as in AWS's
//!   S3 Encryption Client). The description is recorded in the envelope and authenticated by the key
//!   wrap; on open the key is selected by id and version, and the stored description must equal
//!   the registered one before anything is unwrapped.
//! - [`ClientKmsKey`]: a data key from the client's KMS through the sans-I/O [`crate::Kms`]
//!   requests, bound to an encryption context the *client* chooses ([`ClientKms`]); there is no
//!   `aws:s3:arn` default and reserved `aws:` keys are refused. On read the caller states the KMS
//!   key and the context it expects (a [`ClientKms`], as for writing): the stored context must
//!   equal it before a [`DecryptRequest`] is built, and the request names the caller's key, not
//!   the one the envelope records, so the KMS refuses a blob of any other key.
//!
//! Either way the key wrap stays bound to the object's bucket and key ([`ObjectId`]), so a body and
//! envelope copied to another name do not open there: a copy or rename re-seals the envelope.

use crate::envelope::{Envelope, ObjectId, Scheme, valid_key_id};
use crate::error::{Error, Result};
use crate::keys::RootKey;
use crate::kms::{
    AsyncKms, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms,
    KmsDataKey,
};
use crate::modes::sse_kms::KmsKey;
use crate::modes::sse_s3::{Keyring, unknown};
use crate::wrap::{Encryptor, WrappingKey};
use rand_core::TryCryptoRng;

/// A client key's material description: string pairs recorded (and authenticated) in every envelope
/// sealed under the key, as AWS's S3 Encryption Client records `x-amz-matdesc`. The same canonical
/// type as a KMS context: keys sorted and unique, one JSON text, reserved `aws:` keys refused.
pub type MaterialDescription = EncryptionContext;

/// Why a client-side operation was refused (besides authentication failures, which stay opaque).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientSideError {
    /// A client-side body received more or fewer plaintext bytes than were declared when its
    /// envelope was sealed (the envelope, sent before the body, records the declared length).
    #[error("declared {declared} plaintext bytes, received {received}")]
    LengthMismatch {
        /// The length declared to [`crate::ClientSealer::new`].
        declared: u64,
        /// The bytes received so far (at least this many, for an excess).
        received: u64,
    },
    /// The stored object's chunk size is not the one the GET was planned with: plan again with
    /// `stored` (one more request). No plaintext was released.
    #[error("object has chunk size {stored} bytes, the read was planned for {assumed}")]
    ChunkSizeMismatch {
        /// The chunk size the plan assumed, in bytes.
        assumed: usize,
        /// The chunk size the envelope records, in bytes.
        stored: usize,
    },
    /// The stored KMS context is not the one the caller expects: nothing was sent to the KMS.
    #[error("the object's KMS encryption context is not the expected one")]
    ContextMismatch,
    /// A `Content-Range` response header that is malformed, or that does not cover what the GET
    /// asked for (or what the object holds).
    #[error("Content-Range does not match the request or the object")]
    ContentRange,
    /// An envelope sealed before its body cannot hold the body's MD5 or checksum, which are known
    /// only at the end: [`crate::SealOptions::md5`] and [`crate::SealOptions::checksum`] must be off.
    #[error("an envelope sealed before the body cannot carry an MD5 or checksum")]
    SealedAttributes,
    /// A copy by parts ([`crate::CopyByPartsPlan`]) with a part size outside S3's 5 MiB to 5 GiB,
    /// or one that would need more than 10,000 parts, or of an empty object (use CopyObject).
    #[error("a copy of {stored_len} bytes cannot be made in parts of {part_size} bytes")]
    CopyPartSize {
        /// The stored length of the object to copy.
        stored_len: u64,
        /// The part size asked for.
        part_size: u64,
    },
    /// A source ETag to pin a copy to (`x-amz-copy-source-if-match`) that is empty, longer than
    /// 1,024 bytes, or holds anything but visible ASCII: it could not be sent as a header.
    #[error("the source ETag cannot be sent as a header")]
    InvalidETag,
}

/// Client-side raw wrapping keys: named, versioned 256-bit keys, one of them active, each with its
/// material description.
///
/// New objects are sealed under the active key; objects sealed under any key still in the ring
/// open, provided the envelope's material description is the one the key was registered with.
/// Keys never print: `Debug` shows ids, versions and descriptions only.
///
/// ```
/// use s3crypt::{ClientKeyring, ClientSealer, EncryptionContext, ObjectId, OsRng, RootKey, SealOptions};
///
/// let mut description = EncryptionContext::new();
/// description.insert("purpose", "backups")?;
/// let ring = ClientKeyring::new("client-1", 1, RootKey::generate(&mut OsRng)?, description)?;
/// let object = ObjectId::new("bucket", "report.csv");
///
/// let (mut sealer, envelope) = ClientSealer::new(SealOptions::default(), 5, &ring, &object, &mut OsRng)?;
/// let mut body = Vec::new();
/// sealer.update(b"hello", &mut body)?;
/// sealer.finish(&mut body)?;
/// assert_eq!(body.len() as u64, envelope.body_len()?);
///
/// let key = envelope.open(&ring, &object)?;
/// let (mut opener, mut plain) = (key.opener(), Vec::new());
/// opener.update(&body, &mut plain)?;
/// opener.finish(&mut plain)?;
/// assert_eq!(plain, b"hello");
/// # Ok::<(), s3crypt::Error>(())
/// ```
pub struct ClientKeyring {
    ring: Keyring,
    /// Aligned with the ring's keys, which are only ever appended.
    descriptions: Vec<MaterialDescription>,
}

impl core::fmt::Debug for ClientKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let keys: Vec<(&str, u32, &MaterialDescription)> = (0..self.descriptions.len())
            .filter_map(|i| Some((self.ring.key_at(i)?, &self.descriptions[i])))
            .map(|((_, id, version), d)| (id, version, d))
            .collect();
        f.debug_struct("ClientKeyring").field("keys", &keys).field("active", &self.ring.active()).finish()
    }
}

/// Refuses descriptions or contexts with reserved `aws:` keys (the public constructors of
/// [`EncryptionContext`] cannot make one; this keeps the rule local).
fn check_unreserved(pairs: &EncryptionContext) -> Result<()> {
    if pairs.has_reserved_key() {
        return Err(Error::Sse(crate::SseError::ReservedContextKey));
    }
    Ok(())
}

impl ClientKeyring {
    /// A keyring holding one key, which is active, registered with `description`.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] unless `id` is 1 to 255 printable ASCII characters;
    /// [`crate::SseError::ReservedContextKey`] if the description has an `aws:` key.
    pub fn new(id: &str, version: u32, key: RootKey, description: MaterialDescription) -> Result<Self> {
        check_unreserved(&description)?;
        Ok(Self { ring: Keyring::new(id, version, key)?, descriptions: vec![description] })
    }

    /// Adds a key with its description (not active until [`ClientKeyring::activate`]).
    ///
    /// # Errors
    /// As [`ClientKeyring::new`]; [`Error::DuplicateKey`] if the id and version are present.
    pub fn add(
        &mut self,
        id: &str,
        version: u32,
        key: RootKey,
        description: MaterialDescription,
    ) -> Result<()> {
        check_unreserved(&description)?;
        self.ring.add(id, version, key)?;
        self.descriptions.push(description);
        Ok(())
    }

    /// Makes a key in the ring the one new objects are sealed under.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the ring has no such key.
    pub fn activate(&mut self, id: &str, version: u32) -> Result<()> {
        self.ring.activate(id, version)
    }

    /// The active key's id and version.
    pub fn active(&self) -> (&str, u32) {
        self.ring.active()
    }

    /// The material description a key was registered with.
    pub fn description(&self, id: &str, version: u32) -> Option<&MaterialDescription> {
        self.ring.find(id, version).and_then(|i| self.descriptions.get(i))
    }

    fn key(&self, index: usize, id: &str, version: u32) -> Result<WrappingKey<'_>> {
        let ((secret, id, version), description) =
            self.ring.key_at(index).zip(self.descriptions.get(index)).ok_or_else(|| unknown(id, version))?;
        Ok(WrappingKey::with_description(secret, id, version, description))
    }

    /// Re-seals `envelope` of `object` under the active key (a key rotation). The body is untouched.
    ///
    /// # Errors
    /// Any error of [`Envelope::open`].
    pub fn rotate<R: TryCryptoRng + ?Sized>(
        &self,
        envelope: &Envelope,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<Envelope> {
        envelope.reseal((self, object), (self, object), rng)
    }
}

impl Encryptor for ClientKeyring {
    fn scheme(&self) -> Scheme {
        Scheme::ClientSide
    }

    fn sealing_key(&self) -> Result<WrappingKey<'_>> {
        let (id, version) = self.ring.active();
        self.key(self.ring.active_index(), id, version)
    }

    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        let (id, version) = (envelope.key_id(), envelope.key_version());
        let index = self.ring.find(id, version).ok_or_else(|| unknown(id, version))?;
        // The stored description is compared with this key's registered one before unwrapping
        // (in the key wrap, which compares every key-selecting field of the envelope).
        self.key(index, id, version)
    }
}

/// The client-side KMS settings of a write: which KMS key, and the encryption context the client
/// binds the data key to (no `aws:s3:arn` is added: the client, not S3, names the object).
///
/// It builds the [`GenerateDataKeyRequest`]; the response makes a [`ClientKmsKey`].
///
/// ```
/// use s3crypt::{ClientKms, ClientKmsKey, ClientSealer, EncryptionContext, LocalKms, ObjectId, OsRng, RootKey, SealOptions};
///
/// let mut kms = LocalKms::new(OsRng);
/// kms.create_key("alias/backups", RootKey::generate(&mut OsRng)?)?;
/// let mut context = EncryptionContext::new();
/// context.insert("tenant", "t1")?;
/// let settings = ClientKms::new("alias/backups", context)?;
/// let key = settings.generate_key(&kms)?;
///
/// let object = ObjectId::new("bucket", "key");
/// let (_, envelope) = ClientSealer::new(SealOptions::default(), 0, &key, &object, &mut OsRng)?;
/// // Reading: the caller states the KMS key and the context it expects (the same settings);
/// // nothing else is sent to the KMS.
/// let key = ClientKmsKey::for_envelope(&kms, &envelope, &settings)?;
/// assert_eq!(envelope.open(&key, &object)?.plaintext_len(), 0);
/// # Ok::<(), s3crypt::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKms {
    key_id: String,
    context: EncryptionContext,
}

impl ClientKms {
    /// Client-side KMS wrapping under `key_id` (a KMS key id, alias or ARN), bound to `context`.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] unless `key_id` is 1 to 255 printable ASCII characters;
    /// [`crate::SseError::ReservedContextKey`] for a context key starting with `aws:` (any case).
    pub fn new(key_id: &str, context: EncryptionContext) -> Result<Self> {
        if !valid_key_id(key_id) {
            return Err(Error::InvalidKeyId);
        }
        check_unreserved(&context)?;
        Ok(Self { key_id: key_id.to_owned(), context })
    }

    /// The KMS key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The encryption context.
    pub fn context(&self) -> &EncryptionContext {
        &self.context
    }

    /// The GenerateDataKey request to send: the key id and exactly the client's context.
    pub fn generate_data_key_request(&self) -> GenerateDataKeyRequest {
        GenerateDataKeyRequest { key_id: self.key_id.clone(), context: self.context.clone() }
    }

    /// Turns the KMS's answer to `request` into the key that seals objects.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] for a malformed key id in the response; [`Error::Kms`] for an empty
    /// or oversized blob.
    pub fn key_from_response(
        &self,
        request: &GenerateDataKeyRequest,
        response: GenerateDataKeyResponse,
    ) -> Result<ClientKmsKey> {
        check_unreserved(&request.context)?;
        let key = KmsKey::new(
            &request.key_id,
            response.key_id,
            response.plaintext,
            response.ciphertext_blob,
            request.context.clone(),
            false,
        )?;
        Ok(ClientKmsKey(key))
    }

    /// The whole round trip with a blocking client.
    ///
    /// # Errors
    /// [`Error::Kms`] with the KMS's error; as [`ClientKms::key_from_response`].
    pub fn generate_key(&self, kms: &impl Kms) -> Result<ClientKmsKey> {
        let request = self.generate_data_key_request();
        let response = kms.generate_data_key(&request)?;
        self.key_from_response(&request, response)
    }

    /// The whole round trip with an async client.
    ///
    /// # Errors
    /// As [`ClientKms::generate_key`].
    pub async fn generate_key_async(&self, kms: &impl AsyncKms) -> Result<ClientKmsKey> {
        let request = self.generate_data_key_request();
        let response = kms.generate_data_key(&request).await?;
        self.key_from_response(&request, response)
    }
}

/// A client-side KMS wrapping key: the plaintext data key the client's KMS returned, with the key
/// id, blob and client-chosen context the envelope records. It is the [`Encryptor`] for
/// client-side objects wrapped by a KMS. One key may seal many objects (the wrap derives a fresh
/// key-encryption key per object).
///
/// Get one for new objects from [`ClientKms::generate_key`], and for a stored object from
/// [`ClientKmsKey::for_envelope`] with the [`ClientKms`] settings (KMS key and context) the caller
/// expects.
pub struct ClientKmsKey(KmsKey);

impl core::fmt::Debug for ClientKmsKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientKmsKey")
            .field("key_id", &self.0.key_id())
            .field("context", self.0.context())
            .finish_non_exhaustive()
    }
}

impl ClientKmsKey {
    /// The KMS key id (as the KMS named it).
    pub fn key_id(&self) -> &str {
        self.0.key_id()
    }

    /// The encryption context bound to the blob.
    pub fn context(&self) -> &EncryptionContext {
        self.0.context()
    }

    /// The KMS ciphertext blob.
    pub fn blob(&self) -> &[u8] {
        self.0.blob()
    }

    /// The Decrypt request that recovers the wrapping key of `envelope`: its blob and stored
    /// context, sent to the KMS key the *caller* names — once the stored context is checked to
    /// equal `expected`'s, the context the caller knows the object must have.
    ///
    /// Everything that selects the key is the reader's, not storage's: the request carries
    /// `expected.key_id()`, not the key id the envelope records, so the KMS refuses a blob made
    /// under any other KMS key (AWS KMS fails `Decrypt` with `IncorrectKeyException` when the
    /// `KeyId` given is not the blob's key). An object planted by someone who can write to the
    /// bucket, wrapped under a key of theirs that the reader may also use, with the expected
    /// context, therefore does not open; and a stored object whose context was swapped for another
    /// one is refused here, before the KMS is asked anything (the confused-deputy rule,
    /// `docs/DESIGN.md` §4.1 and §13).
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless the envelope is a client-side KMS envelope;
    /// [`ClientSideError::ContextMismatch`] if its context is not `expected`'s.
    pub fn decrypt_request(envelope: &Envelope, expected: &ClientKms) -> Result<DecryptRequest> {
        let (Scheme::ClientSide, Some(blob), Some(context)) =
            (envelope.scheme(), envelope.kms_blob(), envelope.kms_context())
        else {
            return Err(Error::SchemeMismatch { envelope: envelope.scheme(), presented: Scheme::ClientSide });
        };
        if context != expected.context() {
            return Err(ClientSideError::ContextMismatch.into());
        }
        Ok(DecryptRequest {
            key_id: expected.key_id().to_owned(),
            ciphertext_blob: blob.to_vec(),
            context: context.clone(),
        })
    }

    /// The key of `envelope`, from the KMS's answer to [`ClientKmsKey::decrypt_request`].
    ///
    /// # Errors
    /// As [`ClientKmsKey::decrypt_request`]; [`Error::InvalidKeyId`] for a malformed key id in the
    /// envelope. (A plaintext that is not the envelope's key is caught when opening:
    /// [`Error::WrongKey`].)
    pub fn from_decrypted(envelope: &Envelope, expected: &ClientKms, plaintext: KmsDataKey) -> Result<Self> {
        let request = Self::decrypt_request(envelope, expected)?;
        // The key id the envelope records (as the KMS named the key when generating, e.g. its ARN
        // where the caller names an alias): the key wrap binds it.
        let key = KmsKey::recovered(
            envelope.key_id().to_owned(),
            plaintext,
            request.ciphertext_blob,
            request.context,
            false,
        )?;
        Ok(Self(key))
    }

    /// The whole round trip with a blocking client. Nothing is sent to the KMS unless the stored
    /// context is `expected`'s, and the request names `expected`'s key.
    ///
    /// # Errors
    /// [`Error::Kms`] with the KMS's error (also for a blob of another KMS key); as
    /// [`ClientKmsKey::from_decrypted`].
    pub fn for_envelope(kms: &impl Kms, envelope: &Envelope, expected: &ClientKms) -> Result<Self> {
        let plaintext = kms.decrypt(&Self::decrypt_request(envelope, expected)?)?;
        Self::from_decrypted(envelope, expected, plaintext)
    }

    /// The whole round trip with an async client.
    ///
    /// # Errors
    /// As [`ClientKmsKey::for_envelope`].
    pub async fn for_envelope_async(
        kms: &impl AsyncKms,
        envelope: &Envelope,
        expected: &ClientKms,
    ) -> Result<Self> {
        let plaintext = kms.decrypt(&Self::decrypt_request(envelope, expected)?).await?;
        Self::from_decrypted(envelope, expected, plaintext)
    }
}

impl Encryptor for ClientKmsKey {
    fn scheme(&self) -> Scheme {
        Scheme::ClientSide
    }

    fn sealing_key(&self) -> Result<WrappingKey<'_>> {
        Ok(self.0.wrapping_key())
    }

    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        self.0.opening_key_for(envelope)
    }
}
