//! The crate's one error type.

/// Everything that can go wrong in s3crypt.
///
/// Authentication failures are deliberately opaque: a flipped bit, a reordered, spliced, appended or
/// duplicated chunk, a wrong key or a wrong context all surface as [`Error::Authentication`], so a
/// caller cannot be turned into an oracle that tells an attacker which defence caught them. Errors
/// about the *shape* of the input (a length no honest writer produces, an out-of-range parameter) are
/// specific, because they reveal nothing an attacker does not already know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data, or a key commitment, failed to authenticate. Nothing beyond the last authenticated
    /// chunk was released.
    #[error("authentication failed")]
    Authentication,

    /// The ciphertext ended where no honest writer stops: inside the header, inside a chunk, or
    /// without the short final chunk that closes every stream.
    #[error("ciphertext is truncated")]
    Truncated,

    /// A key was not exactly 32 bytes long.
    #[error("key must be 32 bytes, got {0}")]
    InvalidKeyLength(usize),

    /// A chunk size outside the supported set (a power of two from 16 KiB to 1 MiB).
    #[error("unsupported chunk size")]
    InvalidChunkSize,

    /// A chunk handed to the in-place API has the wrong length for its position in the stream.
    #[error("chunk has the wrong length for its position in the stream")]
    InvalidChunkLength,

    /// A plaintext or ciphertext length beyond what the format can express (2^38 chunks), or a size
    /// computation that would overflow.
    #[error("message too long for the format")]
    TooLong,

    /// A byte range that is empty or not inside the object.
    #[error("range is empty or outside the object")]
    InvalidRange,

    /// More ciphertext was supplied than the range or stream being opened can contain.
    #[error("unexpected data after the end of the stream or range")]
    TrailingData,

    /// The random number generator failed to produce bytes, or produced a value a working
    /// generator practically never does (an all-zero S3EC IV or message id, which readers refuse).
    #[error("random number generator failed")]
    Rng,

    /// The key presented is not the key the envelope was sealed under: the envelope's key check
    /// did not match. For SSE-C this is a wrong customer key (S3 answers 403 AccessDenied).
    #[error("wrong key for this object")]
    WrongKey,

    /// The envelope was sealed under a key the encryptor does not hold (an unknown or removed root
    /// key id or version).
    #[error("unknown key {key_id:?} version {version}")]
    UnknownKey {
        /// The key id recorded in the envelope.
        key_id: String,
        /// The key version recorded in the envelope.
        version: u32,
    },

    /// The envelope belongs to another encryption scheme than the encryptor presented (for example
    /// SSE-C headers sent for an SSE-S3 object).
    #[error("object is encrypted with {envelope}, not {presented}")]
    SchemeMismatch {
        /// The scheme the object was sealed with.
        envelope: crate::Scheme,
        /// The scheme of the encryptor that tried to open it.
        presented: crate::Scheme,
    },

    /// A malformed envelope: the metadata map or binary header does not follow `docs/FORMAT.md`.
    #[error("malformed envelope: {0}")]
    Format(#[from] crate::FormatError),

    /// An S3 server-side-encryption request header is missing, malformed or inconsistent. The
    /// variant carries the status, code and message S3 answers with.
    #[error("{}", .0.message())]
    Sse(#[from] crate::SseError),

    /// Key material in hex or base64 that is not canonical or not 32 bytes.
    #[error("key encoding is invalid")]
    InvalidKeyEncoding,

    /// A key id that is empty, longer than 255 bytes, or not printable ASCII.
    #[error("key id must be 1 to 255 printable ASCII characters")]
    InvalidKeyId,

    /// The embedder's KMS failed (GenerateDataKey, Decrypt or ReEncrypt). Distinct from
    /// authentication failures: a gateway answers with the KMS's status and code.
    #[error(transparent)]
    Kms(#[from] crate::KmsError),

    /// An SSE-KMS key whose encryption context names another object (or, for a bucket key, another
    /// bucket) than the one being sealed. A copy to a new name needs a key generated for the new
    /// name, as S3 does: CopyObject does not carry the KMS context over.
    #[error("the KMS key's encryption context is for another object")]
    KmsContextMismatch,

    /// A root key id and version that is already in the keyring.
    #[error("key {key_id:?} version {version} is already in the keyring")]
    DuplicateKey {
        /// The key id.
        key_id: String,
        /// The key version.
        version: u32,
    },

    /// An envelope of another kind than the operation needs: a multipart upload's state opened as
    /// an object, a multipart object opened as a single stream (or with another part table's
    /// kind), or an object's envelope used as an upload state.
    #[error("the envelope is of another kind (single-part object, multipart object or upload state)")]
    EnvelopeKind,

    /// A multipart part list whose part numbers are not strictly ascending (S3's
    /// `InvalidPartOrder`).
    #[error("the list of parts is not in ascending order of part number")]
    InvalidPartOrder,

    /// A multipart part list that no upload can complete with: empty, more than 10,000 parts, a part
    /// number outside 1–10,000, or a part whose stored length no stream has (S3's `InvalidPart`).
    #[error("invalid part in the list of parts")]
    InvalidPart,

    /// Persisted request state (an upload's encryption, SSE-KMS settings) that is not the
    /// canonical encoding of `docs/FORMAT.md` §7.
    #[error("invalid serialised request state")]
    InvalidState,
    /// An AWS S3 Encryption Client object or request that s3crypt refuses (format, policy, opt-in).
    #[error(transparent)]
    S3ec(#[from] crate::S3ecError),
    /// A client-side operation refused: a body of another length than declared, a GET planned
    /// for another chunk size, an unexpected KMS context, an inconsistent `Content-Range`.
    #[error(transparent)]
    ClientSide(#[from] crate::ClientSideError),

    /// A client-side multipart object's companion ([`crate::PartsCompanion`]) that belongs to
    /// another upload than the object's metadata names: an earlier or later upload of the object
    /// (a cached companion goes stale when the object is overwritten: fetch it again, once), or
    /// another object's. Detected from public values before any key is used.
    #[error("the parts companion belongs to another upload of the object")]
    StaleCompanion,

    /// An object key that ends with a suffix s3crypt reserves for the objects it keeps beside
    /// client-side objects ([`crate::PARTS_COMPANION_SUFFIX`], [`crate::CLIENT_INSTRUCTION_SUFFIX`]):
    /// writing it would overwrite another object's companion or instruction file.
    #[error("the object key ends with a suffix reserved for s3crypt companion objects")]
    ReservedKey,
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
