//! Request plans for a client-side multipart upload and for reading the object it makes, as plain
//! data: which S3 request to send, with which metadata, `Content-Length` or `Range`, and what to
//! do with the answer. No HTTP types; the client performs the requests (`docs/DESIGN.md` §14).
//!
//! - **CreateMultipartUpload** with the upload state as metadata: [`ClientMultipartUpload::create`]
//!   → [`CreateUploadPlan`].
//! - **UploadPart**, each part in any order, in parallel, any part again, with its exact
//!   `Content-Length`: [`ClientMultipartUpload::upload_part`] → [`UploadPartPlan`]; seal it with
//!   [`ClientMultipartUpload::upload`].
//! - **PutObject of the companion** (`<key>.s3crypt-parts`), after the parts:
//!   [`ClientMultipartUpload::complete`] → [`ClientCompletion::put_companion`].
//! - **CompleteMultipartUpload**, last, with the part numbers and S3's ETags:
//!   [`ClientCompletion::complete_request`] → [`CompletePlan`].
//!
//! Reading: GetObject of the companion, then GetObject of the object (whole, or with the `Range`
//! header [`PartsCompanion::plan_get`] computes from the companion's table), whose response
//! metadata [`MultipartGetPlan::opener`] checks against the companion before any byte is released.
//! HeadObject: [`PartsCompanion::open`] with the HEAD response's metadata gives the authenticated
//! plaintext size. Requests per read: 2 cold (companion and object; for the whole object or a
//! HEAD the two can be sent concurrently, a range needs the table first), 1 with a cached
//! companion. Copy, rename and re-key: [`MultipartCopyPlan`] (CopyObject with the new metadata,
//! and the new companion).

use super::client::CopySource;
use crate::envelope::{Envelope, ObjectId};
use crate::error::{Error, Result};
use crate::modes::client_side::ClientSideError;
use crate::object::{
    ByteRange, Checksum, MultipartBody, MultipartOpener, Part, PartsCompanion, SealOptions, Upload,
    parts_companion_key,
};
use crate::wrap::Encryptor;
use core::fmt;
use core::ops::Range;
use rand_core::TryCryptoRng;

/// CreateMultipartUpload: the object key and the user metadata to send, which S3 keeps as the
/// object's metadata once the upload completes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateUploadPlan {
    /// The object key.
    pub key: Vec<u8>,
    /// Header name (`x-amz-meta-s3crypt-…`) and value pairs: the upload state (FORMAT.md §5.1).
    pub headers: Vec<(String, String)>,
}

impl CreateUploadPlan {
    /// CreateMultipartUpload of `key` with `state` (an upload state, or a single-part object's
    /// envelope for a copy by parts) as its metadata.
    pub(super) fn new(key: &[u8], state: &Envelope) -> Self {
        Self { key: key.to_vec(), headers: super::client::metadata_headers(state) }
    }

    /// Appends the request headers to an `http` header map.
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        super::client::append_http(&self.headers, map);
    }
}

/// UploadPart: the part number and the exact `Content-Length` of the sealed part, known before the
/// part is sealed, so it can be streamed without buffering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadPartPlan {
    /// The part number, 1 to 10,000.
    pub part_number: u32,
    /// The sealed part's length in bytes.
    pub content_length: u64,
}

impl UploadPartPlan {
    /// Appends the `content-length` header to an `http` header map.
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        super::client::append_http(&[("content-length".to_owned(), self.content_length.to_string())], map);
    }
}

/// PutObject of the companion: its key (the object's key and [`crate::PARTS_COMPANION_SUFFIX`]), its body
/// and `Content-Length`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompanionPutPlan {
    /// The companion's object key.
    pub key: Vec<u8>,
    /// The body: [`PartsCompanion::to_bytes`].
    pub body: Vec<u8>,
    /// `body.len()`.
    pub content_length: u64,
}

