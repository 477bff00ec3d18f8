//! The envelope: everything stored beside an object's body that is needed to open it again.
//!
//! One versioned value for every scheme, with two strict encodings of it: an S3 user-metadata map
//! ([`Envelope::to_metadata`]) and a compact binary header ([`Envelope::to_binary`]). Both decode to
//! the same [`Envelope`], and the key wrap authenticates the canonical binary form, so it makes no
//! difference which encoding a gateway stores. `docs/FORMAT.md` §2 is the byte-level specification.

mod binary;
mod metadata;

pub use metadata::METADATA_PREFIX;

use crate::error::Result;
use crate::stream::{ChunkSize, HEADER_LEN};
use core::fmt;

/// Envelope format version written by this crate.
pub const ENVELOPE_VERSION: u8 = 1;

/// The most characters of an input that a [`FormatError`] repeats back: errors are logged and
/// returned to clients, so none carries an unbounded piece of what an attacker stored.
pub const ECHO_MAX: usize = 64;

/// At most [`ECHO_MAX`] characters of `input`, for an error message; control characters (CR, LF,
/// NEL, ESC, …), Unicode's line and paragraph separators and its bidirectional controls become
/// U+FFFD, so stored bytes cannot forge log lines, terminal sequences or reorder what a log shows.
pub(crate) fn echo(input: &str) -> String {
    let shown = |c: char| {
        let hidden = c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if hidden { '\u{fffd}' } else { c }
    };
    input.chars().take(ECHO_MAX).map(shown).collect()
}

/// Length of the per-seal salt from which the key-encryption key is derived.
pub(crate) const SALT_LEN: usize = 32;
/// Length of the key check (the commitment to the wrapping key).
pub(crate) const CHECK_LEN: usize = 32;
/// Shortest wrapped key: a 32-byte data key and a 16-byte tag.
pub(crate) const WRAPPED_MIN: usize = 48;
/// Longest wrapped key: room for 255 bytes of sealed metadata.
pub(crate) const WRAPPED_MAX: usize = WRAPPED_MIN + 255;
/// Longest key id.
pub(crate) const KEY_ID_MAX: usize = 255;
/// Longest KMS ciphertext blob (AWS KMS returns about 184 bytes for a 256-bit data key).
pub(crate) const KMS_BLOB_MAX: usize = 512;

/// How an object's data key is protected: the S3 encryption mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// SSE-S3: sealed under a root key the gateway holds.
    SseS3,
    /// SSE-C: sealed under a key the client sends with every request; never stored.
    SseC,
    /// SSE-KMS: sealed under a data key from a key-management service.
    SseKms,
    /// Client-side encryption: sealed by the S3 client before upload, under a key the client holds
    /// ([`crate::ClientKeyring`] or [`crate::ClientKmsKey`]); the store sees only ciphertext.
    ClientSide,
}

impl Scheme {
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::SseS3 => 1,
            Self::SseC => 2,
            Self::SseKms => 3,
            Self::ClientSide => 4,
        }
    }

    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::SseS3),
            2 => Some(Self::SseC),
            3 => Some(Self::SseKms),
            4 => Some(Self::ClientSide),
            _ => None,
        }
    }

    pub(crate) const fn token(self) -> &'static str {
        match self {
            Self::SseS3 => "sse-s3",
            Self::SseC => "sse-c",
            Self::SseKms => "sse-kms",
            Self::ClientSide => "client-side",
        }
    }

    pub(crate) fn from_token(token: &str) -> Option<Self> {
        [Self::SseS3, Self::SseC, Self::SseKms, Self::ClientSide].into_iter().find(|s| s.token() == token)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SseS3 => "SSE-S3",
            Self::SseC => "SSE-C",
            Self::SseKms => "SSE-KMS",
            Self::ClientSide => "client-side encryption",
        })
    }
}

/// The body's cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Suite {
    /// C2SP chunked encryption with AES-256-GCM and HKDF-SHA-512 (`docs/FORMAT.md` §1).
    #[default]
    Aes256GcmChunked,
}

