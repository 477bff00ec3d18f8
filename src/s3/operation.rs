//! One entry point per S3 operation: what to do with a request's encryption headers.
//!
//! Each answer is plain data: which key to resolve, or S3's refusal, and the response headers.
//! Nothing here performs I/O or touches a key: the gateway resolves the key the plan names (its
//! keyring, a KMS round trip, the customer's key) and streams the body.

use super::SseError;
use super::bucket::{BucketEncryption, DefaultAlgorithm};
use super::events::{KeyEvent, KeyUse};
use super::headers::HeaderSource;
use super::response::{BUCKET_KEY, CONTEXT, KMS_KEY_ID, Protection, SSE, SseHeaders};
use super::sse::SseRequest;
use super::ssec::{customer_key, customer_key_present};
use super::upload::UploadEncryption;
use crate::envelope::{Envelope, ObjectId, Scheme};
use crate::error::{Error, Result};
use crate::keys::CustomerKey;
use crate::kms::DecryptRequest;
use crate::modes::sse_kms::{KmsKey, SseKms};
use crate::object::ByteRange;
use core::ops::Range;
use ctutils::CtEq;

/// The KMS key S3 uses for `aws:kms` requests that name no key: the AWS-managed key of the account.
/// [`S3Request::default_kms_key`] sets the gateway's own.
pub const AWS_MANAGED_KMS_KEY: &str = "alias/aws/s3";

/// The S3 operations whose encryption semantics s3crypt answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// PutObject.
    PutObject,
    /// GetObject (including `Range` and `partNumber`).
    GetObject,
    /// HeadObject.
    HeadObject,
    /// CopyObject.
    CopyObject,
    /// GetObjectAttributes.
    GetObjectAttributes,
    /// CreateMultipartUpload.
    CreateMultipartUpload,
    /// UploadPart.
    UploadPart,
    /// UploadPartCopy.
    UploadPartCopy,
    /// CompleteMultipartUpload.
    CompleteMultipartUpload,
    /// ListParts.
    ListParts,
}

impl Operation {
    /// The operation's name in the S3 API (`"PutObject"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::PutObject => "PutObject",
            Self::GetObject => "GetObject",
            Self::HeadObject => "HeadObject",
            Self::CopyObject => "CopyObject",
            Self::GetObjectAttributes => "GetObjectAttributes",
            Self::CreateMultipartUpload => "CreateMultipartUpload",
            Self::UploadPart => "UploadPart",
            Self::UploadPartCopy => "UploadPartCopy",
            Self::CompleteMultipartUpload => "CompleteMultipartUpload",
            Self::ListParts => "ListParts",
        }
    }
}

impl core::fmt::Display for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The key that opens a stored object (or the source of a copy).
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenKey {
    /// SSE-S3: open with the gateway's [`crate::Keyring`] (the envelope names the root key id and
    /// version).
    Keyring,
    /// SSE-KMS: send this Decrypt request (unless a [`crate::BucketKeyCache`] holds the bucket key),
    /// then [`KmsKey::from_decrypted`].
    Kms(DecryptRequest),
    /// SSE-C: the customer's key from the request (a wrong one fails to open with
    /// [`Error::WrongKey`], which S3 answers with 403).
    Customer(CustomerKey),
}

/// The key that seals a new object or upload.
#[derive(Debug)]
#[non_exhaustive]
pub enum SealKey {
    /// SSE-S3: the gateway's [`crate::Keyring`] (its active root key).
    Keyring,
    /// SSE-KMS under these settings: [`SseKms::generate_key`] (or a [`crate::BucketKeyCache`]
    /// hit when [`SseKms::bucket_key`] is on).
    Kms(SseKms),
    /// SSE-C: the customer's key.
    Customer(CustomerKey),
}

impl SealKey {
    /// The scheme this key seals under.
    pub fn scheme(&self) -> Scheme {
        match self {
            Self::Keyring => Scheme::SseS3,
            Self::Kms(_) => Scheme::SseKms,
            Self::Customer(_) => Scheme::SseC,
        }
    }

    /// What a multipart upload sealed with this key persists for its later requests.
    pub fn upload_encryption(&self) -> UploadEncryption {
        match self {
            Self::Keyring => UploadEncryption::SseS3,
            Self::Kms(settings) => UploadEncryption::SseKms(settings.clone()),
            Self::Customer(key) => UploadEncryption::SseC { key_md5: key.md5() },
        }
    }
}

