//! Key-usage events: a structured, secret-free record of every use of a key, for the gateway to
//! log (as JSON lines, [`KeyEvent::to_json_line`]).

use super::operation::Operation;
use crate::envelope::{Envelope, ObjectId, Scheme};
use crate::error::Error;
use serde_json::{Map, Value};

/// What was done with a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyUse {
    /// A new envelope was sealed (PutObject, CopyObject's destination, a part).
    Seal,
    /// An envelope was opened (GetObject, HeadObject, a copy's source).
    Open,
    /// An envelope was re-sealed under another key (copy, rename, rotation).
    Reseal,
    /// A KMS GenerateDataKey.
    KmsGenerate,
    /// A KMS Decrypt.
    KmsDecrypt,
    /// A KMS ReEncrypt.
    KmsReEncrypt,
}

impl KeyUse {
    /// The token logged for it (`"seal"`, `"kms-decrypt"`, …).
    pub const fn token(self) -> &'static str {
        match self {
            Self::Seal => "seal",
            Self::Open => "open",
            Self::Reseal => "reseal",
            Self::KmsGenerate => "kms-generate",
            Self::KmsDecrypt => "kms-decrypt",
            Self::KmsReEncrypt => "kms-re-encrypt",
        }
    }
}

/// How a key use ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// It worked.
    Success,
    /// The key presented is not the object's ([`Error::WrongKey`]).
    WrongKey,
    /// The stored object failed to authenticate or is malformed: tampering or damage.
    Tampered,
    /// The KMS refused or failed, with its error code.
    KmsError(String),
    /// The request was refused before any key was used.
    Refused,
    /// Any other failure.
    Failed,
}

impl Outcome {
    /// The outcome of a result.
    pub fn of<T>(result: &Result<T, Error>) -> Self {
        match result {
            Ok(_) => Self::Success,
            Err(Error::WrongKey) => Self::WrongKey,
            Err(
                Error::Authentication
                | Error::Truncated
                | Error::TrailingData
                | Error::Format(_)
                | Error::KmsContextMismatch,
            ) => Self::Tampered,
            Err(Error::Kms(e)) => Self::KmsError(e.code.to_string()),
            Err(Error::Sse(_) | Error::SchemeMismatch { .. } | Error::InvalidRange) => Self::Refused,
            Err(_) => Self::Failed,
        }
    }

    /// The token logged for it (`"success"`, `"wrong-key"`, `"tampered"`, …).
    pub fn token(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::WrongKey => "wrong-key",
            Self::Tampered => "tampered",
            Self::KmsError(_) => "kms-error",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// One use of a key: which operation, which mode and key (id and version, never key material —
/// for SSE-C not even the key's MD5), which object, upload and part, and how it ended.
///
/// ```
/// use s3crypt::{KeyEvent, KeyUse, ObjectId, Operation, Outcome, Scheme};
///
/// let object = ObjectId::new("bucket", "a/b.txt");
/// let event = KeyEvent::new(Operation::GetObject, KeyUse::KmsDecrypt, Scheme::SseKms, &object)
///     .with_key("alias/billing", 0)
///     .with_outcome(Outcome::KmsError("AccessDeniedException".into()));
/// assert_eq!(
///     event.to_json_line(),
///     r#"{"bucket":"bucket","key":"a/b.txt","key_id":"alias/billing","key_version":0,"kms_error":"AccessDeniedException","mode":"SSE-KMS","operation":"GetObject","outcome":"kms-error","use":"kms-decrypt"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// The S3 operation.
    pub operation: Operation,
    /// What was done with the key.
    pub key_use: KeyUse,
    /// The mode.
    pub scheme: Scheme,
    /// The key id (root key id or KMS key id; `None` for SSE-C).
    pub key_id: Option<String>,
    /// The key version (SSE-S3 root keys; 0 where the KMS versions keys).
    pub key_version: Option<u32>,
    /// The bucket (lossy UTF-8).
    pub bucket: String,
    /// The object key (lossy UTF-8).
    pub key: String,
    /// The multipart upload id, if any.
    pub upload_id: Option<String>,
    /// The part number, if any.
    pub part: Option<u32>,
    /// How it ended.
    pub outcome: Outcome,
}

impl KeyEvent {
    /// A successful use of a key of `scheme` for `object` (add the key, upload and outcome with
    /// the `with_*` methods).
    pub fn new(operation: Operation, key_use: KeyUse, scheme: Scheme, object: &ObjectId<'_>) -> Self {
        Self {
            operation,
            key_use,
            scheme,
            key_id: None,
            key_version: None,
            bucket: String::from_utf8_lossy(object.bucket()).into_owned(),
            key: String::from_utf8_lossy(object.key()).into_owned(),
            upload_id: None,
            part: None,
            outcome: Outcome::Success,
        }
    }

    /// The use of `envelope`'s key: its scheme, key id and version.
    pub fn for_envelope(
        operation: Operation,
        key_use: KeyUse,
        envelope: &Envelope,
        object: &ObjectId<'_>,
    ) -> Self {
        let event = Self::new(operation, key_use, envelope.scheme(), object);
        if envelope.key_id().is_empty() {
            event
        } else {
            event.with_key(envelope.key_id(), envelope.key_version())
        }
    }

    /// Names the key.
    #[must_use]
    pub fn with_key(mut self, key_id: &str, version: u32) -> Self {
        self.key_id = Some(key_id.to_owned());
        self.key_version = Some(version);
        self
    }

    /// Names the multipart upload and part.
    #[must_use]
    pub fn with_upload(mut self, upload_id: &str, part: Option<u32>) -> Self {
        self.upload_id = Some(upload_id.to_owned());
        self.part = part;
        self
    }

    /// Sets the outcome.
    #[must_use]
    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Sets the outcome from a result ([`Outcome::of`]).
    #[must_use]
    pub fn with_result<T>(self, result: &Result<T, Error>) -> Self {
        self.with_outcome(Outcome::of(result))
    }

    /// One line of JSON (no newline), keys in alphabetical order, absent fields left out; every
    /// string is escaped by `serde_json`, so an object key cannot forge log lines.
    pub fn to_json_line(&self) -> String {
        let mut map = Map::new();
        let mut put = |k: &str, v: Value| {
            map.insert(k.to_owned(), v);
        };
        put("operation", self.operation.name().into());
        put("use", self.key_use.token().into());
        put("mode", self.scheme.to_string().into());
        put("bucket", self.bucket.clone().into());
        put("key", self.key.clone().into());
        put("outcome", self.outcome.token().into());
        if let Some(id) = &self.key_id {
            put("key_id", id.clone().into());
        }
        if let Some(v) = self.key_version {
            put("key_version", v.into());
        }
        if let Some(id) = &self.upload_id {
            put("upload_id", id.clone().into());
        }
        if let Some(p) = self.part {
            put("part", p.into());
        }
        if let Outcome::KmsError(code) = &self.outcome {
            put("kms_error", code.clone().into());
        }
        Value::Object(map).to_string()
    }
}