impl Suite {
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::Aes256GcmChunked => 1,
        }
    }
    pub(crate) const fn token(self) -> &'static str {
        match self {
            Self::Aes256GcmChunked => "aes-256-gcm-chunked",
        }
    }
    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Aes256GcmChunked),
            _ => None,
        }
    }
    pub(crate) fn from_token(token: &str) -> Option<Self> {
        (token == Self::Aes256GcmChunked.token()).then_some(Self::Aes256GcmChunked)
    }
}

/// How the data key is wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WrapAlgorithm {
    /// HKDF-SHA-512 from the wrapping key and a fresh 32-byte salt to a single-use AES-256-GCM key
    /// and a 32-byte key check (`docs/FORMAT.md` §3).
    #[default]
    HkdfSha512Aes256Gcm,
}

impl WrapAlgorithm {
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::HkdfSha512Aes256Gcm => 1,
        }
    }
    pub(crate) const fn token(self) -> &'static str {
        match self {
            Self::HkdfSha512Aes256Gcm => "hkdf-sha512-aes-256-gcm",
        }
    }
    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::HkdfSha512Aes256Gcm),
            _ => None,
        }
    }
    pub(crate) fn from_token(token: &str) -> Option<Self> {
        (token == Self::HkdfSha512Aes256Gcm.token()).then_some(Self::HkdfSha512Aes256Gcm)
    }
}

/// A field of the envelope, as named in errors. Binary tags and map names are in `docs/FORMAT.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The format version.
    Version,
    /// The scheme.
    Scheme,
    /// The body's cipher suite.
    Suite,
    /// The body's chunk size.
    ChunkSize,
    /// The plaintext length.
    Length,
    /// The wrapping algorithm.
    Wrap,
    /// The wrapping key's id.
    KeyId,
    /// The wrapping key's version.
    KeyVersion,
    /// The key-wrap salt.
    Salt,
    /// The key check.
    KeyCheck,
    /// The wrapped data key.
    WrappedKey,
    /// The KMS ciphertext blob of the wrapping key (SSE-KMS).
    KmsBlob,
    /// The KMS encryption context, canonical JSON (SSE-KMS).
    KmsContext,
    /// The wrapping key is an S3 Bucket Key (SSE-KMS).
    BucketKey,
    /// The envelope is a multipart upload's state, not an object's (`docs/FORMAT.md` §5.1).
    Upload,
    /// A multipart object's number of parts.
    Parts,
    /// A multipart object's part-list digest.
    PartsDigest,
    /// The material description of a client-side raw wrapping key, canonical JSON (client-side).
    Description,
    /// The body stream's 56-byte header (salt ‖ commitment), so that one ranged GET suffices
    /// (client-side single-part objects).
    BodyHeader,
}

impl Field {
    /// Fields in canonical (binary tag) order; `Version` is not a TLV field.
    pub(crate) const TLV: [Self; 18] = [
        Self::Scheme,
        Self::Suite,
        Self::ChunkSize,
        Self::Length,
        Self::Wrap,
        Self::KeyId,
        Self::KeyVersion,
        Self::Salt,
        Self::KeyCheck,
        Self::WrappedKey,
        Self::KmsBlob,
        Self::KmsContext,
        Self::BucketKey,
        Self::Upload,
        Self::Parts,
        Self::PartsDigest,
        Self::Description,
        Self::BodyHeader,
    ];

    /// The binary tag.
    pub(crate) const fn tag(self) -> u8 {
        match self {
            Self::Version => 0,
            Self::Scheme => 1,
            Self::Suite => 2,
            Self::ChunkSize => 3,
            Self::Length => 4,
            Self::Wrap => 5,
            Self::KeyId => 6,
            Self::KeyVersion => 7,
            Self::Salt => 8,
            Self::KeyCheck => 9,
            Self::WrappedKey => 10,
            Self::KmsBlob => 11,
            Self::KmsContext => 12,
            Self::BucketKey => 13,
            Self::Upload => 14,
            Self::Parts => 15,
            Self::PartsDigest => 16,
            Self::Description => 17,
            Self::BodyHeader => 18,
        }
    }