/// What to do for a PutObject or CreateMultipartUpload (and the destination of a CopyObject).
#[derive(Debug)]
#[non_exhaustive]
pub struct WritePlan {
    /// The key to seal under.
    pub key: SealKey,
    /// The SSE headers of the success response.
    pub response: SseHeaders,
}

/// What to do for a GetObject, HeadObject or GetObjectAttributes.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReadPlan {
    /// The key that opens the object.
    pub key: OpenKey,
    /// The plaintext byte range the request's `Range` header asks for (`None`: the whole
    /// object, or the part in [`ReadPlan::part_number`]). Planned against the envelope's recorded
    /// length ([`Envelope::unverified_plaintext_len`]), which is authenticated when the envelope
    /// opens — as the gateway must do before it sends a byte.
    pub range: Option<Range<u64>>,
    /// The requested `partNumber`, for the gateway to map to the part's bytes (for a single-part
    /// object only part 1 exists and is the whole object).
    pub part_number: Option<u32>,
    /// The SSE headers of the success response.
    pub response: SseHeaders,
}

impl ReadPlan {
    /// The `Content-Range` value of a ranged response (`bytes first-last/length`), if ranged;
    /// `plaintext_len` is the opened key's ([`crate::ObjectKey::plaintext_len`]).
    pub fn content_range(&self, plaintext_len: u64) -> Option<String> {
        let r = self.range.as_ref()?;
        Some(format!("bytes {}-{}/{}", r.start, r.end.saturating_sub(1), plaintext_len))
    }
}

/// What to do for a CopyObject: open the source, seal the destination.
#[derive(Debug)]
#[non_exhaustive]
pub struct CopyPlan {
    /// The key that opens the source object.
    pub source: OpenKey,
    /// The destination's key and response headers (the request's headers, else the bucket
    /// default: S3 does not carry the source's mode or KMS context over).
    pub destination: WritePlan,
}

/// What to do for an UploadPart, CompleteMultipartUpload or ListParts.
#[derive(Debug)]
#[non_exhaustive]
pub struct PartPlan {
    /// The customer's key, checked against the upload's, for an SSE-C upload (on Complete and
    /// ListParts only if the client sent it: S3 makes it optional there).
    pub customer_key: Option<CustomerKey>,
    /// The SSE headers of the success response.
    pub response: SseHeaders,
}

/// What to do for an UploadPartCopy: open the source, seal the part under the upload's key.
#[derive(Debug)]
#[non_exhaustive]
pub struct PartCopyPlan {
    /// The key that opens the source object.
    pub source: OpenKey,
    /// The part, as for UploadPart.
    pub part: PartPlan,
}

/// A request's encryption semantics: the headers, the object, the connection and the bucket's
/// default, with one method per S3 operation.
///
/// ```
/// use s3crypt::{ObjectId, S3Request, SealKey};
///
/// let headers = [("x-amz-server-side-encryption", "AES256")];
/// let object = ObjectId::new("bucket", "key");
/// let plan = S3Request::new(&headers, object).secure(true).put_object()?;
/// assert!(matches!(plan.key, SealKey::Keyring));
/// assert_eq!(plan.response.get("x-amz-server-side-encryption"), Some("AES256"));
/// # Ok::<(), s3crypt::Error>(())
/// ```
pub struct S3Request<'a, H: ?Sized> {
    headers: &'a H,
    object: ObjectId<'a>,
    secure: bool,
    bucket: Option<&'a BucketEncryption>,
    default_kms_key: &'a str,
}

/// Leaves the headers out: they may carry an SSE-C key.
impl<H: ?Sized> core::fmt::Debug for S3Request<'_, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("S3Request")
            .field("object", &self.object)
            .field("secure", &self.secure)
            .field("bucket_encryption", &self.bucket)
            .field("default_kms_key", &self.default_kms_key)
            .finish_non_exhaustive()
    }
}

impl<H: ?Sized> Clone for S3Request<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<H: ?Sized> Copy for S3Request<'_, H> {}

impl<'a, H: HeaderSource + ?Sized> S3Request<'a, H> {
    /// A request for `object` with `headers`, in a bucket without default encryption (S3 then
    /// uses SSE-S3), with [`AWS_MANAGED_KMS_KEY`] for `aws:kms` without a key id — and *not* known
    /// to have come over TLS: SSE-C is refused until [`S3Request::secure`] says it did, so a
    /// gateway that forgets to say fails closed.
    pub fn new(headers: &'a H, object: ObjectId<'a>) -> Self {
        Self { headers, object, secure: false, bucket: None, default_kms_key: AWS_MANAGED_KMS_KEY }
    }

