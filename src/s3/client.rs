//! Request plans for an S3 *client* that encrypts client-side: what to send for PutObject,
//! GetObject (whole or a plaintext byte range, in one request), HeadObject and CopyObject (copy,
//! rename, re-key), and how to read the responses. Plain data: header names and values, lengths;
//! the client performs the HTTP requests itself. `docs/FORMAT.md` §8 specifies the formulas.

use super::client_multipart::{CopyByPartsPlan, CreateUploadPlan};
use crate::envelope::{Envelope, Layout, ObjectId};
use crate::error::{Error, Result};
use crate::modes::client_side::ClientSideError;
use crate::object::{ByteRange, ObjectKey};
use crate::stream::{ChunkSize, HEADER_LEN, Opener, RangeOpener, TAG_LEN};
use crate::wrap::Encryptor;
use crate::{FormatError, OutputBuffer};
use core::ops::Range;
use rand_core::TryCryptoRng;

/// The prefix S3 puts before user-metadata names in request and response headers.
const META: &str = "x-amz-meta-";

/// The envelope's metadata as `x-amz-meta-…` request headers.
pub(super) fn metadata_headers(envelope: &Envelope) -> Vec<(String, String)> {
    envelope.to_metadata().into_iter().map(|(name, value)| (format!("{META}{name}"), value)).collect()
}

/// Appends `headers` to an `http::HeaderMap`. Every name is a fixed lower-case ASCII name and
/// every value printable ASCII (decimal, base64, tokens, key ids, a percent-encoded copy source),
/// so none is dropped.
#[cfg(feature = "http")]
pub(super) fn append_http<'a>(
    headers: impl IntoIterator<Item = &'a (String, String)>,
    map: &mut http::HeaderMap,
) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
        {
            map.append(name, value);
        }
    }
}

/// A client-side single-part object's envelope, or the reason it is not one.
fn client_single(envelope: &Envelope) -> Result<()> {
    crate::object::check_client_envelope(envelope)?;
    if envelope.layout != Layout::Single {
        return Err(Error::EnvelopeKind);
    }
    Ok(())
}

/// PutObject of a client-side object: the envelope as `x-amz-meta-s3crypt-*` headers and the exact
/// stored `Content-Length`, both known before the body is sealed ([`crate::ClientSealer::new`]),
/// so the body streams without buffering.
///
/// The headers belong to the one body the envelope's [`crate::ClientSealer`] seals: a retried PUT
/// sends them again only with the same ciphertext bytes; a body sealed again (by a new
/// [`crate::ClientSealer::new`]) goes with the new envelope's plan.
///
/// ```
/// use s3crypt::{ClientKeyring, ClientPutPlan, ClientSealer, EncryptionContext, ObjectId, OsRng, RootKey, SealOptions};
///
/// let ring = ClientKeyring::new("client-1", 1, RootKey::generate(&mut OsRng)?, EncryptionContext::new())?;
/// let object = ObjectId::new("bucket", "key");
/// let (mut sealer, envelope) = ClientSealer::new(SealOptions::default(), 3, &ring, &object, &mut OsRng)?;
/// let put = ClientPutPlan::new(&envelope)?;
/// // Send put.headers(), then stream the body:
/// let mut body = Vec::new();
/// sealer.update(b"abc", &mut body)?;
/// sealer.finish(&mut body)?;
/// assert_eq!(body.len() as u64, put.content_length());
/// assert!(put.headers().iter().any(|(k, v)| k == "content-length" && *v == body.len().to_string()));
/// # Ok::<(), s3crypt::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientPutPlan {
    headers: Vec<(String, String)>,
    content_length: u64,
}

impl ClientPutPlan {
    /// The PutObject of the object `envelope` (from [`crate::ClientSealer::new`]) describes.
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless it is a client-side envelope; [`Error::EnvelopeKind`]
    /// unless it is a single-part object's.
    pub fn new(envelope: &Envelope) -> Result<Self> {
        client_single(envelope)?;
        let content_length = envelope.body_len()?;
        let mut headers = metadata_headers(envelope);
        headers.push(("content-length".to_owned(), content_length.to_string()));
        Ok(Self { headers, content_length })
    }

    /// The request headers: `x-amz-meta-s3crypt-*` and `content-length`.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body's exact stored length.
    pub fn content_length(&self) -> u64 {
        self.content_length
    }