impl fmt::Debug for CompanionPutPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompanionPutPlan")
            .field("key", &String::from_utf8_lossy(&self.key))
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl CompanionPutPlan {
    /// Appends the `content-length` header to an `http` header map.
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        super::client::append_http(&[("content-length".to_owned(), self.content_length.to_string())], map);
    }
}

/// CompleteMultipartUpload: the parts to keep, in ascending part-number order, each with the ETag
/// S3 returned for it (S3's, of the ciphertext: not s3crypt's [`crate::ETag`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletePlan {
    /// The object key.
    pub key: Vec<u8>,
    /// Part number and S3 ETag (as S3 returned it, quotes included if it sent them).
    pub parts: Vec<(u32, String)>,
}

impl CompletePlan {
    /// The request body S3 expects: `<CompleteMultipartUpload>` with one `<Part>` (`PartNumber`,
    /// `ETag`) per part, text escaped with XML's predefined entities.
    pub fn to_xml(&self) -> String {
        let mut xml =
            String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        for (number, etag) in &self.parts {
            xml.push_str("<Part><PartNumber>");
            xml.push_str(&number.to_string());
            xml.push_str("</PartNumber><ETag>");
            for c in etag.chars() {
                match c {
                    '&' => xml.push_str("&amp;"),
                    '<' => xml.push_str("&lt;"),
                    '>' => xml.push_str("&gt;"),
                    '"' => xml.push_str("&quot;"),
                    '\'' => xml.push_str("&apos;"),
                    c => xml.push(c),
                }
            }
            xml.push_str("</ETag></Part>");
        }
        xml.push_str("</CompleteMultipartUpload>");
        xml
    }
}

/// A client-side multipart upload in progress: the open [`Upload`] (its data key, for sealing
/// parts on any number of threads) and its state, which is the object's metadata.
pub struct ClientMultipartUpload {
    upload: Upload,
    state: Envelope,
    key: Vec<u8>,
}

impl fmt::Debug for ClientMultipartUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientMultipartUpload")
            .field("upload", &self.upload)
            .field("key", &String::from_utf8_lossy(&self.key))
            .finish_non_exhaustive()
    }
}

