//! Multipart uploads: one data key per upload, one stream per part, and a completed object whose
//! envelope binds the part list through a constant-size digest.
//!
//! The life cycle, sans I/O (the gateway stores what the crate hands back):
//!
//! - **CreateMultipartUpload**: [`Upload::create`] draws the upload's data key and returns the
//!   *upload state*, an [`Envelope`] of its own kind (an upload, not an object) that the gateway
//!   stores beside the upload. It reveals no key; it opens again with the mode's key
//!   ([`Envelope::open_upload`]), which for SSE-C is how a part's customer key is checked.
//! - **UploadPart**: [`Upload::part_sealer`] seals part `N` as its own stream under the upload's
//!   data key, with a fresh salt and `N` bound into the stream's context (`docs/FORMAT.md` §1.7).
//!   The returned [`SealedPart`] carries the part's [`ETag`] and the [`Part`] record (number,
//!   stream header, stored length) — which can also be re-read from the stored part itself.
//! - **CompleteMultipartUpload**: [`Envelope::complete_upload`] checks every listed part against
//!   the upload's key, builds the [`PartTable`] and seals the object's envelope, which binds the
//!   table's SHA-256 digest, the part count and the total length.
//! - **GET/HEAD**: [`ObjectKey::multipart`] checks a part table against the envelope and gives a
//!   [`MultipartBody`]: sizes, `partNumber` lookups, range plans across parts, and openers.

use super::attributes::{Checksum, ChecksumAlgorithm, ChecksumState};
use super::{ObjectKey, SealOptions, body_context};
use crate::buffer::OutputBuffer;
use crate::envelope::{Envelope, Layout, MAX_PARTS, ObjectId, PARTS_DIGEST_LEN, Scheme, Suite};
use crate::error::{Error, Result};
use crate::keys::DataKey;
use crate::stream::open::sticky;
use crate::stream::{
    Backend, ChunkOpener, ChunkSize, HEADER_LEN, Opener, RangeOpener, RangePlan, Sealer, StreamParams,
    TAG_LEN,
};
use crate::wrap::{self, BodyInfo, Encryptor, Payload};
use core::fmt;
use core::ops::Range;
use md5::{Digest as _, Md5};
use rand_core::TryCryptoRng;
use sha2::Sha256;
use std::sync::Arc;

/// Domain separation of the part-list digest.
const DIGEST_PREFIX: &[u8] = b"s3crypt/v1 parts\0";
/// Salt of the ETag derivation.
const ETAG_SALT: &[u8] = b"s3crypt/v1 etag";
/// HKDF salt, and associated-data prefix, of a part's sealed attributes (FORMAT.md §5.9).
const ATTRIBUTES_LABEL: &[u8] = b"s3crypt/v1 part attributes";
/// First bytes of an encoded part table.
const TABLE_MAGIC: [u8; 4] = *b"S3PT";
/// Part table format version.
const TABLE_VERSION: u8 = 1;
/// `magic ‖ version ‖ log2(chunk size) ‖ BE32(count)`.
const TABLE_HEAD: usize = 4 + 1 + 1 + 4;
/// `BE32(part number) ‖ BE64(plaintext length) ‖ stream header`.
const TABLE_ENTRY: usize = 4 + 8 + HEADER_LEN;

/// Checks a part number: 1 to 10,000.
fn check_number(number: u32) -> Result<()> {
    if (1..=MAX_PARTS).contains(&number) { Ok(()) } else { Err(Error::InvalidPart) }
}