    /// The metadata name, after [`METADATA_PREFIX`].
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::Scheme => "scheme",
            Self::Suite => "suite",
            Self::ChunkSize => "chunk-size",
            Self::Length => "length",
            Self::Wrap => "wrap",
            Self::KeyId => "key-id",
            Self::KeyVersion => "key-version",
            Self::Salt => "salt",
            Self::KeyCheck => "key-check",
            Self::WrappedKey => "wrapped-key",
            Self::KmsBlob => "kms-blob",
            Self::KmsContext => "kms-context",
            Self::BucketKey => "bucket-key",
            Self::Upload => "upload",
            Self::Parts => "parts",
            Self::PartsDigest => "parts-digest",
            Self::Description => "description",
            Self::BodyHeader => "body-header",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an envelope encoding was rejected. Every malformation has a specific, stable answer; none
/// panics, and sizes are checked before anything is allocated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The binary header does not start with the envelope magic.
    #[error("not an s3crypt envelope (bad magic)")]
    BadMagic,
    /// A format version this crate does not know (at most [`ECHO_MAX`] characters of it).
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(String),
    /// A field this version does not define (a binary tag, or a metadata name under the prefix;
    /// at most [`ECHO_MAX`] characters of it).
    #[error("unknown field {0:?}")]
    UnknownField(String),
    /// A field given twice (metadata names compare case-insensitively).
    #[error("duplicate field {0}")]
    DuplicateField(Field),
    /// A required field is absent.
    #[error("missing field {0}")]
    MissingField(Field),
    /// A field that this scheme does not allow.
    #[error("field {0} is not allowed for this scheme")]
    UnexpectedField(Field),
    /// A field whose value is malformed: wrong length, out of range, unknown enumeration value, bad
    /// base64 or decimal.
    #[error("invalid value for {0}")]
    InvalidValue(Field),
    /// A value in a non-canonical encoding (leading zeros, non-canonical base64, fields out of
    /// order): rejected so that every envelope has exactly one encoding.
    #[error("non-canonical encoding of {0}")]
    NonCanonical(Field),
    /// The encoding is longer than any valid envelope (binary) or than S3's 2 KiB user-metadata
    /// budget (map).
    #[error("envelope too large")]
    TooLarge,
    /// The binary header ends in the middle of a field.
    #[error("envelope truncated")]
    Truncated,
}

/// An object's identity, bound into its envelope: the bucket and key as raw bytes.
///
/// They are bound length-prefixed, not joined into a path, so `("a/b", "c")` and `("a", "b/c")`
/// are different objects, and nothing is normalised (`a//b` is not `a/b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjectId<'a> {
    bucket: &'a [u8],
    key: &'a [u8],
}

impl<'a> ObjectId<'a> {
    /// The object `key` in `bucket`.
    pub fn new(bucket: &'a (impl AsRef<[u8]> + ?Sized), key: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        Self { bucket: bucket.as_ref(), key: key.as_ref() }
    }

    /// The bucket name.
    pub fn bucket(&self) -> &'a [u8] {
        self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &'a [u8] {
        self.key
    }

    /// `BE32(len(bucket)) ‖ bucket ‖ BE32(len(key)) ‖ key`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        for part in [self.bucket, self.key] {
            let len = u32::try_from(part.len()).map_err(|_| crate::Error::TooLong)?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part);
        }
        Ok(())
    }
}