    /// Appends the request headers to `map` (an `http::HeaderMap`, e.g. a request's).
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        append_http(&self.headers, map);
    }
}

/// The suffix of a client-side instruction file's object key: the envelope of object `k` stored as
/// the small object `k` + this suffix (`docs/FORMAT.md` §8.5).
pub const CLIENT_INSTRUCTION_SUFFIX: &str = ".s3crypt";

/// The instruction-file form of a client-side envelope: the envelope stored as a small object of
/// its own, `<key>` + [`CLIENT_INSTRUCTION_SUFFIX`], whose body is the binary envelope — for stores
/// that cap user metadata, for bodies whose length was not known before upload
/// ([`crate::ClientBodySealer`]), and for re-keying by replacing only the instruction file.
///
/// The envelope stays bound to the *body's* name, so an instruction file copied beside another
/// body, or a body moved away from its instruction file, does not open. A reader GETs the
/// instruction file, decodes it with [`Envelope::from_binary`], and reads the body with
/// [`ClientGetPlan::open`] as usual (the body's own metadata is not consulted): two requests per
/// read instead of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInstructionPlan {
    key: Vec<u8>,
    body: Vec<u8>,
}

impl ClientInstructionPlan {
    /// The instruction file of `envelope`, the envelope of `object` (the body's name).
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless it is a client-side envelope; [`Error::EnvelopeKind`]
    /// unless it is a single-part object's.
    pub fn new(envelope: &Envelope, object: &ObjectId<'_>) -> Result<Self> {
        client_single(envelope)?;
        Ok(Self { key: Self::key_for(object), body: envelope.to_binary() })
    }

    /// The object key of `object`'s instruction file (in the same bucket).
    pub fn key_for(object: &ObjectId<'_>) -> Vec<u8> {
        [object.key(), CLIENT_INSTRUCTION_SUFFIX.as_bytes()].concat()
    }

    /// The instruction file's object key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The instruction file's body: the binary envelope.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The PutObject headers of the instruction file (`content-length`).
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![("content-length".to_owned(), self.body.len().to_string())]
    }
}

/// GetObject of a client-side object — the whole body, or a plaintext byte range fetched in
/// **one** request: the envelope (metadata headers) records the body's stream header, so the
/// ranged response carries everything needed to authenticate and decrypt it.
///
/// A range is planned for the chunk size the client writes with; the stored range asks for whole
/// chunks (at most one partial chunk more at each end, for a suffix range). If the object turns out
/// to have another chunk size, [`ClientGetPlan::open`] says so
/// ([`ClientSideError::ChunkSizeMismatch`]) and nothing is released: plan again with the stored
/// size (a second request).
///
/// HeadObject needs no plan: decode the response's metadata ([`Envelope::from_metadata`]) and open
/// it; [`ObjectKey::plaintext_len`] is the authenticated plaintext size. Neither the HEAD's
/// `Content-Length` (the stored size) nor [`Envelope::unverified_plaintext_len`] is verified before
/// the envelope opens: storage can set both to anything.
///
/// With a KMS key, call [`ClientGetPlan::check`] on the response's envelope before
/// [`crate::ClientKmsKey::for_envelope`], so that an object this plan cannot read costs no Decrypt.
///
/// ```
/// use s3crypt::{
///     ByteRange, ChunkSize, ClientGetPlan, ClientKeyring, ClientPutPlan, ClientSealer, EncryptionContext,
///     Envelope, ObjectId, OsRng, RootKey, SealOptions,
/// };
///
/// let ring = ClientKeyring::new("client-1", 1, RootKey::generate(&mut OsRng)?, EncryptionContext::new())?;
/// let object = ObjectId::new("bucket", "log.txt");
/// let plaintext: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
///
/// // PUT: the headers first, then the body, streamed.
/// let len = plaintext.len() as u64;
/// let (mut sealer, envelope) = ClientSealer::new(SealOptions::default(), len, &ring, &object, &mut OsRng)?;
/// let put_headers = ClientPutPlan::new(&envelope)?.headers().to_vec();
/// let mut stored = Vec::new();
/// sealer.update(&plaintext, &mut stored)?;
/// sealer.finish(&mut stored)?;
///
/// // GET of plaintext bytes 50000–50099: one request, for whole chunks.
/// let plan = ClientGetPlan::range(ByteRange::FromTo(50_000, 50_099), ChunkSize::C2SP)?;
/// assert_eq!(plan.range_header().as_deref(), Some("bytes=49256-65655"));
/// // The store answers with the metadata, a Content-Range and those bytes.
/// let content_range = format!("bytes 49256-65655/{}", stored.len());
/// let envelope = Envelope::from_metadata(put_headers)?; // other headers are ignored
/// let mut body = plan.open(&envelope, Some(&content_range), &ring, &object)?;
/// let mut out = Vec::new();
/// body.update(&stored[49_256..=65_655], &mut out)?;
/// body.finish(&mut out)?;
/// assert_eq!(out, &plaintext[50_000..50_100]);
/// # Ok::<(), s3crypt::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientGetPlan {
    requested: Option<ByteRange>,
    chunk_size: ChunkSize,
    stored: Option<ByteRange>,
}

