//! The server-side-encryption headers of a write request.

use super::SseError;
use super::headers::{HeaderSource, pairs};
use crate::envelope::ObjectId;
use crate::error::Result;
use crate::keys::CustomerKey;
use crate::kms::{EncryptionContext, s3_arn};
use crate::modes::sse_kms::SseKms;

const SSE: &str = "x-amz-server-side-encryption";
const KMS_KEY_ID: &str = "x-amz-server-side-encryption-aws-kms-key-id";
const CONTEXT: &str = "x-amz-server-side-encryption-context";
const BUCKET_KEY: &str = "x-amz-server-side-encryption-bucket-key-enabled";

/// What a write request (PutObject, CopyObject, CreateMultipartUpload) asks for.
#[derive(Debug)]
#[non_exhaustive]
pub enum SseRequest {
    /// No server-side-encryption headers: the bucket's default applies.
    None,
    /// `x-amz-server-side-encryption: AES256`.
    SseS3,
    /// `x-amz-server-side-encryption: aws:kms`, with its optional parameters.
    SseKms(SseKmsRequest),
    /// The SSE-C trio.
    SseC(CustomerKey),
}

/// The optional parameters of an SSE-KMS write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseKmsRequest {
    /// `x-amz-server-side-encryption-aws-kms-key-id`; absent means the gateway's default key.
    pub key_id: Option<String>,
    /// The user's `x-amz-server-side-encryption-context` (validated, canonical, `aws:s3:arn`
    /// removed: it is added per object).
    pub context: EncryptionContext,
    /// `x-amz-server-side-encryption-bucket-key-enabled`; absent means the bucket's setting.
    pub bucket_key: Option<bool>,
}

impl SseKmsRequest {
    /// The SSE-KMS settings, with the gateway's defaults for what the request left out.
    ///
    /// # Errors
    /// [`crate::Error::InvalidKeyId`] if `default_key_id` is malformed.
    pub fn settings(&self, default_key_id: &str, default_bucket_key: bool) -> Result<SseKms> {
        let key_id = self.key_id.as_deref().unwrap_or(default_key_id);
        Ok(SseKms::new(key_id)?
            .with_context(self.context.clone())
            .with_bucket_key(self.bucket_key.unwrap_or(default_bucket_key)))
    }
}

impl SseRequest {
    /// Parses the server-side-encryption headers of a write request for `object`, with S3's rules:
    /// SSE-C excludes `x-amz-server-side-encryption`; a KMS key id, context or bucket-key flag
    /// requires `aws:kms`; `aws:kms:dsse` is recognised and refused; names compare
    /// case-insensitively and no header may repeat.
    ///
    /// # Errors
    /// [`crate::Error::Sse`] with S3's answer.
    pub fn from_headers<'h, I, N, V>(headers: I, object: &ObjectId<'_>) -> Result<Self>
    where
        I: IntoIterator<Item = &'h (N, V)> + Clone,
        N: AsRef<str> + 'h,
        V: AsRef<[u8]> + 'h,
    {
        Self::parse(pairs(headers).as_slice(), object)
    }

    /// [`SseRequest::from_headers`] over any [`HeaderSource`] (an `http::HeaderMap` with the `http`
    /// feature), read in place.
    ///
    /// # Errors
    /// As [`SseRequest::from_headers`].
    pub fn parse<H: HeaderSource + ?Sized>(headers: &H, object: &ObjectId<'_>) -> Result<Self> {
        let get = |name: &str| headers.single(name).map_err(|()| SseError::AmbiguousHeader);
        let sse = get(SSE)?;
        let key_id = get(KMS_KEY_ID)?;
        let context = get(CONTEXT)?;
        let bucket_key = get(BUCKET_KEY)?;
        let customer = super::ssec::customer_key(headers, false)?;

        if let Some(customer) = customer {
            if sse.is_some() || key_id.is_some() || context.is_some() || bucket_key.is_some() {
                return Err(SseError::ConflictingEncryption.into());
            }
            return Ok(Self::SseC(customer));
        }
        let kms = match sse {
            None | Some("AES256") => None,
            Some("aws:kms") => Some(()),
            Some("aws:kms:dsse") => return Err(SseError::DsseNotSupported.into()),
            Some(_) => return Err(SseError::UnsupportedEncryption.into()),
        };
        let bucket_key = match bucket_key.map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(SseError::InvalidBucketKeyEnabled.into()),
        };
        if kms.is_none() {
            if key_id.is_some() || context.is_some() || bucket_key == Some(true) {
                return Err(SseError::KmsParametersWithoutKms.into());
            }
            return Ok(if sse.is_some() { Self::SseS3 } else { Self::None });
        }
        if let Some(id) = key_id {
            SseKms::new(id).map_err(|_| SseError::InvalidKmsKeyId)?;
        }
        let context = match context {
            None => EncryptionContext::new(),
            Some(value) => {
                EncryptionContext::from_header(value, &s3_arn(object.bucket(), Some(object.key()))?)?
            }
        };
        Ok(Self::SseKms(SseKmsRequest { key_id: key_id.map(str::to_owned), context, bucket_key }))
    }
}
