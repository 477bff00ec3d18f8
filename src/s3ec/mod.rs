//! The AWS S3 Encryption Client's formats (S3EC V2 and V3): a second codec beside
//! [`crate::Envelope`], for objects AWS's own clients (Java, Go, Python, .NET, C++) write and read.
//!
//! Reading: [`S3ecEnvelope::from_metadata`] parses the object's user metadata (or asks for the
//! instruction file, [`S3ecEnvelope::from_instruction_file`]); the data key is unwrapped with a raw
//! AES key ([`S3ecEnvelope::unwrap_aes`]) or through the embedder's KMS
//! ([`S3ecEnvelope::kms_decrypt_request`], sans-I/O); [`S3ecEnvelope::opener`] checks the commitment
//! policy and the V3 key commitment and returns an [`S3ecOpener`] for the body. Writing:
//! [`S3ecSealer`]. See `docs/FORMAT.md` §6 and `docs/DESIGN.md` §11.
//!
//! An S3EC body is a single AES-GCM message with one tag at its end, so nothing in it is
//! authenticated before its last byte. By default no plaintext is released before the tag verifies
//! (within a caller-chosen buffer limit); streaming release needs
//! [`S3ecOptions::enable_delayed_authentication`], and ranged reads (AES-CTR, unauthenticated) need
//! [`S3ecOptions::enable_legacy_unauthenticated_modes`].
//!
//! Legacy objects of AWS's v1 clients (V1 and CBC content, the `AESWrap`, V1 `AES` and `kms` wraps)
//! are refused by default and decrypt-only behind AWS's opt-ins,
//! [`S3ecOptions::enable_legacy_unauthenticated_modes`] (CBC content) and
//! [`S3ecOptions::enable_legacy_wrapping_algorithms`] (the wraps): for migrating them to V3, as CBC
//! is unauthenticated.

mod body;
mod instruction;
mod metadata;
mod wrap;

pub use body::{S3ecBufferedBody, S3ecDelayedBody, S3ecOpener, S3ecRange, S3ecSealer};
pub use metadata::{S3ecEnvelope, S3ecMetadata};
#[cfg(feature = "aws-lc")]
pub use wrap::S3ecRsaKey;
pub use wrap::{S3ecAesKey, S3ecDataKey};

/// `AES/CBC/PKCS5Padding`: the `x-amz-cek-alg` of legacy CBC content.
pub(crate) const CBC_CEK_NAME: &str = "AES/CBC/PKCS5Padding";

/// The suffix AWS's clients append to an object's key to name its instruction file.
pub const S3EC_INSTRUCTION_SUFFIX: &str = ".instruction";

/// The largest plaintext one S3EC GCM body can carry: 2^36 − 32 bytes (GCM's limit, ~64 GiB).
pub const S3EC_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// Default for [`S3ecOptions::buffer_limit`]: 64 MiB, as AWS's Java client.
pub const S3EC_DEFAULT_BUFFER_LIMIT: u64 = 64 << 20;

/// An S3EC message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum S3ecFormat {
    /// V1: `x-amz-key`, `x-amz-iv` (16 bytes), `x-amz-matdesc`, `x-amz-unencrypted-content-length`;
    /// content always `AES/CBC/PKCS5Padding` (unauthenticated). Written by AWS's v1 clients in
    /// `EncryptionOnly` mode; read only behind
    /// [`S3ecOptions::enable_legacy_unauthenticated_modes`], never written.
    V1,
    /// V2: `x-amz-key-v2` …, content suite 0x0072 (AES-256-GCM, no key derivation, no commitment).
    V2,
    /// V3: `x-amz-c/3/w/m/t/d/i`, content suite 0x0073 (HKDF-SHA-512 derivation, 28-byte message id
    /// and key commitment). AWS's v4 clients write it by default.
    V3,
}