impl ClientMultipartUpload {
    /// Starts an upload of `object`: draws its data key, seals the upload state under `encryptor`
    /// and plans the CreateMultipartUpload that stores it as the object's metadata.
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless `encryptor` is a client-side key ([`crate::ClientKeyring`],
    /// [`crate::ClientKmsKey`]); [`Error::ReservedKey`] for a key ending with
    /// [`crate::PARTS_COMPANION_SUFFIX`] or [`crate::CLIENT_INSTRUCTION_SUFFIX`]; as [`Upload::create`].
    pub fn create<R: TryCryptoRng + ?Sized>(
        options: SealOptions,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<(Self, CreateUploadPlan)> {
        crate::object::check_client_scheme(encryptor.scheme())?;
        crate::object::check_client_key(object.key())?;
        let (upload, state) = Upload::create(options, encryptor, object, rng)?;
        let plan = CreateUploadPlan::new(object.key(), &state);
        Ok((Self { upload, state, key: object.key().to_vec() }, plan))
    }

    /// Resumes an upload from its stored state (the metadata CreateMultipartUpload sent), e.g. in
    /// another process.
    ///
    /// # Errors
    /// As [`Envelope::open_upload`]; [`Error::SchemeMismatch`] and [`Error::ReservedKey`] as
    /// [`ClientMultipartUpload::create`].
    pub fn resume(state: Envelope, encryptor: &dyn Encryptor, object: &ObjectId<'_>) -> Result<Self> {
        crate::object::check_client_scheme(encryptor.scheme())?;
        crate::object::check_client_key(object.key())?;
        let upload = state.open_upload(encryptor, object)?;
        Ok(Self { upload, state, key: object.key().to_vec() })
    }

    /// The open upload: seal part `N` with [`Upload::part_sealer`] (or
    /// `Upload::seal_part_parallel`), from any thread; each sealing draws a fresh salt, so a part
    /// uploaded again never repeats a (key, nonce) pair.
    pub fn upload(&self) -> &Upload {
        &self.upload
    }

    /// The upload state: the object's metadata.
    pub fn state(&self) -> &Envelope {
        &self.state
    }

    /// UploadPart for part `number` of `plaintext_len` bytes: its exact sealed `Content-Length`.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for a part number outside 1–10,000; [`Error::TooLong`] past the
    /// format's limit.
    pub fn upload_part(&self, number: u32, plaintext_len: u64) -> Result<UploadPartPlan> {
        if !(1..=crate::MAX_PARTS).contains(&number) {
            return Err(Error::InvalidPart);
        }
        let content_length = self.upload.chunk_size().ciphertext_len(plaintext_len)?;
        Ok(UploadPartPlan { part_number: number, content_length })
    }

    /// Seals the companion for `parts` (the records of the parts to keep, in ascending part
    /// order, the last upload of each): see [`Envelope::complete_client_upload`]. Then PUT the
    /// companion, then complete.
    ///
    /// # Errors
    /// As [`Envelope::complete_client_upload`].
    pub fn complete<R: TryCryptoRng + ?Sized>(
        &self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        parts: &[Part],
        checksum: Option<Checksum>,
        rng: &mut R,
    ) -> Result<ClientCompletion> {
        let companion = self.state.complete_client_upload(encryptor, object, parts, checksum, rng)?;
        Ok(ClientCompletion { companion, key: object.key().to_vec() })
    }
}

/// The end of a client-side multipart upload: the companion to PUT, then CompleteMultipartUpload.
#[derive(Clone, Debug)]
pub struct ClientCompletion {
    companion: PartsCompanion,
    key: Vec<u8>,
}

impl ClientCompletion {
    /// The sealed companion.
    pub fn companion(&self) -> &PartsCompanion {
        &self.companion
    }

    /// PutObject of the companion, to send before CompleteMultipartUpload: after a successful
    /// completion the object is readable at once. (Overwriting an existing object: from this PUT
    /// until the completion, the old object's reads fail closed with [`Error::StaleCompanion`];
    /// keep its companion to PUT back if the upload is aborted. `docs/DESIGN.md` §14.)
    pub fn put_companion(&self) -> CompanionPutPlan {
        let body = self.companion.to_bytes();
        CompanionPutPlan { key: parts_companion_key(&self.key), content_length: body.len() as u64, body }
    }

    /// CompleteMultipartUpload with the ETags S3 returned for the parts' UploadPart requests,
    /// given in any order: exactly the companion's parts, in its (ascending) order.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] unless `etags` names each of the companion's parts exactly once and
    /// nothing else, or if an ETag holds a control character, U+FFFE or U+FFFF.
    pub fn complete_request(&self, etags: &[(u32, &str)]) -> Result<CompletePlan> {
        let numbers: Vec<u32> = self.companion.table().parts().map(|part| part.number()).collect();
        complete_plan(&self.key, &numbers, etags)
    }
}

/// GetObject of a client-side multipart object, planned from its companion's table: the `Range`
/// header to send (none for the whole object) and what comes back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultipartGetPlan {
    /// The `Range` header value (`bytes=first-last` of the stored object), or `None`: the whole
    /// object.
    pub range: Option<String>,
    /// The stored bytes the response carries.
    pub stored: Range<u64>,
    /// The plaintext bytes the opener yields.
    pub plaintext: Range<u64>,
}

#[cfg(feature = "http")]
impl MultipartGetPlan {
    /// Appends the `range` header, if any, to an `http` header map.
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        if let Some(range) = &self.range {
            super::client::append_http(&[("range".to_owned(), range.clone())], map);
        }
    }
}