/// An open multipart upload: the upload's data key and body parameters, from [`Upload::create`]
/// or [`Envelope::open_upload`]. Parts may be sealed concurrently (`&self`), each with a fresh
/// salt, so uploading a part number again never repeats a (key, nonce) pair.
pub struct Upload {
    key: DataKey,
    scheme: Scheme,
    suite: Suite,
    chunk_size: ChunkSize,
    backend: Backend,
    md5: bool,
    checksum: Option<ChecksumAlgorithm>,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("scheme", &self.scheme)
            .field("chunk_size", &self.chunk_size)
            .field("md5", &self.md5)
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// CreateMultipartUpload: draws the upload's data key from `rng` and seals the upload state
    /// for `object` under `encryptor` (one GenerateDataKey per upload under SSE-KMS: the
    /// encryptor is the [`crate::KmsKey`] of that call). Store the returned state beside the
    /// upload (as metadata or binary, like any envelope); it holds no key in the clear.
    ///
    /// `options.chunk_size` applies to every part; `options.md5` makes every part compute its
    /// plaintext MD5 for its ETag (see [`ETag`]).
    ///
    /// # Errors
    /// Whatever the encryptor reports when sealing, or [`Error::Rng`].
    pub fn create<R: TryCryptoRng + ?Sized>(
        options: SealOptions,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<(Self, Envelope)> {
        let payload = Payload { key: DataKey::generate(rng)?, md5: None, checksum: None };
        let body = BodyInfo {
            suite: Suite::default(),
            chunk_size: options.chunk_size,
            plaintext_len: 0,
            layout: Layout::Upload,
            body_header: None,
        };
        let state = wrap::seal(encryptor, object, body, &payload, rng)?;
        let upload = Self {
            key: payload.key,
            scheme: state.scheme,
            suite: state.suite,
            chunk_size: state.chunk_size,
            backend: options.backend,
            md5: options.md5,
            checksum: options.checksum,
        };
        Ok((upload, state))
    }

    /// The same upload with another AES-GCM backend for its parts (not recorded).
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The same upload computing (or not) each part's plaintext MD5 for its ETag.
    #[must_use]
    pub fn with_md5(mut self, md5: bool) -> Self {
        self.md5 = md5;
        self
    }

    /// The same upload computing (or not) each part's flexible checksum (S3 fixes the algorithm
    /// at CreateMultipartUpload; the gateway passes it again when it reopens the state).
    #[must_use]
    pub fn with_checksum(mut self, checksum: Option<ChecksumAlgorithm>) -> Self {
        self.checksum = checksum;
        self
    }

    /// The scheme the upload is sealed under.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The parts' chunk size.
    pub fn chunk_size(&self) -> ChunkSize {
        self.chunk_size
    }

    fn params(&self) -> StreamParams {
        StreamParams { chunk_size: self.chunk_size, backend: self.backend }
    }

    /// ListParts: opens the sealed attributes stored with `part` ([`SealedPart::sealed_attributes`]).
    ///
    /// # Errors
    /// [`Error::Authentication`] if they were sealed for another part, another upload of this part
    /// number, another upload, or were modified.
    pub fn open_part_attributes(&self, part: &Part, sealed: &[u8]) -> Result<PartAttributes> {
        open_attributes(&self.key, part, sealed)
    }

    /// UploadPart: starts sealing part `number` (1 to 10,000) with a fresh salt from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for a part number outside 1–10,000; [`Error::Rng`].
    pub fn part_sealer<R: TryCryptoRng + ?Sized>(&self, number: u32, rng: &mut R) -> Result<PartSealer> {
        check_number(number)?;
        let context = body_context(self.suite, self.chunk_size, number);
        let body = Sealer::new(&self.key, self.params(), &context, rng)?;
        Ok(PartSealer {
            body,
            key: DataKey::from_bytes(*self.key.expose_secret()),
            scheme: self.scheme,
            number,
            chunk_size: self.chunk_size,
            header: None,
            md5: self.md5.then(Md5::new),
            checksum: self.checksum.map(ChecksumState::new),
        })
    }
}

#[cfg(feature = "parallel")]
impl Upload {
    /// UploadPart for a part held in memory, sealed on rayon's thread pool (byte-identical to
    /// [`Upload::part_sealer`] with the same generator), its MD5 computed beside the encryption.
    ///
    /// # Errors
    /// As [`Upload::part_sealer`]; [`Error::TooLong`] past the format's limit.
    pub fn seal_part_parallel<R: TryCryptoRng + ?Sized>(
        &self,
        number: u32,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<(SealedPart, Vec<u8>)> {
        check_number(number)?;
        let params = self.params();
        let context = body_context(self.suite, self.chunk_size, number);
        let (keys, header) = crate::stream::seal::begin(&self.key, params, &context, rng)?;
        let ((md5, checksum), body) = rayon::join(
            || {
                let md5 = self.md5.then(|| <[u8; 16]>::from(Md5::digest(plaintext)));
                (md5, self.checksum.map(|a| Checksum::compute(a, plaintext)))
            },
            || crate::stream::parallel::seal_with(&keys, &header, params, plaintext),
        );
        let body = body?;
        let part = Part { number, header, stored_len: body.len() as u64 };
        let etag = part_etag(&self.key, self.scheme, &part, md5.as_ref())?;
        let attributes = seal_attributes(&self.key, &part, md5.as_ref(), checksum.as_ref())?;
        let plaintext_len = plaintext.len() as u64;
        Ok((SealedPart { part, plaintext_len, md5, etag, checksum, attributes }, body))
    }
}

/// Seals one part: a stream pushed in pieces of any size, like [`crate::ObjectSealer`].
pub struct PartSealer {
    body: Sealer,
    key: DataKey,
    scheme: Scheme,
    number: u32,
    chunk_size: ChunkSize,
    header: Option<[u8; HEADER_LEN]>,
    md5: Option<Md5>,
    checksum: Option<ChecksumState>,
}

impl fmt::Debug for PartSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartSealer")
            .field("number", &self.number)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

/// Remembers the stream header, which the streaming sealer writes first, on its first call.
fn capture<B: OutputBuffer + ?Sized>(header: &mut Option<[u8; HEADER_LEN]>, out: &mut B, start: usize) {
    if header.is_none() {
        *header = out.tail_mut(start).get(..HEADER_LEN).and_then(|h| h.try_into().ok());
    }
}

impl PartSealer {
    /// Encrypts the next piece of the part, appending ciphertext to `out`; see [`Sealer::update`].
    ///
    /// # Errors
    /// [`Error::TooLong`] past the format's maximum length.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        if let Some(md5) = &mut self.md5 {
            md5.update(input);
        }
        if let Some(checksum) = &mut self.checksum {
            checksum.update(input);
        }
        let start = out.len();
        self.body.update(input, out)?;
        capture(&mut self.header, out, start);
        Ok(())
    }

    /// Finishes the part, appending its final chunk to `out`, and returns what the gateway keeps
    /// of it: its [`Part`] record and [`ETag`].
    ///
    /// # Errors
    /// [`Error::TooLong`] if the sealer failed earlier.
    pub fn finish<B: OutputBuffer + ?Sized>(self, out: &mut B) -> Result<SealedPart> {
        let Self { body, key, scheme, number, chunk_size, mut header, md5, checksum } = self;
        let plaintext_len = body.plaintext_len();
        let start = out.len();
        body.finish(out)?;
        capture(&mut header, out, start);
        let header = header.ok_or(Error::TooLong)?;
        let md5: Option<[u8; 16]> = md5.map(|m| m.finalize().into());
        let part = Part { number, header, stored_len: chunk_size.ciphertext_len(plaintext_len)? };
        let etag = part_etag(&key, scheme, &part, md5.as_ref())?;
        let checksum = checksum.map(ChecksumState::finish);
        let attributes = seal_attributes(&key, &part, md5.as_ref(), checksum.as_ref())?;
        Ok(SealedPart { part, plaintext_len, md5, etag, checksum, attributes })
    }
}

/// A part's ETag (see [`ETag`] for the rules).
fn part_etag(key: &DataKey, scheme: Scheme, part: &Part, md5: Option<&[u8; 16]>) -> Result<ETag> {
    etag(key, scheme, part.number, md5, &part.header)
}

/// The ETag of stream `number` (0 for a single-part object) under data key `key`: its MD5 under
/// SSE-S3, else a keyed value over its MD5 or, without one, over `header` (see [`ETag`]).
pub(crate) fn etag(
    key: &DataKey,
    scheme: Scheme,
    number: u32,
    md5: Option<&[u8; 16]>,
    header: &[u8],
) -> Result<ETag> {
    if let (Scheme::SseS3, Some(md5)) = (scheme, md5) {
        return Ok(ETag::from_digest(*md5));
    }
    let (kind, value): (u8, &[u8]) = match md5 {
        Some(md5) => (1, md5),
        None => (2, header),
    };
    let mut digest = [0u8; 16];
    crate::primitives::hkdf_sha512(
        ETAG_SALT,
        key.expose_secret(),
        &[&number.to_be_bytes(), &[kind], value],
        &mut digest,
    )?;
    Ok(ETag::from_digest(digest))
}

/// What sealing a part produced: its [`Part`] record, its plaintext length and MD5, its ETag, and
/// its sealed attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedPart {
    part: Part,
    plaintext_len: u64,
    md5: Option<[u8; 16]>,
    etag: ETag,
    checksum: Option<Checksum>,
    attributes: Vec<u8>,
}