/// The content (body) algorithm, by AWS's algorithm-suite names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum S3ecContent {
    /// `ALG_AES_256_CBC_IV16_NO_KDF`: `AES/CBC/PKCS5Padding`, 16-byte IV, **no authentication**.
    /// Legacy, decrypt-only, behind [`S3ecOptions::enable_legacy_unauthenticated_modes`].
    AesCbc,
    /// `ALG_AES_256_GCM_IV12_TAG16_NO_KDF` (suite 0x0072, V2): AES-256-GCM under the data key.
    AesGcm,
    /// `ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY` (suite 0x0073, V3): HKDF-SHA-512 derivation and a
    /// key commitment.
    AesGcmCommitting,
}

impl S3ecContent {
    /// AWS's algorithm-suite name.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::AesCbc => "ALG_AES_256_CBC_IV16_NO_KDF",
            Self::AesGcm => "ALG_AES_256_GCM_IV12_TAG16_NO_KDF",
            Self::AesGcmCommitting => "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        }
    }
}

/// How the data key is wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum S3ecWrap {
    /// `AES/GCM` (V3 code `02`): a raw AES-256 key the client holds.
    AesGcm,
    /// `kms+context` (V3 code `12`): a KMS data key bound to an encryption context.
    KmsContext,
    /// `RSA-OAEP-SHA1` (V3 code `22`). Decrypted with the `aws-lc` feature
    /// (`S3ecEnvelope::unwrap_rsa`); without it, every unwrap refuses it with
    /// [`S3ecError::UnsupportedWrap`].
    RsaOaepSha1,
    /// Legacy `kms` (V1/V2 only): a KMS data key whose encryption context is the stored material
    /// description (AWS's v1 clients store `{"kms_cmk_id": <key id>}`), bound to no content
    /// algorithm. Decrypt-only, behind [`S3ecOptions::enable_legacy_wrapping_algorithms`].
    Kms,
    /// Legacy `AESWrap` (V1/V2 only): RFC 3394 AES key wrap under a raw AES-256 key, bound to no
    /// content algorithm. Decrypt-only, behind [`S3ecOptions::enable_legacy_wrapping_algorithms`].
    AesWrap,
    /// Legacy V1 `EncryptionOnly` with a symmetric master key: no `x-amz-wrap-alg`, the data key
    /// encrypted with Java's `AES` cipher (AES-256/ECB/PKCS5Padding, 48 bytes), unauthenticated.
    /// AWS's Java client calls it `AES`. Decrypt-only, behind
    /// [`S3ecOptions::enable_legacy_wrapping_algorithms`].
    AesEcb,
}

impl S3ecWrap {
    /// The V2 `x-amz-wrap-alg` value.
    pub fn v2_name(self) -> &'static str {
        match self {
            Self::AesGcm => "AES/GCM",
            Self::KmsContext => "kms+context",
            Self::RsaOaepSha1 => "RSA-OAEP-SHA1",
            Self::Kms => "kms",
            Self::AesWrap => "AESWrap",
            // Never stored: the absence of x-amz-wrap-alg. "AES" is AWS Java's name for it.
            Self::AesEcb => "AES",
        }
    }

    /// The V3 `x-amz-w` value. The legacy wraps have none (V3 objects never use them): `""`.
    pub fn v3_code(self) -> &'static str {
        match self {
            Self::AesGcm => "02",
            Self::KmsContext => "12",
            Self::RsaOaepSha1 => "22",
            Self::Kms | Self::AesWrap | Self::AesEcb => "",
        }
    }

    /// Whether this is one of the legacy wraps [`S3ecOptions::enable_legacy_wrapping_algorithms`]
    /// gates (`kms`, `AESWrap`, V1 `AES`).
    pub fn is_legacy(self) -> bool {
        matches!(self, Self::Kms | Self::AesWrap | Self::AesEcb)
    }
}

/// AWS's key-commitment policies, by their AWS names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommitmentPolicy {
    /// Write V2 (non-committing); read V2 and V3. For migrations from V2-only readers.
    ForbidEncryptAllowDecrypt,
    /// Write V3; read V2 and V3. For migrations with V2 objects still stored.
    RequireEncryptAllowDecrypt,
    /// Write V3; read V3 only. The default: the only policy that stops a V3 object being rewritten
    /// as a V2 one.
    #[default]
    RequireEncryptRequireDecrypt,
}

