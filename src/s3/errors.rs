//! The status, code and message S3 answers each failure with.

use crate::{Error, Scheme};
use std::borrow::Cow;

/// A problem with the server-side-encryption headers of an S3 request (and the two request
/// refusals, range and part number, that decide which bytes get decrypted).
///
/// Each variant knows the HTTP status, error code and message AWS S3 returns for it (as MinIO
/// reproduces them), so a gateway can answer exactly as S3 does: see [`SseError::response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// SSE-C headers sent over plain HTTP (a gateway checks this itself; S3 requires TLS).
    #[error("SSE-C requires a secure connection")]
    InsecureTransport,
    /// SSE-C key or MD5 given without the algorithm header.
    #[error("missing SSE-C algorithm")]
    MissingCustomerAlgorithm,
    /// The SSE-C algorithm is not exactly `AES256`.
    #[error("invalid SSE-C algorithm")]
    InvalidCustomerAlgorithm,
    /// The SSE-C key header is absent.
    #[error("missing SSE-C key")]
    MissingCustomerKey,
    /// The SSE-C key is not strict base64 of exactly 32 bytes.
    #[error("invalid SSE-C key")]
    InvalidCustomerKey,
    /// The SSE-C key MD5 header is absent.
    #[error("missing SSE-C key MD5")]
    MissingCustomerKeyMd5,
    /// The SSE-C key MD5 does not match the key (or is not base64 of 16 bytes).
    #[error("SSE-C key MD5 mismatch")]
    CustomerKeyMd5Mismatch,
    /// `x-amz-server-side-encryption` is neither `AES256` nor `aws:kms`.
    #[error("unsupported server-side encryption")]
    UnsupportedEncryption,
    /// `aws:kms:dsse` (dual-layer SSE-KMS): recognised, and refused: s3crypt has one layer.
    #[error("DSSE-KMS is not supported")]
    DsseNotSupported,
    /// SSE-C headers together with `x-amz-server-side-encryption`.
    #[error("SSE-C together with another server-side encryption")]
    ConflictingEncryption,
    /// A KMS key id, encryption context or bucket-key header without `aws:kms`.
    #[error("SSE-KMS parameters without aws:kms")]
    KmsParametersWithoutKms,
    /// A KMS key id that is empty, too long or not printable ASCII.
    #[error("invalid KMS key id")]
    InvalidKmsKeyId,
    /// An encryption context that is not base64 of a UTF-8 JSON object of string pairs, has a
    /// duplicate key, or is too large.
    #[error("invalid encryption context")]
    InvalidEncryptionContext,
    /// An encryption context key with the reserved `aws:` prefix.
    #[error("reserved encryption context key")]
    ReservedContextKey,
    /// `x-amz-server-side-encryption-bucket-key-enabled` is neither `true` nor `false`.
    #[error("invalid bucket-key-enabled value")]
    InvalidBucketKeyEnabled,
    /// A header given more than once (or not UTF-8), which makes the request ambiguous.
    #[error("ambiguous server-side encryption header")]
    AmbiguousHeader,
    /// `x-amz-server-side-encryption`, its KMS key id, context or bucket-key flag on an operation
    /// that does not take them (GetObject, HeadObject, GetObjectAttributes, UploadPart,
    /// UploadPartCopy, CompleteMultipartUpload, ListParts): the mode is the object's or upload's.
    #[error("server-side encryption header not supported for this operation")]
    HeaderNotSupported,
    /// An UploadPart, UploadPartCopy, CompleteMultipartUpload or ListParts of an SSE-C upload
    /// without the SSE-C trio.
    #[error("SSE-C upload part without the customer key")]
    MissingUploadKey,
    /// An SSE-C key on a part request that is not the key the upload was initiated with.
    #[error("SSE-C key differs from the upload's")]
    UploadKeyMismatch,
    /// A GetObject or HeadObject with both a `Range` header and a `partNumber`.
    #[error("Range together with partNumber")]
    RangeWithPartNumber,
    /// A `partNumber` the object does not have.
    #[error("invalid part number")]
    InvalidPartNumber,
    /// A PutBucketEncryption body that is not well-formed XML or does not follow the schema.
    #[error("malformed XML")]
    MalformedXml,
    /// A bucket encryption configuration with a `KMSMasterKeyID` and `AES256`.
    #[error("KMSMasterKeyID without aws:kms")]
    KmsKeyIdWithoutKms,
}

impl SseError {
    /// S3's message for this error.
    pub const fn message(&self) -> &'static str {
        match self {
            Self::InsecureTransport => {
                "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
            }
            Self::MissingCustomerAlgorithm | Self::InvalidCustomerAlgorithm => {
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
            }
            Self::MissingCustomerKey => {
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
            }
            Self::InvalidCustomerKey => "The secret key was invalid for the specified algorithm.",
            Self::MissingCustomerKeyMd5 => {
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key."
            }
            Self::CustomerKeyMd5Mismatch => {
                "The calculated MD5 hash of the key did not match the hash that was provided."
            }
            Self::UnsupportedEncryption | Self::DsseNotSupported => {
                "The encryption method specified is not supported"
            }
            Self::ConflictingEncryption => {
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
            }
            Self::KmsParametersWithoutKms => {
                "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
            }
            Self::InvalidKmsKeyId => "Invalid keyId",
            Self::InvalidEncryptionContext => {
                "The encryption context must be base64-encoded UTF-8 JSON of string pairs, at most 1 KiB"
            }
            Self::ReservedContextKey => "Encryption context keys may not use the reserved aws: prefix",
            Self::InvalidBucketKeyEnabled => {
                "The x-amz-server-side-encryption-bucket-key-enabled header must be true or false"
            }
            Self::AmbiguousHeader => "A server-side encryption header was given more than once",
            Self::HeaderNotSupported => {
                "x-amz-server-side-encryption header is not supported for this operation."
            }
            Self::MissingUploadKey => {
                "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters."
            }
            Self::UploadKeyMismatch => {
                "The provided encryption parameters did not match the ones used originally."
            }
            Self::RangeWithPartNumber => "Cannot specify both Range header and partNumber query parameter",
            Self::InvalidPartNumber => "The requested partnumber is not satisfiable",
            Self::MalformedXml => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            Self::KmsKeyIdWithoutKms => {
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"
            }
        }
    }

    /// The response S3 gives: status, error code and message.
    pub const fn response(&self) -> S3ErrorResponse {
        let (status, code) = match self {
            Self::InsecureTransport | Self::MissingUploadKey | Self::RangeWithPartNumber => {
                (400, "InvalidRequest")
            }
            Self::InvalidPartNumber => (416, "InvalidPartNumber"),
            Self::MalformedXml => (400, "MalformedXML"),
            _ => (400, "InvalidArgument"),
        };
        S3ErrorResponse::fixed(status, code, self.message())
    }
}