/// What is stored beside an encrypted object: the scheme, the body's parameters, the plaintext
/// length and the wrapped data key with everything needed to unwrap it.
///
/// Envelopes are produced by sealing ([`crate::ObjectSealer::finish`], [`Envelope::reseal`]) or by
/// decoding ([`Envelope::from_metadata`], [`Envelope::from_binary`]); their fields are read-only.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    pub(crate) scheme: Scheme,
    pub(crate) suite: Suite,
    pub(crate) chunk_size: ChunkSize,
    pub(crate) plaintext_len: u64,
    pub(crate) wrap: WrapAlgorithm,
    pub(crate) key_id: String,
    pub(crate) key_version: u32,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) key_check: [u8; CHECK_LEN],
    pub(crate) wrapped_key: Vec<u8>,
    pub(crate) kms: Option<KmsFields>,
    pub(crate) layout: Layout,
    /// Client-side, raw wrapping key: the key's material description.
    pub(crate) description: Option<crate::EncryptionContext>,
    /// Client-side, single-part: the body stream's header.
    pub(crate) body_header: Option<[u8; HEADER_LEN]>,
}

/// Whether an envelope is a single-part object's, a multipart upload's state, or a completed
/// multipart object's (`docs/FORMAT.md` §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum Layout {
    /// One stream, part number 0.
    #[default]
    Single,
    /// An upload in progress: the data key of its parts; no body of its own.
    Upload,
    /// A completed multipart object: `count` part streams bound by the part-list digest.
    Parts { count: u32, digest: [u8; PARTS_DIGEST_LEN] },
}

/// The most parts a multipart upload may have (S3's limit).
pub const MAX_PARTS: u32 = 10_000;
/// Length of the part-list digest (SHA-256).
pub(crate) const PARTS_DIGEST_LEN: usize = 32;