/// The key and associated data that seal part `part`'s attributes: HKDF-SHA-512 of the data key,
/// keyed by the part number and the part's stream header, which holds a fresh salt for every
/// upload of a part — so every key seals exactly one value, under the fixed nonce.
fn attributes_key(key: &DataKey, part: &Part) -> Result<(crate::primitives::OnceKey, Vec<u8>)> {
    let number = part.number.to_be_bytes();
    let kek = crate::primitives::OnceKey::derive(
        ATTRIBUTES_LABEL,
        key.expose_secret(),
        &[&number, &part.header],
        &mut [],
    )?;
    let aad = [ATTRIBUTES_LABEL, &[0], &number, &part.header].concat();
    Ok((kek, aad))
}

/// Seals a part's MD5 and checksum (FORMAT.md §5.9).
fn seal_attributes(
    key: &DataKey,
    part: &Part,
    md5: Option<&[u8; 16]>,
    checksum: Option<&Checksum>,
) -> Result<Vec<u8>> {
    let mut items = zeroize::Zeroizing::new(Vec::new());
    wrap::encode_items(md5, checksum, &mut items);
    let (kek, aad) = attributes_key(key, part)?;
    kek.seal(&aad, &items)
}

/// Opens a part's sealed attributes: [`Error::Authentication`] unless they were sealed for this
/// part number and this upload of it, under this data key.
fn open_attributes(key: &DataKey, part: &Part, sealed: &[u8]) -> Result<PartAttributes> {
    let (kek, aad) = attributes_key(key, part)?;
    let items = kek.open(&aad, sealed)?;
    let (md5, checksum) = wrap::decode_items(&items).ok_or(Error::Authentication)?;
    Ok(PartAttributes { md5, checksum })
}

/// A part's opened attributes: what S3 reports per part (ListParts, GetObjectAttributes' parts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartAttributes {
    md5: Option<[u8; 16]>,
    checksum: Option<Checksum>,
}

impl PartAttributes {
    /// The part's plaintext MD5, if the upload computed it.
    pub fn plaintext_md5(&self) -> Option<[u8; 16]> {
        self.md5
    }
    /// The part's flexible checksum, if the upload computed one.
    pub fn checksum(&self) -> Option<Checksum> {
        self.checksum
    }
}

impl SealedPart {
    /// The record to complete the upload with.
    pub fn part(&self) -> &Part {
        &self.part
    }
    /// The part's plaintext length.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }
    /// The part's plaintext MD5, if the upload computes it (to check a `Content-MD5` header).
    pub fn plaintext_md5(&self) -> Option<[u8; 16]> {
        self.md5
    }
    /// The part's ETag, for the UploadPart response and the CompleteMultipartUpload check.
    pub fn etag(&self) -> ETag {
        self.etag
    }
    /// The part's flexible checksum, if the upload computes one: for the UploadPart response (to
    /// check against the client's `x-amz-checksum-*`) and, with [`Checksum::full_object`] or
    /// [`Checksum::composite`], for the CompleteMultipartUpload response. Keep it sealed if you
    /// keep it: it is a checksum of plaintext ([`SealedPart::sealed_attributes`]).
    pub fn checksum(&self) -> Option<Checksum> {
        self.checksum
    }
    /// The part's MD5 and checksum sealed under the upload's data key, bound to this part number
    /// and this upload of it: what to store beside the part (and keep after completion) so that
    /// ListParts and GetObjectAttributes can report per-part values that only a key holder reads
    /// ([`Upload::open_part_attributes`], [`MultipartBody::part_attributes`]). 16 bytes plus the
    /// values (at most 71).
    pub fn sealed_attributes(&self) -> &[u8] {
        &self.attributes
    }
}

/// One uploaded part as the upload's completion needs it: its number, its stream header (the
/// first [`HEADER_LEN`] bytes of the stored part) and its stored length. A gateway either keeps the
/// [`SealedPart::part`] record or rebuilds it from the stored part with [`Part::new`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Part {
    number: u32,
    header: [u8; HEADER_LEN],
    stored_len: u64,
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part").field("number", &self.number).field("stored_len", &self.stored_len).finish()
    }
}

impl Part {
    /// Part `number` whose stored stream starts with `header` and is `stored_len` bytes long.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for a part number outside 1–10,000; [`Error::Truncated`] unless
    /// `header` is [`HEADER_LEN`] bytes.
    pub fn new(number: u32, header: &[u8], stored_len: u64) -> Result<Self> {
        check_number(number)?;
        let header = header.try_into().map_err(|_| Error::Truncated)?;
        Ok(Self { number, header, stored_len })
    }
    /// The part number.
    pub fn number(&self) -> u32 {
        self.number
    }
    /// The part stream's header (salt ‖ key commitment).
    pub fn header(&self) -> &[u8; HEADER_LEN] {
        &self.header
    }
    /// The stored length of the part's stream.
    pub fn stored_len(&self) -> u64 {
        self.stored_len
    }
}

/// An S3 entity tag, as s3crypt computes it without any key at read time (LIST, HEAD).
///
/// - A part of an SSE-S3 upload with `md5` on: the part's plaintext MD5, as S3.
/// - A part of an SSE-C or SSE-KMS upload with `md5` on: 16 bytes of
///   `HKDF-SHA-512(salt = "s3crypt/v1 etag", ikm = data key, info = BE32(part) ‖ 0x01 ‖ MD5)` — not
///   an MD5 of the data and not checkable without the key, yet the same for the same bytes within
///   an upload (a re-uploaded part keeps its ETag).
/// - With `md5` off, the same derivation over `0x02 ‖ stream header`: unique per upload of a part.
/// - A single-part object ([`crate::ObjectSealer::finish_with_etag`]): the same rules with part
///   number 0 (and, with `md5` off, no header: the object's data key is its own).
/// - A multipart object: `MD5(part ETags' 16 bytes, concatenated)` and the part count, displayed
///   `hex-N` ([`ETag::multipart`]), as S3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ETag {
    digest: [u8; 16],
    parts: Option<u32>,
}

impl ETag {
    /// A single-part ETag of 16 bytes.
    pub fn from_digest(digest: [u8; 16]) -> Self {
        Self { digest, parts: None }
    }