/// `base + index × sealed`, checked.
fn chunk_start(cs: ChunkSize, index: u64) -> Result<u64> {
    index
        .checked_mul(cs.sealed_len() as u64)
        .and_then(|n| n.checked_add(HEADER_LEN as u64))
        .ok_or(Error::InvalidRange)
}

impl ClientGetPlan {
    /// The whole object (no `Range` header).
    pub fn whole() -> Self {
        Self { requested: None, chunk_size: ChunkSize::default(), stored: None }
    }

    /// The plaintext bytes `range` of an object sealed with `chunk_size` (`docs/FORMAT.md` §8.3):
    ///
    /// - `bytes=a-b` → `bytes=H+⌊a/C⌋·S-(H+(⌊b/C⌋+1)·S−1)`
    /// - `bytes=a-` → `bytes=H+⌊a/C⌋·S-`
    /// - `bytes=-n` → `bytes=-(n + C − 1 + T·(⌈n/C⌉ + 1))`
    ///
    /// with `H` = 56 (the stream header), `C` the chunk size, `T` = 16 (a tag), `S = C + T`.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] for a reversed range, an empty suffix (`bytes=-0`), or offsets
    /// beyond any stored object.
    pub fn range(range: ByteRange, chunk_size: ChunkSize) -> Result<Self> {
        let log2 = chunk_size.log2();
        let stored = match range {
            ByteRange::FromTo(first, last) if first > last => return Err(Error::InvalidRange),
            ByteRange::FromTo(first, last) => {
                let end = chunk_start(chunk_size, (last >> log2) + 1)?;
                ByteRange::FromTo(chunk_start(chunk_size, first >> log2)?, end - 1)
            }
            ByteRange::From(first) => ByteRange::From(chunk_start(chunk_size, first >> log2)?),
            ByteRange::Suffix(0) => return Err(Error::InvalidRange),
            ByteRange::Suffix(n) => {
                let c = chunk_size.bytes() as u64;
                let tags = n.div_ceil(c).checked_add(1).and_then(|k| k.checked_mul(TAG_LEN as u64));
                let len = tags.and_then(|t| t.checked_add(n)).and_then(|m| m.checked_add(c - 1));
                ByteRange::Suffix(len.ok_or(Error::InvalidRange)?)
            }
        };
        Ok(Self { requested: Some(range), chunk_size, stored: Some(stored) })
    }

    /// The plaintext range asked for (`None`: the whole object).
    pub fn requested(&self) -> Option<ByteRange> {
        self.requested
    }

    /// The stored byte range to ask S3 for (`None`: the whole object).
    pub fn stored_range(&self) -> Option<ByteRange> {
        self.stored
    }

    /// The `Range` header value to send, if any (`bytes=…`).
    pub fn range_header(&self) -> Option<String> {
        self.stored.map(|r| match r {
            ByteRange::FromTo(first, last) => format!("bytes={first}-{last}"),
            ByteRange::From(first) => format!("bytes={first}-"),
            ByteRange::Suffix(n) => format!("bytes=-{n}"),
        })
    }