/// What an SSE-KMS envelope records to get its wrapping key back from the KMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KmsFields {
    pub(crate) blob: Vec<u8>,
    pub(crate) context: crate::EncryptionContext,
    pub(crate) bucket_key: bool,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("scheme", &self.scheme)
            .field("suite", &self.suite)
            .field("chunk_size", &self.chunk_size)
            .field("plaintext_len", &self.plaintext_len)
            .field("key_id", &self.key_id)
            .field("key_version", &self.key_version)
            .field("kms_context", &self.kms.as_ref().map(|k| &k.context))
            .field("bucket_key", &self.bucket_key())
            .field("layout", &self.layout)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Envelope {
    /// The scheme the data key is sealed under.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// The body's cipher suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }
    /// The body's chunk size.
    pub fn chunk_size(&self) -> ChunkSize {
        self.chunk_size
    }
    /// The plaintext length as the envelope records it — **not yet verified** for an envelope
    /// decoded from storage: it is part of the key wrap's associated data, so it is authenticated
    /// only once the envelope opens. Answer a HEAD with [`crate::ObjectKey::plaintext_len`] (after
    /// [`Envelope::open`]); use this one only where no key is at hand and the stored value may be
    /// trusted as much as the storage is (a listing, say).
    pub fn unverified_plaintext_len(&self) -> u64 {
        self.plaintext_len
    }
    /// The stored length of a single-part object's body, header and tags included, from the
    /// recorded (not yet verified) plaintext length; [`crate::ObjectKey::body_len`] is the
    /// authenticated one. (A multipart body's length is its parts': [`crate::PartTable::stored_len`].)
    ///
    /// # Errors
    /// [`crate::Error::EnvelopeKind`] for a multipart object or an upload state;
    /// [`crate::Error::TooLong`] never, for an envelope that decoded or was sealed.
    pub fn body_len(&self) -> Result<u64> {
        if self.layout != Layout::Single {
            return Err(crate::Error::EnvelopeKind);
        }
        self.chunk_size.ciphertext_len(self.plaintext_len)
    }
    /// The wrapping algorithm.
    pub fn wrap_algorithm(&self) -> WrapAlgorithm {
        self.wrap
    }
    /// The wrapping key's id (a root key name, a KMS key id; empty for SSE-C).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// The wrapping key's version.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }
    /// SSE-KMS: the KMS ciphertext blob of the wrapping key.
    pub fn kms_blob(&self) -> Option<&[u8]> {
        self.kms.as_ref().map(|k| k.blob.as_slice())
    }
    /// SSE-KMS: the encryption context the KMS must be given to decrypt the blob.
    pub fn kms_context(&self) -> Option<&crate::EncryptionContext> {
        self.kms.as_ref().map(|k| &k.context)
    }
    /// SSE-KMS: whether the wrapping key is an S3 Bucket Key.
    pub fn bucket_key(&self) -> bool {
        self.kms.as_ref().is_some_and(|k| k.bucket_key)
    }
    /// Client-side, raw wrapping key: the key's material description (authenticated once the
    /// envelope opens).
    pub fn material_description(&self) -> Option<&crate::EncryptionContext> {
        self.description.as_ref()
    }
    /// Client-side, single-part: the body stream's 56-byte header (salt ‖ key commitment), which a
    /// ranged read needs besides the chunks it fetches — as recorded, **not yet verified** for an
    /// envelope decoded from storage ([`crate::ObjectKey::body_header`] is the authenticated one).
    pub fn body_header(&self) -> Option<&[u8; HEADER_LEN]> {
        self.body_header.as_ref()
    }
    /// Whether this is a multipart upload's state (from [`crate::Upload::create`]) rather than an
    /// object's envelope.
    pub fn is_upload_state(&self) -> bool {
        self.layout == Layout::Upload
    }
    /// A completed multipart object's number of parts; `None` for a single-part object or an
    /// upload state.
    pub fn part_count(&self) -> Option<u32> {
        match self.layout {
            Layout::Parts { count, .. } => Some(count),
            _ => None,
        }
    }

    /// Checks the cross-field rules every decoded envelope must satisfy.
    pub(crate) fn validate(&self) -> Result<(), FormatError> {
        if self.scheme == Scheme::SseC {
            if !self.key_id.is_empty() {
                return Err(FormatError::UnexpectedField(Field::KeyId));
            }
        } else if self.key_id.is_empty() {
            return Err(FormatError::MissingField(Field::KeyId));
        }
        if !self.key_id.is_empty() && !valid_key_id(&self.key_id) {
            return Err(FormatError::InvalidValue(Field::KeyId));
        }
        if self.plaintext_len > self.chunk_size.max_plaintext_len() {
            return Err(FormatError::InvalidValue(Field::Length));
        }
        if !(WRAPPED_MIN..=WRAPPED_MAX).contains(&self.wrapped_key.len()) {
            return Err(FormatError::InvalidValue(Field::WrappedKey));
        }
        match (&self.kms, self.scheme) {
            (None, Scheme::SseKms) => return Err(FormatError::MissingField(Field::KmsBlob)),
            (Some(_), s) if !matches!(s, Scheme::SseKms | Scheme::ClientSide) => {
                return Err(FormatError::UnexpectedField(Field::KmsBlob));
            }
            (Some(k), _) if k.blob.is_empty() || k.blob.len() > KMS_BLOB_MAX => {
                return Err(FormatError::InvalidValue(Field::KmsBlob));
            }
            _ => {}
        }
        // SSE-C keys are unnamed and KMS keys are versioned by the KMS: all record version 0.
        if (matches!(self.scheme, Scheme::SseC | Scheme::SseKms) || self.kms.is_some())
            && self.key_version != 0
        {
            return Err(FormatError::InvalidValue(Field::KeyVersion));
        }
        self.validate_client_side()?;
        match self.layout {
            Layout::Single => {}
            Layout::Upload if self.plaintext_len != 0 => {
                return Err(FormatError::InvalidValue(Field::Length));
            }
            Layout::Upload => {}
            Layout::Parts { count, .. } if count == 0 || count > MAX_PARTS => {
                return Err(FormatError::InvalidValue(Field::Parts));
            }
            Layout::Parts { .. } => {}
        }
        if self.metadata_len() > metadata::METADATA_BUDGET {
            return Err(FormatError::TooLarge);
        }
        Ok(())
    }
}