    /// A multipart object's ETag from its parts' ETags, in part order.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for no parts, more than 10,000, or a multipart ETag among them.
    pub fn multipart(parts: &[ETag]) -> Result<Self> {
        let count = u32::try_from(parts.len()).map_err(|_| Error::InvalidPart)?;
        if count == 0 || count > MAX_PARTS || parts.iter().any(|p| p.parts.is_some()) {
            return Err(Error::InvalidPart);
        }
        let mut md5 = Md5::new();
        for part in parts {
            md5.update(part.digest);
        }
        Ok(Self { digest: md5.finalize().into(), parts: Some(count) })
    }

    /// The 16 bytes.
    pub fn digest(&self) -> [u8; 16] {
        self.digest
    }

    /// A multipart ETag's part count.
    pub fn part_count(&self) -> Option<u32> {
        self.parts
    }
}

/// Lowercase hex, with `-N` for a multipart ETag; without the quotes HTTP puts around it.
impl fmt::Display for ETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.digest {
            write!(f, "{b:02x}")?;
        }
        if let Some(n) = self.parts {
            write!(f, "-{n}")?;
        }
        Ok(())
    }
}

/// A completed multipart object's part list: for each part in ascending part-number order, its
/// number, plaintext length and stream header. The object's envelope binds its SHA-256 digest.
///
/// Store it beside the object (it is public: lengths and random salts) with
/// [`PartTable::to_bytes`], or rebuild it from the stored parts with [`PartTable::new`].
#[derive(Clone, PartialEq, Eq)]
pub struct PartTable {
    chunk_size: ChunkSize,
    entries: Vec<Entry>,
    plaintext_len: u64,
    stored_len: u64,
    /// Plaintext offset of each part, and the total at the end.
    plain: Vec<u64>,
    /// Stored offset of each part, and the total at the end.
    stored: Vec<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry {
    number: u32,
    plaintext_len: u64,
    header: [u8; HEADER_LEN],
}

impl fmt::Debug for PartTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartTable")
            .field("parts", &self.entries.len())
            .field("plaintext_len", &self.plaintext_len)
            .field("stored_len", &self.stored_len)
            .finish_non_exhaustive()
    }
}

impl PartTable {
    /// The table of `parts` (in the order CompleteMultipartUpload lists them) for streams of
    /// `chunk_size`.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for an empty list, more than 10,000 parts or a stored length no
    /// stream has; [`Error::InvalidPartOrder`] unless part numbers strictly ascend;
    /// [`Error::TooLong`] past the format's limit.
    pub fn new(chunk_size: ChunkSize, parts: &[Part]) -> Result<Self> {
        let mut entries = Vec::with_capacity(parts.len());
        for part in parts {
            check_number(part.number)?;
            let plaintext_len = chunk_size.plaintext_len(part.stored_len).map_err(|_| Error::InvalidPart)?;
            entries.push(Entry { number: part.number, plaintext_len, header: part.header });
        }
        Self::from_entries(chunk_size, entries)
    }

    fn from_entries(chunk_size: ChunkSize, entries: Vec<Entry>) -> Result<Self> {
        if entries.is_empty() || entries.len() > MAX_PARTS as usize {
            return Err(Error::InvalidPart);
        }
        let (mut plaintext_len, mut stored_len) = (0u64, 0u64);
        let mut plain = Vec::with_capacity(entries.len() + 1);
        let mut stored = Vec::with_capacity(entries.len() + 1);
        let mut previous = 0;
        for entry in &entries {
            check_number(entry.number)?;
            if entry.number <= previous {
                return Err(Error::InvalidPartOrder);
            }
            previous = entry.number;
            plain.push(plaintext_len);
            stored.push(stored_len);
            let part_stored = chunk_size.ciphertext_len(entry.plaintext_len)?;
            plaintext_len = plaintext_len.checked_add(entry.plaintext_len).ok_or(Error::TooLong)?;
            stored_len = stored_len.checked_add(part_stored).ok_or(Error::TooLong)?;
        }
        if plaintext_len > chunk_size.max_plaintext_len() {
            return Err(Error::TooLong);
        }
        plain.push(plaintext_len);
        stored.push(stored_len);
        Ok(Self { chunk_size, entries, plaintext_len, stored_len, plain, stored })
    }

    /// The number of parts.
    pub fn part_count(&self) -> u32 {
        // At most 10,000, checked on construction.
        u32::try_from(self.entries.len()).unwrap_or(u32::MAX)
    }

    /// The object's plaintext length: the sum of the parts'.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// The stored length of the whole body: the parts' streams back to back.
    pub fn stored_len(&self) -> u64 {
        self.stored_len
    }

    /// The parts' chunk size.
    pub fn chunk_size(&self) -> ChunkSize {
        self.chunk_size
    }