    /// Appends the `Range` header, if any, to `map` (an `http::HeaderMap`).
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        if let Some(range) = self.range_header() {
            append_http(&[("range".to_owned(), range)], map);
        }
    }

    /// Checks that the response's envelope is one this plan can read — before a KMS is asked for
    /// its key: a client-side single-part object with the chunk size the range was planned for.
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`], [`Error::EnvelopeKind`], [`ClientSideError::ChunkSizeMismatch`].
    pub fn check(&self, envelope: &Envelope) -> Result<()> {
        client_single(envelope)?;
        if self.stored.is_some() && envelope.chunk_size() != self.chunk_size {
            return Err(ClientSideError::ChunkSizeMismatch {
                assumed: self.chunk_size.bytes(),
                stored: envelope.chunk_size().bytes(),
            }
            .into());
        }
        Ok(())
    }

    /// Reads the response: `envelope` decoded from its `x-amz-meta-*` headers, its
    /// `Content-Range` header (absent for a `200` answer), opened with `encryptor` for `object`.
    /// Feed the response body to the returned [`ClientGetBody`].
    ///
    /// # Errors
    /// As [`ClientGetPlan::check`] and [`Envelope::open`]; [`Error::Truncated`] or
    /// [`Error::TrailingData`] if the stored object is shorter or longer than its envelope says;
    /// [`ClientSideError::ContentRange`] for a `Content-Range` that is malformed or does not
    /// answer the request; [`Error::InvalidRange`] if the range selects nothing of the object.
    pub fn open(
        &self,
        envelope: &Envelope,
        content_range: Option<&str>,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
    ) -> Result<ClientGetBody> {
        self.check(envelope)?;
        let key = envelope.open(encryptor, object)?;
        let total = key.body_len()?;
        let header = *key.body_header().ok_or(FormatError::MissingField(crate::Field::BodyHeader))?;
        let window = match content_range {
            None => 0..total,
            Some(value) => stored_window(value, total)?,
        };
        match (self.requested, self.stored) {
            (Some(requested), Some(stored)) => {
                // What S3 answers for the stored range — or, without a Content-Range, the whole body.
                let answer = stored.resolve(total)?;
                if content_range.is_some() && window != answer {
                    return Err(ClientSideError::ContentRange.into());
                }
                let plaintext = requested.resolve(key.plaintext_len())?;
                let opener = key.chunk_opener(&header)?.open_range(plaintext.clone())?;
                let feed = opener.plan().ciphertext.clone();
                if feed.start < window.start || feed.end > window.end {
                    return Err(ClientSideError::ContentRange.into());
                }
                Ok(ClientGetBody::new(Reader::Range(opener), header, window, feed, plaintext, &key))
            }
            _ => {
                if window != (0..total) {
                    return Err(ClientSideError::ContentRange.into());
                }
                let opener = key.opener();
                Ok(ClientGetBody::new(
                    Reader::Whole(opener),
                    header,
                    window,
                    0..total,
                    0..key.plaintext_len(),
                    &key,
                ))
            }
        }
    }
}

/// The stored bytes a response's `Content-Range` says it carries, checked against the stored
/// length `total` the authenticated envelope (or table) gives: a shorter object is
/// [`Error::Truncated`], a longer one [`Error::TrailingData`].
pub(crate) fn stored_window(content_range: &str, total: u64) -> Result<Range<u64>> {
    let (window, stored_total) = parse_content_range(content_range)?;
    if stored_total < total {
        return Err(Error::Truncated);
    }
    if stored_total > total {
        return Err(Error::TrailingData);
    }
    Ok(window)
}

/// `bytes first-last/total`, strictly: ASCII digits, `first ≤ last < total`.
fn parse_content_range(value: &str) -> Result<(Range<u64>, u64)> {
    let bad = || Error::ClientSide(ClientSideError::ContentRange);
    let number = |s: &str| -> Result<u64> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let spec = value.strip_prefix("bytes ").ok_or_else(bad)?;
    let (range, total) = spec.split_once('/').ok_or_else(bad)?;
    let (first, last) = range.split_once('-').ok_or_else(bad)?;
    let (first, last, total) = (number(first)?, number(last)?, number(total)?);
    if first > last || last >= total {
        return Err(bad());
    }
    Ok((first..last + 1, total))
}

/// An offset known to be within a buffer in memory (the header, or the piece being consumed).
fn small(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| Error::TooLong)
}

enum Reader {
    Whole(Opener),
    Range(RangeOpener),
}

/// The body of a client-side GetObject response being authenticated and decrypted: feed it the
/// response body in pieces of any size; it appends exactly the requested plaintext, each chunk
/// only once it has authenticated.
///
/// Bytes of the response outside the chunks it needs (the partial chunk before a suffix range)
/// are discarded; bytes of the stream header, wherever the response holds them, must equal the
/// header the authenticated envelope records ([`Error::Authentication`] otherwise).
pub struct ClientGetBody {
    reader: Reader,
    header: [u8; HEADER_LEN],
    /// Next stored offset expected.
    at: u64,
    window_end: u64,
    /// Stored bytes passed on to the opener.
    feed: Range<u64>,
    plaintext: Range<u64>,
    plaintext_len: u64,
    failed: Option<Error>,
}

impl core::fmt::Debug for ClientGetBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientGetBody")
            .field("at", &self.at)
            .field("plaintext", &self.plaintext)
            .field("plaintext_len", &self.plaintext_len)
            .finish_non_exhaustive()
    }
}

impl ClientGetBody {
    fn new(
        reader: Reader,
        header: [u8; HEADER_LEN],
        window: Range<u64>,
        feed: Range<u64>,
        plaintext: Range<u64>,
        key: &ObjectKey,
    ) -> Self {
        Self {
            reader,
            header,
            at: window.start,
            window_end: window.end,
            feed,
            plaintext,
            plaintext_len: key.plaintext_len(),
            failed: None,
        }
    }

    /// The plaintext bytes this response yields (for the client's own `Content-Range`).
    pub fn plaintext_range(&self) -> Range<u64> {
        self.plaintext.clone()
    }

    /// The object's authenticated plaintext length.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// Consumes the next bytes of the response body.
    ///
    /// # Errors
    /// [`Error::Authentication`] if a chunk, or a byte of the stream header, does not
    /// authenticate; [`Error::TrailingData`] past the end of the response's `Content-Range`; then,
    /// and after any earlier error, the same error again.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        let mut failed = self.failed.take();
        let result = crate::stream::open::sticky(&mut failed, || self.consume(input, out));
        self.failed = failed;
        result
    }

    fn consume<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        let len = input.len() as u64;
        let end = self.at.checked_add(len).filter(|&e| e <= self.window_end).ok_or(Error::TrailingData)?;
        // Header bytes in this piece: stored offsets at..min(end, H).
        let header_end = end.min(HEADER_LEN as u64);
        if self.at < header_end {
            let (from, to) = (small(self.at)?, small(header_end)?);
            let held = &input[..to - from];
            if !bool::from(ctutils::CtEq::ct_eq(held, &self.header[from..to])) {
                return Err(Error::Authentication);
            }
        }
        let (from, to) = (self.at.max(self.feed.start), end.min(self.feed.end));
        if from < to {
            let piece = &input[small(from - self.at)?..small(to - self.at)?];
            match &mut self.reader {
                Reader::Whole(opener) => opener.update(piece, out)?,
                Reader::Range(opener) => opener.update(piece, out)?,
            }
        }
        self.at = end;
        Ok(())
    }

    /// Checks that the whole response arrived and every planned chunk authenticated; for a whole
    /// object, opens the final chunk into `out`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the response stopped early; any error an earlier call returned.
    pub fn finish<B: OutputBuffer + ?Sized>(self, out: &mut B) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.at != self.window_end {
            return Err(Error::Truncated);
        }
        match self.reader {
            Reader::Whole(opener) => opener.finish(out),
            Reader::Range(opener) => opener.finish(),
        }
    }
}

/// CopyObject of a client-side object to a new name, or onto itself with a new key: the envelope
/// is re-sealed (opened with the source's key, sealed for the destination name under the
/// destination key — another keyring key, a KMS key, or the same one) and sent as the new
/// metadata with `x-amz-metadata-directive: REPLACE`; S3 copies the body server-side, so it is
/// never downloaded. A rename is this copy followed by a DeleteObject of the source.
///
/// ```
/// use s3crypt::{ClientCopyPlan, ClientKeyring, ClientSealer, EncryptionContext, ObjectId, OsRng, RootKey, SealOptions};
///
/// let mut ring = ClientKeyring::new("old", 1, RootKey::generate(&mut OsRng)?, EncryptionContext::new())?;
/// let object = ObjectId::new("bucket", "key");
/// let (_, envelope) = ClientSealer::new(SealOptions::default(), 10, &ring, &object, &mut OsRng)?;
///
/// // Re-key in place: a CopyObject of the object onto itself with the re-sealed envelope.
/// ring.add("new", 1, RootKey::generate(&mut OsRng)?, EncryptionContext::new())?;
/// ring.activate("new", 1)?;
/// let copy = ClientCopyPlan::new(&envelope, (&ring, &object), (&ring, &object), &mut OsRng)?;
/// assert_eq!(copy.copy_source(), "/bucket/key");
/// assert_eq!(copy.envelope().key_id(), "new");
/// assert!(copy.headers().iter().any(|(k, v)| k == "x-amz-metadata-directive" && v == "REPLACE"));
/// # Ok::<(), s3crypt::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCopyPlan {
    source: CopySource,
    key: Vec<u8>,
    envelope: Envelope,
}

