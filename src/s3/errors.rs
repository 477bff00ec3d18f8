//! The status, code and message S3 answers each failure with.

use crate::{Error, Scheme};

/// A problem with the server-side-encryption headers of an S3 request.
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
        }
    }

    /// The response S3 gives: status, error code and message.
    pub const fn response(&self) -> S3ErrorResponse {
        let code = match self {
            Self::InsecureTransport => "InvalidRequest",
            _ => "InvalidArgument",
        };
        S3ErrorResponse {
            status: 400,
            code,
            message: self.message(),
        }
    }
}

/// An S3 error response: what a gateway sends back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S3ErrorResponse {
    /// HTTP status.
    pub status: u16,
    /// S3 error code (`InvalidArgument`, `AccessDenied`, …).
    pub code: &'static str,
    /// S3 error message.
    pub message: &'static str,
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

const INTERNAL: S3ErrorResponse = S3ErrorResponse {
    status: 500,
    code: "InternalError",
    message: "We encountered an internal error. Please try again.",
};

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
                WrongKeyStatus::AccessDenied => S3ErrorResponse {
                    status: 403,
                    code: "AccessDenied",
                    message: "Access Denied",
                },
                WrongKeyStatus::BadRequest => S3ErrorResponse {
                    status: 400,
                    code: "InvalidArgument",
                    message: "The provided encryption parameters did not match the ones used originally.",
                },
            },
            Self::SchemeMismatch {
                envelope: Scheme::SseC,
                ..
            } => S3ErrorResponse {
                status: 400,
                code: "InvalidRequest",
                message: "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
            },
            Self::SchemeMismatch {
                presented: Scheme::SseC,
                ..
            } => S3ErrorResponse {
                status: 400,
                code: "InvalidRequest",
                message: "The encryption parameters are not applicable to this object.",
            },
            Self::InvalidRange => S3ErrorResponse {
                status: 416,
                code: "InvalidRange",
                message: "The requested range is not satisfiable",
            },
            _ => INTERNAL,
        }
    }
}