/// An S3 error response: what a gateway sends back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct S3ErrorResponse {
    /// HTTP status.
    pub status: u16,
    /// S3 error code (`InvalidArgument`, `AccessDenied`, `KMS.NotFoundException`, …).
    pub code: Cow<'static, str>,
    /// S3 error message.
    pub message: Cow<'static, str>,
}

impl S3ErrorResponse {
    const fn fixed(status: u16, code: &'static str, message: &'static str) -> Self {
        Self { status, code: Cow::Borrowed(code), message: Cow::Borrowed(message) }
    }
}

/// How a wrong SSE-C key on GET or HEAD is answered: AWS (and MinIO) say 403 AccessDenied, Ceph
/// RGW says 400. A setting, because clients test for one or the other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WrongKeyStatus {
    /// 403 AccessDenied, as AWS S3.
    #[default]
    AccessDenied,
    /// 400 InvalidArgument, as Ceph RGW.
    BadRequest,
}

const INTERNAL: S3ErrorResponse =
    S3ErrorResponse::fixed(500, "InternalError", "We encountered an internal error. Please try again.");

impl Error {
    /// The S3 response a gateway should send for this error.
    ///
    /// Request-header errors get S3's exact answers; a wrong SSE-C key gets `wrong_key`'s; a scheme
    /// mismatch gets S3's "stored using a form of Server Side Encryption" (key missing) or "not
    /// applicable" (key sent for an object that has none); everything that means the stored object
    /// is damaged or was tampered with is a 500, never a 2xx.
    pub fn s3_response(&self, wrong_key: WrongKeyStatus) -> S3ErrorResponse {
        match self {
            Self::Sse(e) => e.response(),
            Self::WrongKey => match wrong_key {
                WrongKeyStatus::AccessDenied => ACCESS_DENIED,
                WrongKeyStatus::BadRequest => S3ErrorResponse::fixed(
                    400,
                    "InvalidArgument",
                    "The provided encryption parameters did not match the ones used originally.",
                ),
            },
            Self::SchemeMismatch { envelope: Scheme::SseC, .. } => S3ErrorResponse::fixed(
                400,
                "InvalidRequest",
                "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
            ),
            Self::SchemeMismatch { presented: Scheme::SseC, .. } => S3ErrorResponse::fixed(
                400,
                "InvalidRequest",
                "The encryption parameters are not applicable to this object.",
            ),
            Self::InvalidPartOrder => S3ErrorResponse::fixed(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
            ),
            Self::InvalidPart => S3ErrorResponse::fixed(
                400,
                "InvalidPart",
                "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
            ),
            Self::InvalidRange => {
                S3ErrorResponse::fixed(416, "InvalidRange", "The requested range is not satisfiable")
            }
            Self::Kms(e) => S3ErrorResponse {
                status: e.status,
                code: e.code.clone(),
                message: Cow::Owned(e.message.clone()),
            },
            _ => INTERNAL,
        }
    }

    /// The S3 response for an error met while *reading* a stored object: GET, HEAD, the source of
    /// CopyObject and UploadPartCopy — everything that opens an envelope someone else wrote.
    ///
    /// As [`Error::s3_response`], except that the KMS's own answer is not passed through: a
    /// stored envelope chooses the key id and blob the KMS is asked about, so its error code (not
    /// found, disabled, invalid ciphertext) would tell whoever wrote the envelope whether a key
    /// exists or what state it is in. Every KMS refusal is 403 AccessDenied; a KMS that is busy
    /// (its code names throttling, a limit, an internal error or a dependency timeout — the
    /// same answer whatever key was asked for) is 503 ServiceUnavailable, which clients retry.
    /// The gateway still logs the [`Error`] itself.
    pub fn s3_read_response(&self, wrong_key: WrongKeyStatus) -> S3ErrorResponse {
        match self {
            Self::Kms(e) => {
                const BUSY: [&str; 4] = ["Throttling", "LimitExceeded", "KMSInternal", "DependencyTimeout"];
                if BUSY.iter().any(|b| e.code.contains(b)) {
                    S3ErrorResponse::fixed(503, "ServiceUnavailable", "Please reduce your request rate.")
                } else {
                    ACCESS_DENIED
                }
            }
            other => other.s3_response(wrong_key),
        }
    }
}

const ACCESS_DENIED: S3ErrorResponse = S3ErrorResponse::fixed(403, "AccessDenied", "Access Denied");