impl ClientCopyPlan {
    /// Re-seals `envelope`, stored as `from.1` and opened with `from.0`, for `to.1` under `to.0`.
    ///
    /// # Errors
    /// Any error of [`Envelope::reseal`]; [`Error::SchemeMismatch`] if either key is not a
    /// client-side key; [`Error::EnvelopeKind`] for a multipart object or upload state;
    /// [`Error::ReservedKey`] for a destination key ending with a side object's suffix.
    pub fn new<R: TryCryptoRng + ?Sized>(
        envelope: &Envelope,
        from: (&dyn Encryptor, &ObjectId<'_>),
        to: (&dyn Encryptor, &ObjectId<'_>),
        rng: &mut R,
    ) -> Result<Self> {
        client_single(envelope)?;
        crate::object::check_client_key(to.1.key())?;
        crate::object::check_client_scheme(to.0.scheme())?;
        let envelope = envelope.reseal(from, to, rng)?;
        Ok(Self { source: CopySource::new(from.1), key: to.1.key().to_vec(), envelope })
    }

    /// Pins the copy to the source whose envelope was re-sealed: `etag` is the ETag S3 returned
    /// with that envelope (HeadObject or GetObject), sent as `x-amz-copy-source-if-match` with the
    /// CopyObject and with every UploadPartCopy of [`ClientCopyPlan::by_parts`]. If the source
    /// was overwritten since, S3 answers 412 instead of copying another body under this envelope
    /// (which would fail closed on read) or, in place, overwriting the other writer's object.
    ///
    /// # Errors
    /// [`ClientSideError::InvalidETag`] unless `etag` is 1 to 1,024 bytes of visible ASCII.
    pub fn with_source_etag(mut self, etag: &str) -> Result<Self> {
        self.source.pin(etag)?;
        Ok(self)
    }

    /// The same copy for an object over S3's 5 GiB CopyObject limit: a multipart upload of
    /// UploadPartCopy requests of `part_size` bytes each ([`crate::S3_MIN_PART_SIZE`] to
    /// [`crate::S3_MAX_PART_SIZE`]), see [`CopyByPartsPlan`]. The object stays a single-part
    /// client-side object to every reader (its envelope says so); only S3's ETag changes form.
    ///
    /// # Errors
    /// [`ClientSideError::CopyPartSize`] for a part size outside S3's limits, one that needs more
    /// than 10,000 parts, or an empty object.
    pub fn by_parts(&self, part_size: u64) -> Result<CopyByPartsPlan> {
        CopyByPartsPlan::new(
            CreateUploadPlan::new(&self.key, &self.envelope),
            &self.source,
            self.envelope.body_len()?,
            part_size,
        )
    }

    /// The destination's new envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The `x-amz-copy-source` value: `/bucket/key`, percent-encoded.
    pub fn copy_source(&self) -> &str {
        &self.source.path
    }

    /// The request headers: `x-amz-copy-source`, `x-amz-metadata-directive: REPLACE` and the new
    /// envelope's `x-amz-meta-s3crypt-*`.
    pub fn headers(&self) -> Vec<(String, String)> {
        copy_headers(&self.source, &self.envelope)
    }

    /// Appends the request headers to `map` (an `http::HeaderMap`).
    #[cfg(feature = "http")]
    pub fn append_to(&self, map: &mut http::HeaderMap) {
        append_http(&self.headers(), map);
    }
}

/// A CopyObject's headers: `x-amz-copy-source` (and `x-amz-copy-source-if-match`, if pinned),
/// `x-amz-metadata-directive: REPLACE` and `envelope` as the destination's `x-amz-meta-s3crypt-*`.
pub(super) fn copy_headers(source: &CopySource, envelope: &Envelope) -> Vec<(String, String)> {
    let mut headers = source_headers(&source.path, source.etag.as_deref());
    headers.push(("x-amz-metadata-directive".to_owned(), "REPLACE".to_owned()));
    headers.extend(metadata_headers(envelope));
    headers
}

/// What a copy reads, for the single-part and multipart copy plans alike: the source's
/// `x-amz-copy-source` value and, once pinned, the ETag it must still have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CopySource {
    /// `/bucket/key`, percent-encoded ([`copy_source`]).
    pub(super) path: String,
    /// Sent as `x-amz-copy-source-if-match`.
    pub(super) etag: Option<String>,
}

impl CopySource {
    pub(super) fn new(object: &ObjectId<'_>) -> Self {
        Self { path: copy_source(object), etag: None }
    }