impl Envelope {
    /// The client-side rules (`docs/FORMAT.md` §8.1): a raw wrapping key records its material
    /// description, a KMS key a client-chosen context with no reserved `aws:` key and no bucket
    /// key; a single-part object records its body header; no other scheme has these fields.
    fn validate_client_side(&self) -> Result<(), FormatError> {
        if self.scheme != Scheme::ClientSide {
            if self.description.is_some() {
                return Err(FormatError::UnexpectedField(Field::Description));
            }
            if self.body_header.is_some() {
                return Err(FormatError::UnexpectedField(Field::BodyHeader));
            }
            return Ok(());
        }
        match (&self.kms, &self.description) {
            (None, None) => return Err(FormatError::MissingField(Field::Description)),
            (Some(_), Some(_)) => return Err(FormatError::UnexpectedField(Field::Description)),
            (Some(k), None) if k.bucket_key => return Err(FormatError::UnexpectedField(Field::BucketKey)),
            (Some(k), None) if k.context.has_reserved_key() => {
                return Err(FormatError::InvalidValue(Field::KmsContext));
            }
            (None, Some(d)) if d.has_reserved_key() => {
                return Err(FormatError::InvalidValue(Field::Description));
            }
            _ => {}
        }
        match (self.layout, self.body_header.is_some()) {
            (Layout::Single, false) => Err(FormatError::MissingField(Field::BodyHeader)),
            (Layout::Upload | Layout::Parts { .. }, true) => {
                Err(FormatError::UnexpectedField(Field::BodyHeader))
            }
            _ => Ok(()),
        }
    }
}