impl PartsCompanion {
    /// Plans a GetObject of plaintext `range` of the object (`None`: the whole object) from this
    /// companion's table — before anything is verified: the plan is checked when the response
    /// arrives ([`MultipartGetPlan::opener`]). With a cached companion a ranged read is one request.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] (S3's 416) for a range that selects nothing of the object.
    pub fn plan_get(&self, range: Option<ByteRange>) -> Result<MultipartGetPlan> {
        let table = self.table();
        match range {
            None => Ok(MultipartGetPlan {
                range: None,
                stored: 0..table.stored_len(),
                plaintext: 0..table.plaintext_len(),
            }),
            Some(range) => {
                let plaintext = range.resolve(table.plaintext_len())?;
                let plan = table.plan_range(plaintext.clone())?;
                let stored = plan.stored;
                let header = format!("bytes={}-{}", stored.start, stored.end - 1);
                Ok(MultipartGetPlan { range: Some(header), stored, plaintext })
            }
        }
    }

    /// Checks the object's response metadata (GetObject or HeadObject headers: the upload state)
    /// against this companion: see [`Envelope::open_client_multipart`]. HeadObject's plaintext size
    /// is the result's [`MultipartBody::plaintext_len`].
    ///
    /// # Errors
    /// Any error of [`Envelope::from_metadata`] and [`Envelope::open_client_multipart`]
    /// ([`Error::SchemeMismatch`] unless the metadata is a client-side envelope).
    pub fn open<I, K, V>(
        &self,
        metadata: I,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
    ) -> Result<MultipartBody>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Envelope::from_metadata(metadata)?.open_client_multipart(encryptor, object, self)
    }
}

impl MultipartGetPlan {
    /// After the object's response arrived: checks its metadata against `companion` (the one the
    /// plan was made from) and its `Content-Range` header (absent for a `200` answer) against the
    /// plan and the authenticated table, and gives the opener to feed the response body to; it
    /// appends exactly the planned plaintext, each chunk once it authenticates.
    ///
    /// # Errors
    /// As [`PartsCompanion::open`]; [`Error::Truncated`] or [`Error::TrailingData`] if the stored
    /// object is shorter or longer than its table says; [`ClientSideError::ContentRange`] for a
    /// `Content-Range` that is malformed or does not answer the planned request (or its absence
    /// when a range was asked for and the answer is not the whole object). A plan made from
    /// another companion fails one of these window checks, or else [`Error::InvalidRange`].
    pub fn opener<I, K, V>(
        &self,
        metadata: I,
        content_range: Option<&str>,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        companion: &PartsCompanion,
    ) -> Result<MultipartOpener>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let body = companion.open(metadata, encryptor, object)?;
        let total = body.stored_len();
        let window = match content_range {
            None => 0..total,
            Some(value) => super::client::stored_window(value, total)?,
        };
        if window != self.stored {
            return Err(ClientSideError::ContentRange.into());
        }
        let opener = match self.range {
            None => body.opener(),
            Some(_) => body.range_opener(self.plaintext.clone())?,
        };
        if opener.stored_range() != self.stored {
            return Err(Error::InvalidRange);
        }
        Ok(opener)
    }
}

/// S3's smallest part (all but the last part of an upload): 5 MiB.
pub const S3_MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part, and the most one CopyObject copies: 5 GiB.
pub const S3_MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// A server-side copy of a client-side object too large for one CopyObject (S3 copies at most
/// [`S3_MAX_PART_SIZE`] per request): a multipart upload at the destination whose parts are
/// UploadPartCopy requests of consecutive ranges of the source's stored bytes. The destination's
/// body is the source's, byte for byte — the body was sealed for the data key and upload salt the
/// re-sealed envelope keeps, never for S3's part layout — so, as with CopyObject, nothing is
/// downloaded, decrypted or sealed again.
///
/// Made by [`crate::ClientCopyPlan::by_parts`] or [`MultipartCopyPlan::by_parts`]. Order:
/// CreateMultipartUpload ([`CopyByPartsPlan::create`]: the re-sealed envelope as the metadata),
/// every [`CopyByPartsPlan::parts`] (in parallel, in any order, each retried freely: a copy seals
/// nothing), for a multipart source the companion PUT of [`MultipartCopyPlan::put_companion`],
/// then CompleteMultipartUpload ([`CopyByPartsPlan::complete_request`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyByPartsPlan {
    create: CreateUploadPlan,
    source: CopySource,
    stored_len: u64,
    part_size: u64,
}