impl CommitmentPolicy {
    /// The AWS name (`REQUIRE_ENCRYPT_REQUIRE_DECRYPT` …).
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::ForbidEncryptAllowDecrypt => "FORBID_ENCRYPT_ALLOW_DECRYPT",
            Self::RequireEncryptAllowDecrypt => "REQUIRE_ENCRYPT_ALLOW_DECRYPT",
            Self::RequireEncryptRequireDecrypt => "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
        }
    }

    /// The format this policy writes.
    pub fn encrypt_format(self) -> S3ecFormat {
        match self {
            Self::ForbidEncryptAllowDecrypt => S3ecFormat::V2,
            Self::RequireEncryptAllowDecrypt | Self::RequireEncryptRequireDecrypt => S3ecFormat::V3,
        }
    }

    fn allows_decrypt(self, format: S3ecFormat) -> bool {
        format == S3ecFormat::V3 || self != Self::RequireEncryptRequireDecrypt
    }
}

/// What an S3EC reader or writer accepts: AWS's client options, with AWS's defaults (everything
/// legacy or unauthenticated off, commitment required both ways, 64 MiB buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S3ecOptions {
    commitment_policy: CommitmentPolicy,
    legacy_wrapping_algorithms: bool,
    legacy_unauthenticated_modes: bool,
    delayed_authentication: bool,
    buffer_limit: u64,
}

impl Default for S3ecOptions {
    fn default() -> Self {
        Self {
            commitment_policy: CommitmentPolicy::default(),
            legacy_wrapping_algorithms: false,
            legacy_unauthenticated_modes: false,
            delayed_authentication: false,
            buffer_limit: S3EC_DEFAULT_BUFFER_LIMIT,
        }
    }
}

impl S3ecOptions {
    /// AWS's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The commitment policy (default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`).
    #[must_use]
    pub fn with_commitment_policy(mut self, policy: CommitmentPolicy) -> Self {
        self.commitment_policy = policy;
        self
    }

    /// AWS's `enableLegacyWrappingAlgorithms`: unwrap (decrypt-only) data keys wrapped with the
    /// legacy `kms` ([`S3ecWrap::Kms`]), `AESWrap` ([`S3ecWrap::AesWrap`], RFC 3394) and V1
    /// `EncryptionOnly` `AES` ([`S3ecWrap::AesEcb`]) algorithms. The legacy RSA wraps
    /// (`RSA/ECB/OAEPWithSHA-256AndMGF1Padding`, V1 `RSA`) stay unimplemented: with this set they
    /// fail with [`S3ecError::Unsupported`] instead of [`S3ecError::LegacyWrapRefused`].
    #[must_use]
    pub fn enable_legacy_wrapping_algorithms(mut self, enabled: bool) -> Self {
        self.legacy_wrapping_algorithms = enabled;
        self
    }

    /// AWS's `enableLegacyUnauthenticatedModes`: allow ranged reads (AES-CTR over a GCM body, no
    /// authentication) and decrypt (never write) `AES/CBC/PKCS5Padding` content, V1 objects and V2
    /// ones whose `x-amz-cek-alg` says CBC. CBC is **unauthenticated**: use it only to migrate such
    /// objects to V3 (`docs/DESIGN.md` §11 says what it can and cannot detect).
    #[must_use]
    pub fn enable_legacy_unauthenticated_modes(mut self, enabled: bool) -> Self {
        self.legacy_unauthenticated_modes = enabled;
        self
    }

    /// AWS's `enableDelayedAuthentication`: release plaintext while the body streams in, before the
    /// tag at its end is checked. The caller must then discard everything if
    /// [`S3ecDelayedBody::finish`] fails.
    #[must_use]
    pub fn enable_delayed_authentication(mut self, enabled: bool) -> Self {
        self.delayed_authentication = enabled;
        self
    }

    /// The most plaintext a buffered read holds before its tag is checked (default 64 MiB).
    #[must_use]
    pub fn with_buffer_limit(mut self, bytes: u64) -> Self {
        self.buffer_limit = bytes;
        self
    }