    /// The parts, in order.
    pub fn parts(&self) -> impl Iterator<Item = Part> + '_ {
        self.entries.iter().map(move |e| Part {
            number: e.number,
            header: e.header,
            // Checked on construction.
            stored_len: self.chunk_size.ciphertext_len(e.plaintext_len).unwrap_or(u64::MAX),
        })
    }

    /// The canonical encoding (`docs/FORMAT.md` §5.3):
    /// `"S3PT" ‖ 0x01 ‖ log2(chunk size) ‖ BE32(count) ‖ (BE32(number) ‖ BE64(plaintext length) ‖
    /// header)*`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TABLE_HEAD + TABLE_ENTRY * self.entries.len());
        out.extend_from_slice(&TABLE_MAGIC);
        out.push(TABLE_VERSION);
        out.push(self.chunk_size.log2());
        out.extend_from_slice(&self.part_count().to_be_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.number.to_be_bytes());
            out.extend_from_slice(&e.plaintext_len.to_be_bytes());
            out.extend_from_slice(&e.header);
        }
        out
    }

    /// Decodes [`PartTable::to_bytes`] strictly; the length is checked before anything is
    /// allocated.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for a wrong magic, version or length, or the errors of
    /// [`PartTable::new`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = || Error::InvalidPart;
        let (head, mut rest) = bytes.split_at_checked(TABLE_HEAD).ok_or_else(bad)?;
        if head[..4] != TABLE_MAGIC || head[4] != TABLE_VERSION {
            return Err(bad());
        }
        let chunk_size = ChunkSize::from_log2(head[5]).map_err(|_| bad())?;
        let count = u32::from_be_bytes([head[6], head[7], head[8], head[9]]);
        if count == 0 || count > MAX_PARTS || rest.len() != count as usize * TABLE_ENTRY {
            return Err(bad());
        }
        let mut entries = Vec::with_capacity(count as usize);
        while let Some((entry, tail)) = rest.split_at_checked(TABLE_ENTRY) {
            let (number, entry) = entry.split_at(4);
            let (len, header) = entry.split_at(8);
            entries.push(Entry {
                number: u32::from_be_bytes(number.try_into().map_err(|_| bad())?),
                plaintext_len: u64::from_be_bytes(len.try_into().map_err(|_| bad())?),
                header: header.try_into().map_err(|_| bad())?,
            });
            rest = tail;
        }
        Self::from_entries(chunk_size, entries)
    }

    /// The part at position `index` (0-based).
    pub fn part(&self, index: usize) -> Option<PartInfo> {
        let entry = self.entries.get(index)?;
        Some(PartInfo {
            number: entry.number,
            index,
            plaintext: self.plain[index]..self.plain[index + 1],
            stored: self.stored[index]..self.stored[index + 1],
        })
    }

    /// The part numbered `number` (GET or HEAD with `partNumber`).
    pub fn part_by_number(&self, number: u32) -> Option<PartInfo> {
        let index = self.entries.binary_search_by_key(&number, |e| e.number).ok()?;
        self.part(index)
    }

    /// Plans plaintext bytes `range` of the object: one contiguous run of the stored body, and how
    /// it divides among the parts (`docs/FORMAT.md` §5.5). Needs no key: the plan is only as
    /// trustworthy as the table, which [`ObjectKey::multipart`] checks.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is empty or reaches past the object.
    pub fn plan_range(&self, range: Range<u64>) -> Result<MultipartRangePlan> {
        if range.start >= range.end || range.end > self.plaintext_len {
            return Err(Error::InvalidRange);
        }
        let (first, last) = (self.part_of(range.start), self.part_of(range.end - 1));
        let mut pieces = Vec::with_capacity(last - first + 1);
        for index in first..=last {
            let part = self.part(index).ok_or(Error::InvalidRange)?;
            let start = range.start.max(part.plaintext.start) - part.plaintext.start;
            let end = range.end.min(part.plaintext.end) - part.plaintext.start;
            let stored = if index == first {
                // Neither the header (the table has it) nor the chunks before the range.
                let plan = self.chunk_size.plan_range(self.entries[index].plaintext_len, start..end)?;
                let end =
                    if index == last { plan.ciphertext.end } else { part.stored.end - part.stored.start };
                part.stored.start + plan.ciphertext.start..part.stored.start + end
            } else if index == last {
                let plan = self.chunk_size.plan_range(self.entries[index].plaintext_len, start..end)?;
                part.stored.start..part.stored.start + plan.ciphertext.end
            } else {
                part.stored.clone()
            };
            pieces.push(PartPiece { part, stored, plaintext: start..end });
        }
        let stored = pieces[0].stored.start..pieces[pieces.len() - 1].stored.end;
        Ok(MultipartRangePlan { stored, plaintext: range, pieces })
    }

    /// The part holding plaintext byte `at` (`at` < total length): the last whose offset is at
    /// most `at` (an empty part shares its offset with the next).
    fn part_of(&self, at: u64) -> usize {
        let count = self.entries.len();
        self.plain[..count].partition_point(|&start| start <= at).saturating_sub(1)
    }

    /// `SHA-256("s3crypt/v1 parts" ‖ 0x00 ‖ encoding)`, which the object's envelope binds.
    pub(crate) fn digest(&self) -> [u8; PARTS_DIGEST_LEN] {
        let mut sha = Sha256::new();
        sha.update(DIGEST_PREFIX);
        sha.update(self.to_bytes());
        sha.finalize().into()
    }
}

/// What CompleteMultipartUpload produces.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CompletedUpload {
    /// The object's envelope: store it as the object's metadata (or binary header).
    pub envelope: Envelope,
    /// The part table: store it beside the object; GET and HEAD check it against the envelope.
    pub table: PartTable,
}

impl Envelope {
    /// Opens a multipart upload's state (from [`Upload::create`]) with the mode's key: for
    /// UploadPart and CompleteMultipartUpload. For SSE-C this is the check that the request's
    /// customer key is the upload's ([`Error::WrongKey`] otherwise); a request whose headers name
    /// another mode gets [`Error::SchemeMismatch`], which [`Error::s3_response`] answers as S3.
    ///
    /// # Errors
    /// [`Error::EnvelopeKind`] if this is not an upload state; any error of [`Envelope::open`].
    pub fn open_upload(&self, encryptor: &dyn Encryptor, object: &ObjectId<'_>) -> Result<Upload> {
        if self.layout != Layout::Upload {
            return Err(Error::EnvelopeKind);
        }
        let payload = wrap::open(self, encryptor, object)?;
        Ok(Upload {
            key: payload.key,
            scheme: self.scheme,
            suite: self.suite,
            chunk_size: self.chunk_size,
            backend: Backend::default(),
            md5: false,
            checksum: None,
        })
    }

    /// CompleteMultipartUpload: opens this upload state with `encryptor` (the upload's key: for
    /// SSE-C the request's customer key, which must be the upload's), checks that each listed part
    /// is a stream of this upload under its part number, and seals the object's envelope, binding
    /// the part table's digest, the part count and the total length.
    ///
    /// # Errors
    /// As [`Envelope::open_upload`] and [`PartTable::new`]; [`Error::Authentication`] for a part
    /// that is not this upload's.
    pub fn complete_upload<R: TryCryptoRng + ?Sized>(
        &self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        parts: &[Part],
        rng: &mut R,
    ) -> Result<CompletedUpload> {
        self.complete_upload_with_checksum(encryptor, object, parts, None, rng)
    }

    /// [`Envelope::complete_upload`], sealing the object's flexible checksum into its envelope
    /// (for GET and HEAD with `x-amz-checksum-mode`; [`ObjectKey::checksum`] reads it back): the
    /// [`Checksum::full_object`] or [`Checksum::composite`] of the parts'
    /// [`SealedPart::checksum`]s.
    ///
    /// # Errors
    /// As [`Envelope::complete_upload`].
    pub fn complete_upload_with_checksum<R: TryCryptoRng + ?Sized>(
        &self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        parts: &[Part],
        checksum: Option<Checksum>,
        rng: &mut R,
    ) -> Result<CompletedUpload> {
        let upload = self.open_upload(encryptor, object)?;
        let table = PartTable::new(self.chunk_size, parts)?;
        for entry in &table.entries {
            let context = body_context(self.suite, self.chunk_size, entry.number);
            ChunkOpener::new(&upload.key, upload.params(), &context, &entry.header, entry.plaintext_len)?;
        }
        let body = BodyInfo {
            suite: self.suite,
            chunk_size: self.chunk_size,
            plaintext_len: table.plaintext_len,
            layout: Layout::Parts { count: table.part_count(), digest: table.digest() },
            body_header: None,
        };
        let payload = Payload { key: upload.key, md5: None, checksum };
        let envelope = wrap::seal(encryptor, object, body, &payload, rng)?;
        Ok(CompletedUpload { envelope, table })
    }
}