    /// Pins the copy to `etag`, which must be sendable as a header value as it is (quotes
    /// included, as S3 sends it).
    pub(super) fn pin(&mut self, etag: &str) -> Result<()> {
        if etag.is_empty() || etag.len() > 1024 || !etag.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ClientSideError::InvalidETag.into());
        }
        self.etag = Some(etag.to_owned());
        Ok(())
    }
}

/// `x-amz-copy-source`, and `x-amz-copy-source-if-match` for a pinned source.
pub(super) fn source_headers(copy_source: &str, source_etag: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![("x-amz-copy-source".to_owned(), copy_source.to_owned())];
    if let Some(etag) = source_etag {
        headers.push(("x-amz-copy-source-if-match".to_owned(), etag.to_owned()));
    }
    headers
}

/// `/bucket/key` with every byte but RFC 3986's unreserved characters (and `/` in the key)
/// percent-encoded, as S3 reads `x-amz-copy-source`.
pub(super) fn copy_source(object: &ObjectId<'_>) -> String {
    let mut out = String::with_capacity(object.bucket().len() + object.key().len() + 2);
    for (part, keep_slash) in [(object.bucket(), false), (object.key(), true)] {
        out.push('/');
        for &b in part {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse_strictly() {
        assert_eq!(parse_content_range("bytes 0-9/10").unwrap(), (0..10, 10));
        assert_eq!(parse_content_range("bytes 5-5/6").unwrap(), (5..6, 6));
        for bad in [
            "bytes 0-10/10",
            "bytes 5-4/10",
            "bytes */10",
            "bytes 0-1/*",
            "bytes=0-1/10",
            "bytes 0-1",
            "bytes +0-1/10",
            "bytes 0-1/10 ",
            "bytes 0-99999999999999999999999/10",
            "",
        ] {
            assert!(parse_content_range(bad).is_err(), "{bad}");
        }
    }

    #[cfg(all(feature = "http", feature = "os-rng"))]
    #[test]
    fn plans_convert_to_http_headers_without_loss() {
        use crate::{ClientKeyring, ClientSealer, EncryptionContext, RootKey, SealOptions};
        let ring =
            ClientKeyring::new("k", 1, RootKey::from_bytes([3; 32]), EncryptionContext::new()).unwrap();
        let object = ObjectId::new("bkt", "a b");
        let mut rng = crate::OsRng;
        let (_, envelope) = ClientSealer::new(SealOptions::default(), 5, &ring, &object, &mut rng).unwrap();
        let put = ClientPutPlan::new(&envelope).unwrap();
        let mut map = http::HeaderMap::new();
        put.append_to(&mut map);
        assert_eq!(map.len(), put.headers().len());
        let back: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())).collect();
        assert_eq!(Envelope::from_metadata(back).unwrap(), envelope);
        let copy = ClientCopyPlan::new(&envelope, (&ring, &object), (&ring, &object), &mut rng).unwrap();
        let mut map = http::HeaderMap::new();
        copy.append_to(&mut map);
        assert_eq!(map.len(), copy.headers().len());
        assert_eq!(map["x-amz-copy-source"], "/bkt/a%20b");
        let mut map = http::HeaderMap::new();
        ClientGetPlan::range(ByteRange::Suffix(5), ChunkSize::C2SP).unwrap().append_to(&mut map);
        assert_eq!(map["range"], format!("bytes=-{}", 5 + 16383 + 32));
    }

    #[test]
    fn copy_sources_are_percent_encoded() {
        let object = ObjectId::new("bkt", "a b/ü+%.txt");
        assert_eq!(copy_source(&object), "/bkt/a%20b/%C3%BC%2B%25.txt");
    }
}
