//! The server-side-encryption headers of a response, for every mode and operation.

use super::operation::Operation;
use crate::envelope::{Envelope, Scheme};
use crate::kms::EncryptionContext;
use base64ct::{Base64, Encoding};

pub(crate) const SSE: &str = "x-amz-server-side-encryption";
pub(crate) const KMS_KEY_ID: &str = "x-amz-server-side-encryption-aws-kms-key-id";
pub(crate) const CONTEXT: &str = "x-amz-server-side-encryption-context";
pub(crate) const BUCKET_KEY: &str = "x-amz-server-side-encryption-bucket-key-enabled";
const CUSTOMER_ALGORITHM: &str = "x-amz-server-side-encryption-customer-algorithm";
const CUSTOMER_KEY_MD5: &str = "x-amz-server-side-encryption-customer-key-MD5";

/// The server-side-encryption headers a response carries, in the order S3 sends them.
///
/// What each operation echoes follows the S3 API model: `x-amz-server-side-encryption`, the KMS
/// key id and the bucket-key flag on PutObject, CopyObject, CreateMultipartUpload, GetObject,
/// HeadObject, UploadPart, UploadPartCopy and CompleteMultipartUpload; the encryption context only
/// on PutObject, CopyObject and CreateMultipartUpload; the SSE-C algorithm and key MD5 on all of
/// those but CompleteMultipartUpload; nothing on GetObjectAttributes and ListParts. Every value is
/// printable ASCII (key ids are validated, the rest is base64 or a fixed token), so each is a valid
/// HTTP header value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseHeaders {
    entries: Vec<(&'static str, String)>,
}

/// What a response reports about how an object or upload is protected.
pub(crate) enum Protection<'a> {
    SseS3,
    SseKms { key_id: &'a str, bucket_key: bool, context: Option<&'a EncryptionContext> },
    SseC { key_md5: Option<[u8; 16]> },
}

impl SseHeaders {
    pub(crate) fn new(operation: Operation, protection: &Protection<'_>) -> Self {
        use Operation as O;
        let mut entries = Vec::new();
        let (mode, customer, context) = match operation {
            O::PutObject | O::CopyObject | O::CreateMultipartUpload => (true, true, true),
            O::GetObject | O::HeadObject | O::UploadPart | O::UploadPartCopy => (true, true, false),
            O::CompleteMultipartUpload => (true, false, false),
            O::GetObjectAttributes | O::ListParts => (false, false, false),
        };
        match *protection {
            Protection::SseS3 if mode => entries.push((SSE, "AES256".to_owned())),
            Protection::SseKms { key_id, bucket_key, context: ctx } if mode => {
                entries.push((SSE, "aws:kms".to_owned()));
                entries.push((KMS_KEY_ID, key_id.to_owned()));
                if let (true, Some(ctx)) = (context, ctx) {
                    entries.push((CONTEXT, ctx.to_header()));
                }
                if bucket_key {
                    entries.push((BUCKET_KEY, "true".to_owned()));
                }
            }
            Protection::SseC { key_md5: Some(md5) } if customer => {
                entries.push((CUSTOMER_ALGORITHM, "AES256".to_owned()));
                entries.push((CUSTOMER_KEY_MD5, Base64::encode_string(&md5)));
            }
            _ => {}
        }
        Self { entries }
    }

    /// The headers `operation` answers with for an object sealed in `envelope`.
    ///
    /// SSE-C keys are never stored, so for an SSE-C envelope the key's MD5 comes from the request
    /// (`customer_key_md5`, see [`crate::CustomerKey::md5`]); without it the SSE-C pair is left out.
    /// The per-operation plans ([`crate::S3Request`]) compute these for you.
    pub fn for_envelope(
        operation: Operation,
        envelope: &Envelope,
        customer_key_md5: Option<[u8; 16]>,
    ) -> Self {
        let protection = match envelope.scheme() {
            Scheme::SseKms => Protection::SseKms {
                key_id: envelope.key_id(),
                bucket_key: envelope.bucket_key(),
                context: envelope.kms_context(),
            },
            Scheme::SseC => Protection::SseC { key_md5: customer_key_md5 },
            _ => Protection::SseS3,
        };
        Self::new(operation, &protection)
    }

    /// The headers as `(name, value)` pairs.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'static str, &str)> + '_ {
        self.entries.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The headers as `http` names and values.
    #[cfg(feature = "http")]
    pub fn to_http(&self) -> impl Iterator<Item = (http::HeaderName, http::HeaderValue)> + '_ {
        // Every value is printable ASCII (see the type's documentation), so none is dropped.
        self.entries.iter().filter_map(|(n, v)| {
            Some((http::HeaderName::from_static(lower(n)), http::HeaderValue::from_str(v).ok()?))
        })
    }

    /// Appends the headers to `map` (an `http::HeaderMap`, e.g. a response's).
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        for (name, value) in self.to_http() {
            map.append(name, value);
        }
    }
}

/// `HeaderName::from_static` wants lower case; the one mixed-case name S3 uses is the key MD5.
#[cfg(feature = "http")]
fn lower(name: &'static str) -> &'static str {
    match name {
        CUSTOMER_KEY_MD5 => "x-amz-server-side-encryption-customer-key-md5",
        other => other,
    }
}

impl<'a> IntoIterator for &'a SseHeaders {
    type Item = &'a (&'static str, String);
    type IntoIter = core::slice::Iter<'a, (&'static str, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}