impl ObjectKey {
    /// A multipart object's body: checks `table` against the envelope (digest, part count and
    /// total length) and gives the sizes, range plans and openers.
    ///
    /// # Errors
    /// [`Error::EnvelopeKind`] for a single-part object; [`Error::Authentication`] if the table
    /// is not the one the object was completed with.
    pub fn multipart(&self, table: &PartTable) -> Result<MultipartBody> {
        let Layout::Parts { count, digest } = self.layout else {
            return Err(Error::EnvelopeKind);
        };
        let matches = table.part_count() == count
            && table.plaintext_len == self.plaintext_len
            && table.chunk_size == self.chunk_size
            && bool::from(ctutils::CtEq::ct_eq(&table.digest(), &digest));
        if !matches {
            return Err(Error::Authentication);
        }
        Ok(MultipartBody {
            inner: Arc::new(Inner {
                key: DataKey::from_bytes(*self.payload.key.expose_secret()),
                params: self.params(),
                suite: self.suite,
                table: table.clone(),
            }),
        })
    }
}

struct Inner {
    key: DataKey,
    params: StreamParams,
    suite: Suite,
    table: PartTable,
}

impl Inner {
    fn context(&self, index: usize) -> [u8; 23] {
        body_context(self.suite, self.params.chunk_size, self.table.entries[index].number)
    }

    fn part_len(&self, index: usize) -> u64 {
        self.table.entries[index].plaintext_len
    }
}

/// A verified multipart body (from [`ObjectKey::multipart`]): sizes, `partNumber` lookups, range
/// plans across parts, and openers. Cheap to clone.
#[derive(Clone)]
pub struct MultipartBody {
    inner: Arc<Inner>,
}

impl fmt::Debug for MultipartBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartBody").field("table", &self.inner.table).finish_non_exhaustive()
    }
}

/// Where one part lies, in plaintext and in the stored body (the parts' streams back to back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// The part number.
    pub number: u32,
    /// The part's position in the object (0-based).
    pub index: usize,
    /// The part's plaintext bytes within the object.
    pub plaintext: Range<u64>,
    /// The part's stream within the stored body.
    pub stored: Range<u64>,
}

/// One part's share of a [`MultipartRangePlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartPiece {
    /// Where the part lies.
    pub part: PartInfo,
    /// The stored bytes of this piece within the stored body.
    pub stored: Range<u64>,
    /// The plaintext bytes of the part this piece yields, relative to the part.
    pub plaintext: Range<u64>,
}

/// What to fetch to serve a plaintext range of a multipart object: one contiguous run of the
/// stored body, and how it divides among the parts. Only the first and last parts can be read
/// partly, each at most one partial chunk beyond the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartRangePlan {
    /// The stored bytes to fetch (offsets into the parts' streams back to back).
    pub stored: Range<u64>,
    /// The requested plaintext range.
    pub plaintext: Range<u64>,
    /// Each part the range touches, in order.
    pub pieces: Vec<PartPiece>,
}

/// An HTTP byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`), resolved against an object's length
/// as RFC 9110 and S3 do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`, both inclusive.
    FromTo(u64, u64),
    /// `bytes=first-`.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a `Range` header holding one byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`; ASCII
    /// digits only, white space around the spec allowed). `None` for anything else — several
    /// ranges, another unit, reversed bounds, malformed numbers — which S3, as RFC 9110 allows,
    /// ignores by sending the whole object.
    pub fn parse(value: &str) -> Option<Self> {
        let spec = value.trim().strip_prefix("bytes=")?;
        let (first, last) = spec.trim().split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        match (first.is_empty(), last.is_empty()) {
            (true, _) => number(last).map(Self::Suffix),
            (false, true) => number(first).map(Self::From),
            (false, false) => {
                let (first, last) = (number(first)?, number(last)?);
                (first <= last).then_some(Self::FromTo(first, last))
            }
        }
    }

    /// The half-open range this selects of an object of `len` bytes: a `last` beyond the end is
    /// clamped, a suffix longer than the object is the whole object.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] (S3's 416) if nothing of the object is selected.
    pub fn resolve(self, len: u64) -> Result<Range<u64>> {
        let range = match self {
            Self::FromTo(first, last) if first <= last => first..last.saturating_add(1).min(len),
            Self::FromTo(..) => return Err(Error::InvalidRange),
            Self::From(first) => first..len,
            Self::Suffix(n) => len.saturating_sub(n)..len,
        };
        if range.start >= range.end { Err(Error::InvalidRange) } else { Ok(range) }
    }
}

impl MultipartBody {
    /// The object's plaintext length.
    pub fn plaintext_len(&self) -> u64 {
        self.inner.table.plaintext_len
    }

    /// The stored body's length.
    pub fn stored_len(&self) -> u64 {
        self.inner.table.stored_len
    }

    /// The number of parts.
    pub fn part_count(&self) -> u32 {
        self.inner.table.part_count()
    }

