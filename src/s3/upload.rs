//! What a gateway persists between the requests of a multipart upload (and for SSE-KMS settings
//! in general): the mode chosen at CreateMultipartUpload, with a stable, canonical encoding
//! (`docs/FORMAT.md` §7).

use crate::envelope::Scheme;
use crate::error::{Error, Result};
use crate::kms::EncryptionContext;
use crate::modes::sse_kms::SseKms;
use base64ct::{Base64, Encoding};
use serde_json::Value;

/// Longest encoded state accepted (a 255-byte key id and a 1 KiB context fit with room to spare).
const MAX_STATE_LEN: usize = 4096;

/// The encryption of a multipart upload, fixed at CreateMultipartUpload
/// ([`crate::SealKey::upload_encryption`]) and checked on every later request of the upload.
///
/// This is the seam with the multipart upload state: the gateway (or the upload state type) keeps
/// this value with the upload and hands it to [`crate::S3Request::upload_part`] and friends.
/// For SSE-C only the key's MD5 is kept, as S3 does, to tell "another key" (400) from "the same
/// key" before any part is sealed; the key itself is never stored, and the upload's data key is
/// still sealed under the customer key, so a key with a colliding MD5 fails to open it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadEncryption {
    /// SSE-S3.
    SseS3,
    /// SSE-KMS with these settings.
    SseKms(SseKms),
    /// SSE-C with the key whose MD5 this is.
    SseC {
        /// MD5 of the customer key (what clients send as `…-customer-key-MD5`).
        key_md5: [u8; 16],
    },
}

impl UploadEncryption {
    /// The upload's scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::SseS3 => Scheme::SseS3,
            Self::SseKms(_) => Scheme::SseKms,
            Self::SseC { .. } => Scheme::SseC,
        }
    }

    /// The canonical JSON encoding (`docs/FORMAT.md` §7.2).
    pub fn to_json(&self) -> String {
        match self {
            Self::SseS3 => r#"{"v":1,"scheme":"sse-s3"}"#.to_owned(),
            Self::SseKms(settings) => format!(r#"{{"v":1,"scheme":"sse-kms","kms":{}}}"#, settings.to_json()),
            Self::SseC { key_md5 } => {
                format!(r#"{{"v":1,"scheme":"sse-c","key_md5":"{}"}}"#, Base64::encode_string(key_md5))
            }
        }
    }

    /// Decodes [`UploadEncryption::to_json`]'s output; anything but the canonical encoding is
    /// refused.
    ///
    /// # Errors
    /// [`Error::InvalidState`] for any other input.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let object = parse_object(json)?;
        let decoded = match (object.get("v"), object.get("scheme").and_then(Value::as_str)) {
            (Some(v), Some("sse-s3")) if v == 1 => Self::SseS3,
            (Some(v), Some("sse-kms")) if v == 1 => match object.get("kms") {
                Some(Value::Object(kms)) => Self::SseKms(SseKms::from_map(kms)?),
                _ => return Err(Error::InvalidState),
            },
            (Some(v), Some("sse-c")) if v == 1 => {
                let md5 = object.get("key_md5").and_then(Value::as_str).ok_or(Error::InvalidState)?;
                let mut key_md5 = [0u8; 16];
                match Base64::decode(md5, &mut key_md5) {
                    Ok(d) if d.len() == 16 => Self::SseC { key_md5 },
                    _ => return Err(Error::InvalidState),
                }
            }
            _ => return Err(Error::InvalidState),
        };
        canonical(json, &decoded.to_json())?;
        Ok(decoded)
    }
}

impl SseKms {
    /// The canonical JSON encoding of the settings (`docs/FORMAT.md` §7.1):
    /// `{"v":1,"key_id":…,"context":{…},"bucket_key":…}`, the context being the user's pairs in
    /// canonical order (without `aws:s3:arn`, which is added per object).
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"v":1,"key_id":{},"context":{},"bucket_key":{}}}"#,
            Value::from(self.key_id()),
            self.user_context().canonical_json(),
            self.bucket_key()
        )
    }

    /// Decodes [`SseKms::to_json`]'s output; anything but the canonical encoding is refused.
    ///
    /// # Errors
    /// [`Error::InvalidState`] for any other input.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let settings = Self::from_map(&parse_object(json)?)?;
        canonical(json, &settings.to_json())?;
        Ok(settings)
    }

    /// The settings of a decoded JSON object (canonical form checked by the caller).
    fn from_map(object: &serde_json::Map<String, Value>) -> Result<Self> {
        let (Some(v), Some(key_id), Some(context), Some(bucket_key)) = (
            object.get("v"),
            object.get("key_id").and_then(Value::as_str),
            object.get("context").filter(|c| c.is_object()),
            object.get("bucket_key").and_then(Value::as_bool),
        ) else {
            return Err(Error::InvalidState);
        };
        if v != 1 {
            return Err(Error::InvalidState);
        }
        let context =
            EncryptionContext::from_json(context.to_string().as_bytes()).map_err(|_| Error::InvalidState)?;
        if context.get(crate::S3_ARN_KEY).is_some() {
            return Err(Error::InvalidState);
        }
        Ok(Self::new(key_id)
            .map_err(|_| Error::InvalidState)?
            .with_context(context)
            .with_bucket_key(bucket_key))
    }
}

fn parse_object(json: &[u8]) -> Result<serde_json::Map<String, Value>> {
    if json.len() > MAX_STATE_LEN {
        return Err(Error::InvalidState);
    }
    match serde_json::from_slice(json) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::InvalidState),
    }
}

/// Refuses an input that decodes but is not the canonical encoding (whitespace, key order,
/// duplicates, extra fields): one value, one encoding.
fn canonical(json: &[u8], encoded: &str) -> Result<()> {
    if json == encoded.as_bytes() { Ok(()) } else { Err(Error::InvalidState) }
}