/// Key ids are 1 to 255 printable, non-space ASCII characters: valid as HTTP header values as they
/// are, and unambiguous in logs.
pub(crate) fn valid_key_id(id: &str) -> bool {
    (1..=KEY_ID_MAX).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// An envelope being decoded: each field at most once, then checked for completeness.
#[derive(Default)]
pub(crate) struct Draft {
    scheme: Option<Scheme>,
    suite: Option<Suite>,
    chunk_size: Option<ChunkSize>,
    plaintext_len: Option<u64>,
    wrap: Option<WrapAlgorithm>,
    key_id: Option<String>,
    key_version: Option<u32>,
    salt: Option<[u8; SALT_LEN]>,
    key_check: Option<[u8; CHECK_LEN]>,
    wrapped_key: Option<Vec<u8>>,
    kms_blob: Option<Vec<u8>>,
    kms_context: Option<crate::EncryptionContext>,
    bucket_key: Option<bool>,
    upload: Option<bool>,
    parts: Option<u32>,
    parts_digest: Option<[u8; PARTS_DIGEST_LEN]>,
    description: Option<crate::EncryptionContext>,
    body_header: Option<[u8; HEADER_LEN]>,
}

/// A decoded field value.
pub(crate) enum Value {
    Scheme(Scheme),
    Suite(Suite),
    ChunkSize(ChunkSize),
    Length(u64),
    Wrap(WrapAlgorithm),
    KeyId(String),
    KeyVersion(u32),
    Salt([u8; SALT_LEN]),
    KeyCheck([u8; CHECK_LEN]),
    WrappedKey(Vec<u8>),
    KmsBlob(Vec<u8>),
    KmsContext(crate::EncryptionContext),
    BucketKey(bool),
    Upload(bool),
    Parts(u32),
    PartsDigest([u8; PARTS_DIGEST_LEN]),
    Description(crate::EncryptionContext),
    BodyHeader([u8; HEADER_LEN]),
}

fn put<T>(slot: &mut Option<T>, value: T, field: Field) -> Result<(), FormatError> {
    if slot.is_some() {
        return Err(FormatError::DuplicateField(field));
    }
    *slot = Some(value);
    Ok(())
}

impl Draft {
    pub(crate) fn set(&mut self, field: Field, value: Value) -> Result<(), FormatError> {
        match value {
            Value::Scheme(v) => put(&mut self.scheme, v, field),
            Value::Suite(v) => put(&mut self.suite, v, field),
            Value::ChunkSize(v) => put(&mut self.chunk_size, v, field),
            Value::Length(v) => put(&mut self.plaintext_len, v, field),
            Value::Wrap(v) => put(&mut self.wrap, v, field),
            Value::KeyId(v) => put(&mut self.key_id, v, field),
            Value::KeyVersion(v) => put(&mut self.key_version, v, field),
            Value::Salt(v) => put(&mut self.salt, v, field),
            Value::KeyCheck(v) => put(&mut self.key_check, v, field),
            Value::WrappedKey(v) => put(&mut self.wrapped_key, v, field),
            Value::KmsBlob(v) => put(&mut self.kms_blob, v, field),
            Value::KmsContext(v) => put(&mut self.kms_context, v, field),
            Value::BucketKey(v) => put(&mut self.bucket_key, v, field),
            Value::Upload(v) => put(&mut self.upload, v, field),
            Value::Parts(v) => put(&mut self.parts, v, field),
            Value::PartsDigest(v) => put(&mut self.parts_digest, v, field),
            Value::Description(v) => put(&mut self.description, v, field),
            Value::BodyHeader(v) => put(&mut self.body_header, v, field),
        }
    }

    pub(crate) fn build(self) -> Result<Envelope, FormatError> {
        let envelope = Envelope {
            scheme: self.scheme.ok_or(FormatError::MissingField(Field::Scheme))?,
            suite: self.suite.ok_or(FormatError::MissingField(Field::Suite))?,
            chunk_size: self.chunk_size.ok_or(FormatError::MissingField(Field::ChunkSize))?,
            plaintext_len: self.plaintext_len.ok_or(FormatError::MissingField(Field::Length))?,
            wrap: self.wrap.ok_or(FormatError::MissingField(Field::Wrap))?,
            key_id: self.key_id.unwrap_or_default(),
            key_version: self.key_version.ok_or(FormatError::MissingField(Field::KeyVersion))?,
            salt: self.salt.ok_or(FormatError::MissingField(Field::Salt))?,
            key_check: self.key_check.ok_or(FormatError::MissingField(Field::KeyCheck))?,
            wrapped_key: self.wrapped_key.ok_or(FormatError::MissingField(Field::WrappedKey))?,
            kms: match (self.kms_blob, self.kms_context, self.bucket_key) {
                (None, None, None) => None,
                (Some(blob), Some(context), bucket_key) => {
                    Some(KmsFields { blob, context, bucket_key: bucket_key.unwrap_or(false) })
                }
                (None, _, _) => return Err(FormatError::MissingField(Field::KmsBlob)),
                (Some(_), None, _) => return Err(FormatError::MissingField(Field::KmsContext)),
            },
            layout: match (self.upload, self.parts, self.parts_digest) {
                (None, None, None) => Layout::Single,
                (Some(_), None, None) => Layout::Upload,
                (Some(_), _, _) => return Err(FormatError::UnexpectedField(Field::Parts)),
                (None, Some(count), Some(digest)) => Layout::Parts { count, digest },
                (None, Some(_), None) => return Err(FormatError::MissingField(Field::PartsDigest)),
                (None, None, Some(_)) => return Err(FormatError::MissingField(Field::Parts)),
            },
            description: self.description,
            body_header: self.body_header,
        };
        envelope.validate()?;
        Ok(envelope)
    }
}

/// A stored context (or material description, `field`): canonical JSON, exactly as
/// [`crate::EncryptionContext::canonical_json`] writes it.
pub(crate) fn stored_context(json: &[u8], field: Field) -> Result<crate::EncryptionContext, FormatError> {
    let context = crate::EncryptionContext::from_json(json).map_err(|_| FormatError::InvalidValue(field))?;
    if context.canonical_json().as_bytes() != json {
        return Err(FormatError::NonCanonical(field));
    }
    Ok(context)
}

/// A fixed-length byte field.
pub(crate) fn fixed<const N: usize>(bytes: &[u8], field: Field) -> Result<[u8; N], FormatError> {
    bytes.try_into().map_err(|_| FormatError::InvalidValue(field))
}