    /// The same body opened with another AES-GCM backend.
    #[must_use]
    pub fn with_backend(self, backend: Backend) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                key: DataKey::from_bytes(*inner.key.expose_secret()),
                params: inner.params.with_backend(backend),
                suite: inner.suite,
                table: inner.table.clone(),
            }),
        }
    }

    /// The part at position `index` (0-based).
    pub fn part(&self, index: usize) -> Option<PartInfo> {
        self.inner.table.part(index)
    }

    /// The part numbered `number` (GET or HEAD with `partNumber`).
    pub fn part_by_number(&self, number: u32) -> Option<PartInfo> {
        self.inner.table.part_by_number(number)
    }

    /// GetObjectAttributes: opens the sealed attributes kept for part `number`
    /// ([`SealedPart::sealed_attributes`]), checked against the part the table (bound to the
    /// envelope) records — so attributes of another part, of an older upload of this part, or of
    /// another object do not open.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] if the object has no such part; [`Error::Authentication`] as
    /// [`Upload::open_part_attributes`].
    pub fn part_attributes(&self, number: u32, sealed: &[u8]) -> Result<PartAttributes> {
        let info = self.part_by_number(number).ok_or(Error::InvalidPart)?;
        let entry = &self.inner.table.entries[info.index];
        let part = Part { number, header: entry.header, stored_len: info.stored.end - info.stored.start };
        open_attributes(&self.inner.key, &part, sealed)
    }

    /// Plans plaintext bytes `range` of the object; see [`PartTable::plan_range`].
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is empty or reaches past the object.
    pub fn plan_range(&self, range: Range<u64>) -> Result<MultipartRangePlan> {
        self.inner.table.plan_range(range)
    }

    /// An opener for the whole stored body (every part's stream, back to back), in constant
    /// memory: every chunk of every part is authenticated, each part's header must be the table's,
    /// and the body must end exactly after the last part.
    pub fn opener(&self) -> MultipartOpener {
        let count = self.inner.table.entries.len();
        MultipartOpener::new(self.inner.clone(), 0..count, None)
    }

    /// An opener for part `number` alone (GET with `partNumber`): feed it the part's stored bytes
    /// ([`PartInfo::stored`]).
    ///
    /// # Errors
    /// [`Error::InvalidPart`] if the object has no such part.
    pub fn part_opener(&self, number: u32) -> Result<MultipartOpener> {
        let part = self.part_by_number(number).ok_or(Error::InvalidPart)?;
        Ok(MultipartOpener::new(self.inner.clone(), part.index..part.index + 1, None))
    }

    /// An opener for plaintext bytes `range`: feed it the stored bytes of the returned
    /// opener's [`MultipartOpener::stored_range`], and it appends exactly the range.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is empty or reaches past the object.
    pub fn range_opener(&self, range: Range<u64>) -> Result<MultipartOpener> {
        let plan = self.plan_range(range)?;
        let first = plan.pieces[0].part.index;
        let last = plan.pieces[plan.pieces.len() - 1].part.index;
        Ok(MultipartOpener::new(self.inner.clone(), first..last + 1, Some(plan)))
    }
}

/// How the current part is being opened.
enum Mode {
    /// The whole stream, header included (the header is also compared with the table's).
    Whole { opener: Opener, emitted: u64 },
    /// Only the chunks of a range; then, if the part goes on, its empty final chunk.
    Range { opener: RangeOpener, chunks_end: u64, tail: Vec<u8> },
}

struct Current {
    index: usize,
    /// Offset in the part's stream of the next byte to arrive.
    offset: u64,
    /// Offset in the part's stream at which this part's input ends.
    end: u64,
    mode: Mode,
}

/// Opens a multipart body, or a range or part of it, pushed in pieces of any size; appends only
/// authenticated plaintext. Built by [`MultipartBody::opener`], [`MultipartBody::part_opener`] and
/// [`MultipartBody::range_opener`]. After the first error every call fails again.
pub struct MultipartOpener {
    inner: Arc<Inner>,
    parts: Range<usize>,
    plan: Option<MultipartRangePlan>,
    current: Option<Current>,
    stored: Range<u64>,
    failed: Option<Error>,
}

impl fmt::Debug for MultipartOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartOpener")
            .field("parts", &self.parts)
            .field("stored", &self.stored)
            .finish_non_exhaustive()
    }
}

impl MultipartOpener {
    fn new(inner: Arc<Inner>, parts: Range<usize>, plan: Option<MultipartRangePlan>) -> Self {
        let stored = match &plan {
            Some(plan) => plan.stored.clone(),
            None => inner.table.stored[parts.start]..inner.table.stored[parts.end],
        };
        Self { inner, parts, plan, current: None, stored, failed: None }
    }

    /// The stored bytes to feed, as offsets into the stored body.
    pub fn stored_range(&self) -> Range<u64> {
        self.stored.clone()
    }

    /// Starts the next part.
    fn start(&mut self, index: usize) -> Result<Current> {
        let inner = &self.inner;
        let part_stored = inner.table.stored[index]..inner.table.stored[index + 1];
        let full_end = part_stored.end - part_stored.start;
        // The plan's pieces are the parts from its first, in order.
        let piece =
            self.plan.as_ref().and_then(|p| p.pieces.get(index.checked_sub(p.pieces.first()?.part.index)?));
        match piece {
            // A part read partly: the first or last of a range.
            Some(piece) if piece.stored != part_stored || piece.plaintext != (0..inner.part_len(index)) => {
                let entry = &inner.table.entries[index];
                let chunks = ChunkOpener::new(
                    &inner.key,
                    inner.params,
                    &inner.context(index),
                    &entry.header,
                    entry.plaintext_len,
                )?;
                let opener = chunks.open_range(piece.plaintext.clone())?;
                let chunks_end = opener.plan().ciphertext.end;
                let offset = piece.stored.start - part_stored.start;
                let end = piece.stored.end - part_stored.start;
                Ok(Current { index, offset, end, mode: Mode::Range { opener, chunks_end, tail: Vec::new() } })
            }
            _ => {
                let opener = Opener::new(&inner.key, inner.params, &inner.context(index))
                    .with_expected_len(inner.part_len(index));
                Ok(Current { index, offset: 0, end: full_end, mode: Mode::Whole { opener, emitted: 0 } })
            }
        }
    }