/// One UploadPartCopy of a [`CopyByPartsPlan`]: the part number and the stored bytes of the source
/// it copies.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadPartCopyPlan {
    /// The part number, from 1.
    pub part_number: u32,
    /// The source's stored bytes this part copies.
    pub source: Range<u64>,
    /// The `x-amz-copy-source` value: `/bucket/key`, percent-encoded.
    pub copy_source: String,
    /// The source's ETag, sent as `x-amz-copy-source-if-match`, when the copy plan was pinned.
    pub source_etag: Option<String>,
    /// `source` is the whole source object (the copy's only part): no range is sent.
    whole: bool,
}

impl UploadPartCopyPlan {
    /// The request headers: `x-amz-copy-source`, `x-amz-copy-source-if-match` for a pinned source,
    /// and `x-amz-copy-source-range: bytes=first-last` (inclusive). The only part of a copy is the
    /// whole source and goes without a range: S3 documents a range copy only for a source over
    /// 5 MB, and the only part may be of any size.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut headers = super::client::source_headers(&self.copy_source, self.source_etag.as_deref());
        if !self.whole {
            headers.push((
                "x-amz-copy-source-range".to_owned(),
                format!("bytes={}-{}", self.source.start, self.source.end.saturating_sub(1)),
            ));
        }
        headers
    }

    /// Appends the request headers to an `http` header map.
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        super::client::append_http(&self.headers(), map);
    }
}

impl CopyByPartsPlan {
    /// Copies `source` (`stored_len` bytes) in parts of `part_size` (the last one shorter) into
    /// the upload `create` starts.
    pub(super) fn new(
        create: CreateUploadPlan,
        source: &CopySource,
        stored_len: u64,
        part_size: u64,
    ) -> Result<Self> {
        let refused = || ClientSideError::CopyPartSize { stored_len, part_size };
        if stored_len == 0 || !(S3_MIN_PART_SIZE..=S3_MAX_PART_SIZE).contains(&part_size) {
            return Err(refused().into());
        }
        if stored_len.div_ceil(part_size) > u64::from(crate::envelope::MAX_PARTS) {
            return Err(refused().into());
        }
        Ok(Self { create, source: source.clone(), stored_len, part_size })
    }

    /// CreateMultipartUpload at the destination, with the re-sealed envelope as its metadata.
    pub fn create(&self) -> &CreateUploadPlan {
        &self.create
    }

    /// The number of parts.
    pub fn part_count(&self) -> u32 {
        // At most MAX_PARTS, checked when the plan was made.
        u32::try_from(self.stored_len.div_ceil(self.part_size)).unwrap_or(u32::MAX)
    }

    /// The UploadPartCopy requests, part 1 first.
    pub fn parts(&self) -> impl Iterator<Item = UploadPartCopyPlan> + '_ {
        (1..=self.part_count()).map(|part_number| {
            // Below stored_len: part_count was checked against it.
            let start = u64::from(part_number - 1).saturating_mul(self.part_size);
            UploadPartCopyPlan {
                part_number,
                source: start..start.saturating_add(self.part_size).min(self.stored_len),
                copy_source: self.source.path.clone(),
                source_etag: self.source.etag.clone(),
                whole: self.stored_len <= self.part_size,
            }
        })
    }

    /// CompleteMultipartUpload with the ETags S3 returned for the UploadPartCopy requests, given in
    /// any order.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] unless `etags` names each part exactly once and nothing else, or if
    /// an ETag holds a control character, U+FFFE or U+FFFF.
    pub fn complete_request(&self, etags: &[(u32, &str)]) -> Result<CompletePlan> {
        let numbers: Vec<u32> = (1..=self.part_count()).collect();
        complete_plan(&self.create.key, &numbers, etags)
    }
}