    /// The commitment policy.
    pub fn commitment_policy(&self) -> CommitmentPolicy {
        self.commitment_policy
    }

    /// The buffer limit.
    pub fn buffer_limit(&self) -> u64 {
        self.buffer_limit
    }
}

/// Why an S3EC object or request was refused, short of an authentication failure (those are
/// [`crate::Error::Authentication`]: a wrong key, a commitment mismatch, a bad tag).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum S3ecError {
    /// The metadata carries no S3EC envelope and the object has no instruction file: for a reader
    /// to refuse the object with (see [`S3ecMetadata::InstructionFile`]); s3crypt never treats such
    /// an object as plaintext.
    #[error("no S3 Encryption Client metadata")]
    NotEncrypted,
    /// A mapkey the format requires is missing.
    #[error("S3EC metadata lacks {0}")]
    MissingKey(&'static str),
    /// A mapkey's value is malformed (bad base64, wrong length, an all-zero IV or message id, bad JSON).
    #[error("S3EC metadata has an invalid {0}")]
    InvalidValue(&'static str),
    /// A mapkey appears twice (in two spellings, or in both the object metadata and the instruction
    /// file).
    #[error("S3EC metadata has {0} twice")]
    DuplicateKey(&'static str),
    /// Keys of two formats together (V3 keys injected into a V2 object, or the reverse): never
    /// written by an honest client.
    #[error("S3EC metadata mixes keys of several format versions")]
    MixedFormats,
    /// V1 (`x-amz-key`) or CBC content: legacy and unauthenticated, refused unless
    /// [`S3ecOptions::enable_legacy_unauthenticated_modes`].
    #[error("legacy S3EC content encryption {0} refused (enableLegacyUnauthenticatedModes)")]
    LegacyContentRefused(String),
    /// A legacy wrap (`kms`, `AESWrap`, `RSA/ECB/OAEPWithSHA-256AndMGF1Padding`, none: V1 `AES` or
    /// `RSA`) without
    /// [`S3ecOptions::enable_legacy_wrapping_algorithms`].
    #[error("legacy S3EC wrapping algorithm {0} refused (enableLegacyWrappingAlgorithms)")]
    LegacyWrapRefused(String),
    /// A wrap or content algorithm s3crypt recognises but does not implement (the legacy RSA wraps,
    /// a combination of wrap and content no AWS client wrote, a streaming or ranged CBC read), or
    /// one nobody defines (named by at most [`crate::ECHO_MAX`] characters of the stored value).
    #[error("S3EC algorithm {0} is not supported")]
    Unsupported(String),
    /// The key presented does not match the object's wrap (an AES key for a KMS object …).
    #[error("the object's data key is wrapped with {0}, not with the key presented")]
    UnsupportedWrap(&'static str),
    /// The commitment policy refuses this format (a V2 object under
    /// `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`, or writing a format the policy forbids).
    #[error("commitment policy {0} refuses this S3EC format")]
    CommitmentPolicy(&'static str),
    /// The stored encryption context, minus the reserved `aws:x-amz-cek-alg`, differs from the one
    /// the caller presented, or does not bind the content algorithm.
    #[error("the S3EC encryption context does not match")]
    ContextMismatch,
    /// The instruction file is not a JSON object of S3EC mapkeys, or holds keys that must stay on
    /// the object (`x-amz-c`, `x-amz-d`, `x-amz-i`).
    #[error("invalid S3EC instruction file")]
    InvalidInstructionFile,
    /// A buffered read would hold more than [`S3ecOptions::buffer_limit`] bytes before the tag.
    #[error("object is larger than the buffer limit; enable delayed authentication to stream it")]
    BufferLimit,
    /// A streaming read without [`S3ecOptions::enable_delayed_authentication`], or a ranged read
    /// without [`S3ecOptions::enable_legacy_unauthenticated_modes`].
    #[error("{0} needs an explicit opt-in")]
    OptInRequired(&'static str),
    /// The body's length is not that of the object: shorter than a tag, or not the
    /// `x-amz-unencrypted-content-length` the metadata states.
    #[error("S3EC body has the wrong length")]
    BodyLength,
}