    /// Consumes stored bytes, appending the plaintext of every chunk they complete and authenticate.
    ///
    /// # Errors
    /// [`Error::Authentication`] if a part's header is not the table's or a chunk does not
    /// authenticate; [`Error::TrailingData`] past the planned bytes; then the same error again.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        let mut failed = self.failed.take();
        let result = sticky(&mut failed, || self.consume(input, out));
        self.failed = failed;
        result
    }

    fn consume<B: OutputBuffer + ?Sized>(&mut self, mut input: &[u8], out: &mut B) -> Result<()> {
        while !input.is_empty() {
            let mut current = match self.current.take() {
                Some(current) => current,
                None if self.parts.is_empty() => return Err(Error::TrailingData),
                None => {
                    let index = self.parts.start;
                    self.parts.start += 1;
                    self.start(index)?
                }
            };
            let room = usize::try_from(current.end - current.offset).unwrap_or(usize::MAX);
            let (piece, rest) = input.split_at(room.min(input.len()));
            input = rest;
            self.feed(&mut current, piece, out)?;
            if current.offset == current.end {
                self.end_part(current, out)?;
            } else {
                self.current = Some(current);
            }
        }
        Ok(())
    }

    fn feed<B: OutputBuffer + ?Sized>(&self, current: &mut Current, piece: &[u8], out: &mut B) -> Result<()> {
        let header = &self.inner.table.entries[current.index].header;
        // Bytes of the stream header must be the table's: an older upload of the same part has a
        // valid header of its own, and only this comparison tells them apart.
        let at = usize::try_from(current.offset).unwrap_or(usize::MAX);
        if at < HEADER_LEN {
            let n = piece.len().min(HEADER_LEN - at);
            if piece[..n] != header[at..at + n] {
                return Err(Error::Authentication);
            }
        }
        match &mut current.mode {
            Mode::Whole { opener, emitted } => {
                let before = out.len();
                opener.update(piece, out)?;
                *emitted += (out.len() - before) as u64;
            }
            Mode::Range { opener, chunks_end, tail } => {
                let skip = usize::try_from((HEADER_LEN as u64).saturating_sub(current.offset)).unwrap_or(0);
                let piece_end = current.offset + piece.len() as u64;
                let in_chunks =
                    usize::try_from(chunks_end.saturating_sub(current.offset)).unwrap_or(usize::MAX);
                let chunk_bytes =
                    piece.get(skip.min(piece.len())..in_chunks.min(piece.len())).unwrap_or_default();
                opener.update(chunk_bytes, out)?;
                if piece_end > *chunks_end {
                    let from = in_chunks.min(piece.len());
                    tail.extend_from_slice(&piece[from..]);
                }
            }
        }
        current.offset += piece.len() as u64;
        Ok(())
    }

    fn end_part<B: OutputBuffer + ?Sized>(&self, current: Current, out: &mut B) -> Result<()> {
        let expected = self.inner.part_len(current.index);
        match current.mode {
            Mode::Whole { opener, emitted } => {
                let before = out.len();
                opener.finish(out)?;
                if emitted + (out.len() - before) as u64 != expected {
                    return Err(Error::Authentication);
                }
            }
            Mode::Range { opener, mut tail, .. } => {
                let last = expected >> self.inner.params.chunk_size.log2();
                let plan_last = {
                    let plan: &RangePlan = opener.plan();
                    plan.first_chunk + plan.chunk_count - 1
                };
                if tail.is_empty() {
                    return opener.finish();
                }
                // Every planned byte arrived (the tail comes after them), so every planned chunk
                // was opened.
                // The part goes on past the range: its empty final chunk, a tag alone.
                if tail.len() != TAG_LEN || plan_last + 1 != last {
                    return Err(Error::Truncated);
                }
                opener.into_inner().open_chunk_in_place(last, &mut tail)?;
            }
        }
        Ok(())
    }

    /// Checks that every planned byte arrived and authenticated.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the input stopped early; any error an earlier call returned.
    pub fn finish(self) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.current.is_some() || !self.parts.is_empty() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
}

/// Where an UploadPartCopy reads from: an opener over the source object's bytes (any mode,
/// single-part or multipart), built by the gateway for the copy-source range.
///
/// - a single-part source, whole: [`ObjectKey::opener`];
/// - a single-part source, a range: [`ObjectKey::chunk_opener`] then [`ChunkOpener::open_range`];
/// - a multipart source: [`MultipartBody::opener`], [`MultipartBody::part_opener`] or
///   [`MultipartBody::range_opener`].
// One source per copy: the variants' size difference costs nothing worth an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum CopySource {
    /// A whole single-part body.
    Whole(Opener),
    /// A range of a single-part body.
    Range(RangeOpener),
    /// A multipart body, or a part or range of it.
    Multipart(MultipartOpener),
}

impl From<Opener> for CopySource {
    fn from(opener: Opener) -> Self {
        Self::Whole(opener)
    }
}

impl From<RangeOpener> for CopySource {
    fn from(opener: RangeOpener) -> Self {
        Self::Range(opener)
    }
}

impl From<MultipartOpener> for CopySource {
    fn from(opener: MultipartOpener) -> Self {
        Self::Multipart(opener)
    }
}

/// UploadPartCopy: opens the source's stored bytes (only the chunks its range needs) and seals the
/// authenticated plaintext as a new part, in one pass and constant memory. Built by
/// [`Upload::copy_part`]. If any call fails, discard the part written so far.
pub struct PartCopier {
    source: CopySource,
    part: PartSealer,
    plain: zeroize::Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PartCopier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartCopier").field("source", &self.source).field("part", &self.part).finish()
    }
}

impl Upload {
    /// UploadPartCopy into part `number` (1 to 10,000) from `source`, with a fresh salt.
    ///
    /// # Errors
    /// As [`Upload::part_sealer`].
    pub fn copy_part<R: TryCryptoRng + ?Sized>(
        &self,
        number: u32,
        source: impl Into<CopySource>,
        rng: &mut R,
    ) -> Result<PartCopier> {
        Ok(PartCopier {
            source: source.into(),
            part: self.part_sealer(number, rng)?,
            plain: zeroize::Zeroizing::new(Vec::new()),
        })
    }
}

impl PartCopier {
    /// The source's stored bytes to fetch, for a multipart or ranged source.
    pub fn source_range(&self) -> Option<Range<u64>> {
        match &self.source {
            CopySource::Whole(_) => None,
            CopySource::Range(r) => Some(r.plan().ciphertext.clone()),
            CopySource::Multipart(m) => Some(m.stored_range()),
        }
    }

    /// Consumes the source's stored bytes, appending the new part's ciphertext to `out`.
    ///
    /// # Errors
    /// Any error of the source's opener ([`Error::Authentication`] for a damaged source) or of
    /// sealing the part.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, source: &[u8], out: &mut B) -> Result<()> {
        self.plain.clear();
        match &mut self.source {
            CopySource::Whole(o) => o.update(source, &mut *self.plain)?,
            CopySource::Range(o) => o.update(source, &mut *self.plain)?,
            CopySource::Multipart(o) => o.update(source, &mut *self.plain)?,
        }
        self.part.update(&self.plain, out)
    }

    /// Checks that the source ended where it must and finishes the part.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the source stopped early; as [`PartSealer::finish`].
    pub fn finish<B: OutputBuffer + ?Sized>(self, out: &mut B) -> Result<SealedPart> {
        let Self { source, mut part, mut plain } = self;
        plain.clear();
        match source {
            CopySource::Whole(o) => o.finish(&mut *plain)?,
            CopySource::Range(o) => o.finish()?,
            CopySource::Multipart(o) => o.finish()?,
        }
        part.update(&plain, out)?;
        part.finish(out)
    }
}