/// CompleteMultipartUpload of the parts `numbers` (ascending), each with the one ETag `etags` gives
/// for it; `etags` may be in any order but must name nothing else, and no ETag may hold a control
/// character or a non-character XML cannot carry (U+FFFE, U+FFFF).
fn complete_plan(key: &[u8], numbers: &[u32], etags: &[(u32, &str)]) -> Result<CompletePlan> {
    if etags.len() != numbers.len() {
        return Err(Error::InvalidPart);
    }
    let mut parts = Vec::with_capacity(etags.len());
    for &number in numbers {
        let mut found = etags.iter().filter(|(n, _)| *n == number);
        let (Some((_, etag)), None) = (found.next(), found.next()) else {
            return Err(Error::InvalidPart);
        };
        // S3's ETags are quoted hex, never with a control character; most C0 controls, U+FFFE and
        // U+FFFF cannot appear in an XML 1.0 document at all, and CR/LF would not survive its
        // line-end normalization: S3 would answer 400 or complete with another ETag.
        if etag.chars().any(|c| c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}')) {
            return Err(Error::InvalidPart);
        }
        parts.push((number, (*etag).to_owned()));
    }
    Ok(CompletePlan { key: key.to_vec(), parts })
}

/// CopyObject of a client-side multipart object to a new name, or onto itself with a new key,
/// without downloading it: the new upload state as the destination's metadata
/// (`x-amz-metadata-directive: REPLACE`; S3 copies the body server-side) and the new companion to
/// PUT at the destination's companion key. A rename is this copy followed by DeleteObject of the
/// source and its companion.
///
/// Order: PUT the companion, then CopyObject. Onto itself (a re-key), reads between the two fail
/// closed with [`Error::StaleCompanion`]; S3's CopyObject copies at most 5 GiB in one request.
#[derive(Clone, Debug)]
pub struct MultipartCopyPlan {
    source: CopySource,
    key: Vec<u8>,
    state: Envelope,
    companion: CompanionPutPlan,
    stored_len: u64,
}