    /// Whether the request came over TLS. S3 refuses SSE-C over plain HTTP; a gateway that wants
    /// plain-HTTP SSE-C on loopback for tests passes `true` there, deliberately.
    #[must_use]
    pub fn secure(mut self, tls: bool) -> Self {
        self.secure = tls;
        self
    }

    /// The bucket's default encryption (PutBucketEncryption), applied when a write names no mode.
    #[must_use]
    pub fn bucket_encryption(mut self, config: Option<&'a BucketEncryption>) -> Self {
        self.bucket = config;
        self
    }

    /// The KMS key for `aws:kms` writes that name none (S3: the account's `aws/s3` key).
    #[must_use]
    pub fn default_kms_key(mut self, key_id: &'a str) -> Self {
        self.default_kms_key = key_id;
        self
    }

    /// The object the request is for.
    pub fn object(&self) -> ObjectId<'a> {
        self.object
    }

    /// A key-usage event of `operation` for this request's object and the key of `envelope`
    /// (add the upload and outcome with [`KeyEvent::with_upload`] and [`KeyEvent::with_result`]).
    pub fn key_event(&self, operation: Operation, key_use: KeyUse, envelope: &Envelope) -> KeyEvent {
        KeyEvent::for_envelope(operation, key_use, envelope, &self.object)
    }

    /// PutObject: the key to seal the new object under and the response headers.
    ///
    /// # Errors
    /// [`Error::Sse`] with S3's answer: SSE-C over plain HTTP, a malformed or conflicting header;
    /// [`Error::InvalidKeyId`] for a malformed default KMS key.
    pub fn put_object(&self) -> Result<WritePlan> {
        self.write(Operation::PutObject)
    }

    /// CreateMultipartUpload: as [`S3Request::put_object`]; persist
    /// [`SealKey::upload_encryption`] with the upload for its later requests.
    ///
    /// # Errors
    /// As [`S3Request::put_object`].
    pub fn create_multipart_upload(&self) -> Result<WritePlan> {
        self.write(Operation::CreateMultipartUpload)
    }

    /// GetObject of the object sealed in `envelope`, with the request's `Range` header and the
    /// `partNumber` query parameter.
    ///
    /// # Errors
    /// [`Error::Sse`]: an `x-amz-server-side-encryption*` header (400 InvalidArgument), SSE-C
    /// over plain HTTP, a malformed SSE-C trio, `Range` with `partNumber`, a part number other
    /// than 1 for a single-part object (`parts`: the object's part count, 1 unless multipart);
    /// [`Error::SchemeMismatch`]: SSE-C headers for an object that is not SSE-C, or none for
    /// one that is; [`Error::KmsContextMismatch`] for an SSE-KMS envelope whose context names
    /// another object; [`Error::InvalidRange`] for an unsatisfiable range (416).
    pub fn get_object(&self, envelope: &Envelope, part_number: Option<u32>, parts: u32) -> Result<ReadPlan> {
        self.read(Operation::GetObject, envelope, part_number, parts)
    }

    /// HeadObject: as [`S3Request::get_object`].
    ///
    /// # Errors
    /// As [`S3Request::get_object`].
    pub fn head_object(&self, envelope: &Envelope, part_number: Option<u32>, parts: u32) -> Result<ReadPlan> {
        self.read(Operation::HeadObject, envelope, part_number, parts)
    }

    /// GetObjectAttributes: the SSE-C key is required as for HeadObject; no SSE response headers.
    ///
    /// # Errors
    /// As [`S3Request::get_object`].
    pub fn get_object_attributes(&self, envelope: &Envelope) -> Result<ReadPlan> {
        self.read(Operation::GetObjectAttributes, envelope, None, 1)
    }

    /// CopyObject from `source_object` (named by `x-amz-copy-source`), sealed in `source` (its
    /// SSE-C key from the `x-amz-copy-source-server-side-encryption-customer-*` trio), to this
    /// request's object.
    ///
    /// # Errors
    /// As [`S3Request::put_object`] for the destination headers; for the source,
    /// [`Error::SchemeMismatch`] as in [`S3Request::get_object`] and [`Error::Sse`] for a
    /// malformed copy-source trio or one over plain HTTP.
    pub fn copy_object(&self, source: &Envelope, source_object: &ObjectId<'_>) -> Result<CopyPlan> {
        let source = self.source_key(source, source_object)?;
        Ok(CopyPlan { source, destination: self.write(Operation::CopyObject)? })
    }

    /// UploadPart of an upload initiated with `upload` ([`SealKey::upload_encryption`]).
    ///
    /// # Errors
    /// [`Error::Sse`]: SSE-S3/SSE-KMS headers (the mode is the upload's), SSE-C over plain HTTP, a
    /// malformed trio, no trio for an SSE-C upload (400 InvalidRequest), another key than the
    /// upload's (400 InvalidArgument); [`Error::SchemeMismatch`] for a trio on an upload that is
    /// not SSE-C.
    pub fn upload_part(&self, upload: &UploadEncryption) -> Result<PartPlan> {
        self.part(Operation::UploadPart, upload, true)
    }

    /// UploadPartCopy from `source_object`, sealed in `source`, into an upload initiated with
    /// `upload`.
    ///
    /// # Errors
    /// As [`S3Request::upload_part`] and, for the source, [`S3Request::copy_object`].
    pub fn upload_part_copy(
        &self,
        source: &Envelope,
        source_object: &ObjectId<'_>,
        upload: &UploadEncryption,
    ) -> Result<PartCopyPlan> {
        let part = self.part(Operation::UploadPartCopy, upload, true)?;
        Ok(PartCopyPlan { source: self.source_key(source, source_object)?, part })
    }

    /// CompleteMultipartUpload of an upload initiated with `upload`. The SSE-C trio is optional
    /// here (as in S3); if sent, it must be the upload's key.
    ///
    /// # Errors
    /// As [`S3Request::upload_part`], except that a missing trio is accepted.
    pub fn complete_multipart_upload(&self, upload: &UploadEncryption) -> Result<PartPlan> {
        self.part(Operation::CompleteMultipartUpload, upload, false)
    }

    /// ListParts of an upload initiated with `upload`: as
    /// [`S3Request::complete_multipart_upload`], with no SSE response headers.
    ///
    /// # Errors
    /// As [`S3Request::complete_multipart_upload`].
    pub fn list_parts(&self, upload: &UploadEncryption) -> Result<PartPlan> {
        self.part(Operation::ListParts, upload, false)
    }

    /// The SSE-C trio (or copy-source trio), refused over plain HTTP before it is even parsed.
    fn customer(&self, copy_source: bool) -> Result<Option<CustomerKey>> {
        if !self.secure && customer_key_present(self.headers, copy_source) {
            return Err(SseError::InsecureTransport.into());
        }
        customer_key(self.headers, copy_source)
    }

    /// Refuses the write-only mode headers on an operation that takes its mode from elsewhere.
    fn no_mode_headers(&self) -> Result<()> {
        for name in [SSE, KMS_KEY_ID, CONTEXT, BUCKET_KEY] {
            match self.headers.single(name) {
                Ok(None) => {}
                _ => return Err(SseError::HeaderNotSupported.into()),
            }
        }
        Ok(())
    }

    fn write(&self, operation: Operation) -> Result<WritePlan> {
        if !self.secure && customer_key_present(self.headers, false) {
            return Err(SseError::InsecureTransport.into());
        }
        let key = match SseRequest::parse(self.headers, &self.object)? {
            SseRequest::SseC(key) => SealKey::Customer(key),
            SseRequest::SseS3 => SealKey::Keyring,
            SseRequest::SseKms(request) => {
                let bucket_key =
                    request.bucket_key.unwrap_or_else(|| self.bucket.is_some_and(|b| b.bucket_key()));
                SealKey::Kms(request.settings(self.default_kms_key, bucket_key)?)
            }
            SseRequest::None => match self.bucket.map(|b| (b.algorithm(), b.bucket_key())) {
                Some((DefaultAlgorithm::SseKms { key_id }, bucket_key)) => SealKey::Kms(
                    SseKms::new(key_id.as_deref().unwrap_or(self.default_kms_key))?
                        .with_bucket_key(bucket_key),
                ),
                // No default: S3 encrypts every new object with SSE-S3.
                Some((DefaultAlgorithm::SseS3, _)) | None => SealKey::Keyring,
            },
        };
        let response = match &key {
            SealKey::Keyring => SseHeaders::new(operation, &Protection::SseS3),
            SealKey::Kms(settings) => {
                let context = settings.context_for(&self.object)?;
                SseHeaders::new(
                    operation,
                    &Protection::SseKms {
                        key_id: settings.key_id(),
                        bucket_key: settings.bucket_key(),
                        context: Some(&context),
                    },
                )
            }
            SealKey::Customer(k) => SseHeaders::new(operation, &Protection::SseC { key_md5: Some(k.md5()) }),
        };
        Ok(WritePlan { key, response })
    }

    fn read(
        &self,
        operation: Operation,
        envelope: &Envelope,
        part_number: Option<u32>,
        parts: u32,
    ) -> Result<ReadPlan> {
        self.no_mode_headers()?;
        let customer = self.customer(false)?;
        let md5 = customer.as_ref().map(CustomerKey::md5);
        let key = open_key(envelope, &self.object, customer)?;
        let range = match (self.headers.single("range"), part_number) {
            (Ok(Some(_)), Some(_)) => return Err(SseError::RangeWithPartNumber.into()),
            (Ok(Some(value)), None) if operation != Operation::GetObjectAttributes => {
                parse_range(value, envelope.unverified_plaintext_len())?
            }
            _ => None,
        };
        if let Some(n) = part_number {
            if n == 0 || n > parts {
                return Err(SseError::InvalidPartNumber.into());
            }
        }
        let response = SseHeaders::for_envelope(operation, envelope, md5);
        Ok(ReadPlan { key, range, part_number, response })
    }

    fn source_key(&self, source: &Envelope, source_object: &ObjectId<'_>) -> Result<OpenKey> {
        let customer = self.customer(true)?;
        open_key(source, source_object, customer)
    }

    fn part(&self, operation: Operation, upload: &UploadEncryption, key_required: bool) -> Result<PartPlan> {
        self.no_mode_headers()?;
        let customer = self.customer(false)?;
        match (upload, &customer) {
            (UploadEncryption::SseC { key_md5 }, Some(key)) => {
                if !bool::from(key.md5().ct_eq(key_md5)) {
                    return Err(SseError::UploadKeyMismatch.into());
                }
            }
            (UploadEncryption::SseC { .. }, None) if key_required => {
                return Err(SseError::MissingUploadKey.into());
            }
            (UploadEncryption::SseC { .. }, None) => {}
            (other, Some(_)) => {
                return Err(Error::SchemeMismatch { envelope: other.scheme(), presented: Scheme::SseC });
            }
            (_, None) => {}
        }
        let response = match upload {
            UploadEncryption::SseS3 => SseHeaders::new(operation, &Protection::SseS3),
            UploadEncryption::SseKms(settings) => SseHeaders::new(
                operation,
                &Protection::SseKms {
                    key_id: settings.key_id(),
                    bucket_key: settings.bucket_key(),
                    context: None,
                },
            ),
            UploadEncryption::SseC { key_md5 } => {
                SseHeaders::new(operation, &Protection::SseC { key_md5: Some(*key_md5) })
            }
        };
        Ok(PartPlan { customer_key: customer, response })
    }
}