impl MultipartCopyPlan {
    /// Re-seals `state` (the source's metadata) and `companion`, stored as `from.1` and opened
    /// with `from.0`, for `to.1` under `to.0`: see [`PartsCompanion::reseal`].
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless both keys are client-side keys; [`Error::ReservedKey`] for
    /// a destination key ending with [`crate::PARTS_COMPANION_SUFFIX`] or
    /// [`crate::CLIENT_INSTRUCTION_SUFFIX`]; as [`PartsCompanion::reseal`].
    pub fn new<R: TryCryptoRng + ?Sized>(
        state: &Envelope,
        companion: &PartsCompanion,
        from: (&dyn Encryptor, &ObjectId<'_>),
        to: (&dyn Encryptor, &ObjectId<'_>),
        rng: &mut R,
    ) -> Result<Self> {
        crate::object::check_client_scheme(from.0.scheme())?;
        crate::object::check_client_scheme(to.0.scheme())?;
        crate::object::check_client_key(to.1.key())?;
        let (state, companion) = companion.reseal(state, from, to, rng)?;
        let stored_len = companion.table().stored_len();
        let body = companion.to_bytes();
        let companion = CompanionPutPlan {
            key: parts_companion_key(to.1.key()),
            content_length: body.len() as u64,
            body,
        };
        let source = CopySource::new(from.1);
        Ok(Self { source, key: to.1.key().to_vec(), state, companion, stored_len })
    }

    /// Pins the copy to the source object whose state was re-sealed: `etag` is the ETag S3
    /// returned with that state, sent as `x-amz-copy-source-if-match` with the CopyObject and with
    /// every UploadPartCopy of [`MultipartCopyPlan::by_parts`]; see
    /// [`crate::ClientCopyPlan::with_source_etag`].
    ///
    /// # Errors
    /// [`ClientSideError::InvalidETag`] unless `etag` is 1 to 1,024 bytes of visible ASCII.
    pub fn with_source_etag(mut self, etag: &str) -> Result<Self> {
        self.source.pin(etag)?;
        Ok(self)
    }

    /// The same copy for an object over S3's 5 GiB CopyObject limit: UploadPartCopy requests of
    /// `part_size` bytes each ([`S3_MIN_PART_SIZE`] to [`S3_MAX_PART_SIZE`]), see [`CopyByPartsPlan`].
    /// The companion PUT ([`MultipartCopyPlan::put_companion`]) still goes before the completion.
    ///
    /// # Errors
    /// [`ClientSideError::CopyPartSize`] for a part size outside S3's limits or one that needs
    /// more than 10,000 parts.
    pub fn by_parts(&self, part_size: u64) -> Result<CopyByPartsPlan> {
        CopyByPartsPlan::new(
            CreateUploadPlan::new(&self.key, &self.state),
            &self.source,
            self.stored_len,
            part_size,
        )
    }

    /// The destination's new metadata (its upload state).
    pub fn state(&self) -> &Envelope {
        &self.state
    }

    /// The `x-amz-copy-source` value: `/bucket/key`, percent-encoded.
    pub fn copy_source(&self) -> &str {
        &self.source.path
    }

    /// The CopyObject headers: `x-amz-copy-source`, `x-amz-metadata-directive: REPLACE` and the
    /// new state's `x-amz-meta-s3crypt-*`.
    pub fn headers(&self) -> Vec<(String, String)> {
        super::client::copy_headers(&self.source, &self.state)
    }

    /// The PutObject of the destination's companion.
    pub fn put_companion(&self) -> &CompanionPutPlan {
        &self.companion
    }

    /// Appends the CopyObject headers to an `http` header map.
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        super::client::append_http(&self.headers(), map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(stored_len: u64, part_size: u64) -> Result<CopyByPartsPlan> {
        let create = CreateUploadPlan { key: b"k".to_vec(), headers: Vec::new() };
        CopyByPartsPlan::new(create, &CopySource::new(&ObjectId::new("b", "k")), stored_len, part_size)
    }

    proptest::proptest! {
        /// The parts cover the stored bytes exactly, in order, each of the part size but the last,
        /// within S3's limits — or the plan is refused.
        #[test]
        fn copy_parts_tile_the_body(
            stored_len in proptest::prop_oneof![0u64..(S3_MIN_PART_SIZE * 3), 0u64..(60 << 40)],
            part_size in proptest::prop_oneof![
                (S3_MIN_PART_SIZE - 2)..(S3_MIN_PART_SIZE + 2),
                S3_MIN_PART_SIZE..=S3_MAX_PART_SIZE,
                (S3_MAX_PART_SIZE - 1)..(S3_MAX_PART_SIZE + 2),
            ],
        ) {
            let within = (S3_MIN_PART_SIZE..=S3_MAX_PART_SIZE).contains(&part_size);
            match plan(stored_len, part_size) {
                Ok(plan) => {
                    proptest::prop_assert!(within && stored_len > 0);
                    let count = plan.part_count();
                    proptest::prop_assert!((1..=10_000).contains(&count));
                    let mut next = 0;
                    for (i, part) in plan.parts().enumerate() {
                        proptest::prop_assert_eq!(part.part_number as usize, i + 1);
                        proptest::prop_assert_eq!(part.source.start, next);
                        let len = part.source.end - part.source.start;
                        // A range is sent exactly when the part is not the whole source.
                        let range = format!("bytes={}-{}", part.source.start, part.source.end - 1);
                        let sent = part.headers().into_iter().find(|(n, _)| n == "x-amz-copy-source-range");
                        proptest::prop_assert_eq!(sent.map(|(_, v)| v), (count > 1).then_some(range));
                        proptest::prop_assert!(len > 0 && len <= part_size);
                        if part.part_number < count {
                            proptest::prop_assert_eq!(len, part_size);
                        }
                        next = part.source.end;
                    }
                    proptest::prop_assert_eq!(next, stored_len);
                }
                Err(err) => {
                    proptest::prop_assert_eq!(err, ClientSideError::CopyPartSize { stored_len, part_size }.into());
                    proptest::prop_assert!(!within || stored_len == 0 || stored_len.div_ceil(part_size) > 10_000);
                }
            }
        }
    }
}