/// The key for `envelope`, given the SSE-C key the request presented (if any), with S3's answers
/// for a key the object does not take and a key it needs but did not get.
///
/// An SSE-KMS envelope must name `object` in its context before a Decrypt request is built for
/// it ([`KmsKey::decrypt_request`]).
fn open_key(envelope: &Envelope, object: &ObjectId<'_>, customer: Option<CustomerKey>) -> Result<OpenKey> {
    match (envelope.scheme(), customer) {
        (Scheme::SseC, Some(key)) => Ok(OpenKey::Customer(key)),
        (Scheme::SseC, None) => {
            Err(Error::SchemeMismatch { envelope: Scheme::SseC, presented: Scheme::SseS3 })
        }
        (scheme, Some(_)) => Err(Error::SchemeMismatch { envelope: scheme, presented: Scheme::SseC }),
        (Scheme::SseKms, None) => Ok(OpenKey::Kms(KmsKey::decrypt_request(envelope, object)?)),
        (_, None) => Ok(OpenKey::Keyring),
    }
}

/// Parses a `Range` header against an object of `len` bytes (RFC 9110 §14.1.2, one range, as S3):
/// `Ok(None)` for a header S3 ignores (not a single `bytes=` range: the whole object is sent),
/// [`Error::InvalidRange`] for one no byte of the object satisfies.
///
/// # Errors
/// [`Error::InvalidRange`] (416) for an unsatisfiable range.
pub fn parse_range(value: &str, len: u64) -> Result<Option<Range<u64>>> {
    ByteRange::parse(value).map(|range| range.resolve(len)).transpose()
}
