//! Objects: sealing a new object's body and envelope, opening an envelope back to its body, and
//! re-sealing an envelope for a copy, a rename or a key rotation without touching the body.

pub(crate) mod attributes;
mod client;
mod client_parts;
mod multipart;

pub use client::{ClientBodySealer, ClientSealer};
pub(crate) use client::{check_client_envelope, check_client_key, check_client_scheme};

pub use attributes::{Checksum, ChecksumAlgorithm};
pub use client_parts::{PARTS_COMPANION_SUFFIX, PartsCompanion, parts_companion_key};

pub use multipart::{
    ByteRange, CompletedUpload, CopySource, ETag, MultipartBody, MultipartOpener, MultipartRangePlan, Part,
    PartAttributes, PartCopier, PartInfo, PartPiece, PartSealer, PartTable, SealedPart, Upload,
};

use crate::buffer::OutputBuffer;
use crate::envelope::{Envelope, Layout, ObjectId, Suite};
use crate::error::Result;
use crate::keys::DataKey;
use crate::stream::{Backend, ChunkOpener, ChunkSize, Opener, Sealer, StreamParams};
use crate::wrap::{self, BodyInfo, Encryptor, Payload};
use ctutils::CtEq;
use md5::{Digest, Md5};
use rand_core::TryCryptoRng;

/// Part number of a single-part object's body (multipart parts are numbered from 1).
const SINGLE_PART: u32 = 0;

/// The context a body stream is derived with: everything that changes how the body decrypts.
///
/// `"s3crypt/v1 body" ‖ 0x00 ‖ suite ‖ log2(chunk size) ‖ BE32(part number)`
pub(crate) fn body_context(suite: Suite, chunk_size: ChunkSize, part: u32) -> [u8; 23] {
    let mut ctx = [0u8; 23];
    ctx[..16].copy_from_slice(b"s3crypt/v1 body\0");
    ctx[16] = suite.code();
    ctx[17] = chunk_size.log2();
    ctx[18..22].copy_from_slice(&part.to_be_bytes());
    ctx[22] = 0; // reserved, zero
    ctx
}

/// With the `parallel` feature, pieces this long passed to [`ObjectSealer::update`] have their MD5
/// computed on another core while they are sealed. Below it the wake-up of a worker (18–90 µs on
/// the 2-vCPU machine of the README's tables) would cost more than it saves: 256 KiB is about
/// 400 µs of MD5.
#[cfg(feature = "parallel")]
pub const MD5_BESIDE_MIN: usize = 256 << 10;

/// Options for sealing a new object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SealOptions {
    /// The body's chunk size; 16 KiB (C2SP) by default.
    pub chunk_size: ChunkSize,
    /// The AES-GCM backend for the body (not recorded: every backend writes the same bytes).
    pub backend: Backend,
    /// Compute the plaintext's MD5 in the same pass and seal it into the envelope (S3 returns it
    /// as the ETag of single-part SSE-S3 objects). Off by default: MD5 runs at roughly a third of
    /// AES-GCM's speed, so it dominates the cost of sealing (see the README's table).
    pub md5: bool,
    /// Compute this S3 flexible checksum of the plaintext in the same pass and seal it into the
    /// envelope ([`ObjectKey::checksum`] reads it back; for a multipart upload, each part's is
    /// returned by [`SealedPart::checksum`]). Off by default.
    pub checksum: Option<ChecksumAlgorithm>,
}

impl SealOptions {
    /// The body stream's parameters and derivation context for a single-part object.
    fn body(&self) -> (StreamParams, [u8; 23]) {
        let params = StreamParams { chunk_size: self.chunk_size, backend: self.backend };
        (params, body_context(Suite::default(), self.chunk_size, SINGLE_PART))
    }
}

/// Seals a new object: a fresh data key, the streaming body, and at the end the envelope.
///
/// ```
/// use s3crypt::{Envelope, Keyring, ObjectId, ObjectSealer, OsRng, RootKey, SealOptions};
///
/// let keyring = Keyring::new("root-1", 1, RootKey::generate(&mut OsRng)?)?;
/// let object = ObjectId::new("photos", "2026/cat.jpg");
///
/// let mut sealer = ObjectSealer::new(SealOptions::default(), &mut OsRng)?;
/// let mut body = Vec::new();
/// sealer.update(b"meow", &mut body)?;
/// let envelope = sealer.finish(&mut body, &keyring, &object, &mut OsRng)?;
/// let metadata = envelope.to_metadata(); // store beside the body
///
/// let envelope = Envelope::from_metadata(metadata)?;
/// let key = envelope.open(&keyring, &object)?;
/// let mut plain = Vec::new();
/// let mut opener = key.opener();
/// opener.update(&body, &mut plain)?;
/// opener.finish(&mut plain)?;
/// assert_eq!(plain, b"meow");
/// # Ok::<(), s3crypt::Error>(())
/// ```
pub struct ObjectSealer {
    key: DataKey,
    body: Sealer,
    chunk_size: ChunkSize,
    md5: Option<Md5>,
    checksum: Option<attributes::ChecksumState>,
}

impl core::fmt::Debug for ObjectSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ObjectSealer").field("body", &self.body).finish_non_exhaustive()
    }
}

impl ObjectSealer {
    /// Starts a new object with a fresh data key drawn from `rng`.
    ///
    /// # Errors
    /// [`crate::Error::Rng`] if the generator fails.
    pub fn new<R: TryCryptoRng + ?Sized>(options: SealOptions, rng: &mut R) -> Result<Self> {
        let key = DataKey::generate(rng)?;
        let (params, context) = options.body();
        let body = Sealer::new(&key, params, &context, rng)?;
        Ok(Self {
            key,
            body,
            chunk_size: options.chunk_size,
            md5: options.md5.then(Md5::new),
            checksum: options.checksum.map(attributes::ChecksumState::new),
        })
    }

    /// Encrypts the next piece of the body, appending ciphertext to `out`; see [`Sealer::update`].
    ///
    /// # Errors
    /// [`crate::Error::TooLong`] past the format's maximum length.
    ///
    /// With the `parallel` feature, a piece of at least [`MD5_BESIDE_MIN`] bytes has its MD5
    /// computed on one of rayon's workers while this thread seals it, so that sealing with
    /// `md5: true` costs the slower of the two rather than their sum.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        if let Some(checksum) = &mut self.checksum {
            checksum.update(input);
        }
        let Some(md5) = &mut self.md5 else {
            return self.body.update(input, out);
        };
        #[cfg(feature = "parallel")]
        if input.len() >= MD5_BESIDE_MIN {
            let body = &mut self.body;
            // Whoever takes the hasher first hashes: a worker, while this thread seals, or this
            // thread itself once it has sealed, if no worker has started yet (a busy machine), so
            // that it never sits idle waiting for one to be scheduled and do the whole MD5.
            let hasher = std::sync::Mutex::new(Some(md5));
            let hash = || {
                let taken = hasher.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                if let Some(md5) = taken {
                    md5.update(input);
                }
            };
            // `in_place_scope` keeps the sealing on this thread (so `out` need not be `Send`) and
            // returns once the spawned job has run.
            return rayon::in_place_scope(|scope| {
                scope.spawn(|_| hash());
                let sealed = body.update(input, out);
                hash();
                sealed
            });
        }
        md5.update(input);
        self.body.update(input, out)
    }

    /// Finishes the body and seals the envelope for `object` under `encryptor`'s key.
    ///
    /// # Errors
    /// Whatever the encryptor reports (no usable key, an invalid key id), or [`crate::Error::Rng`].
    pub fn finish<B: OutputBuffer + ?Sized, R: TryCryptoRng + ?Sized>(
        self,
        out: &mut B,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<Envelope> {
        self.finish_with_etag(out, encryptor, object, rng).map(|(envelope, _)| envelope)
    }

    /// [`ObjectSealer::finish`], also returning the object's S3 ETag, which a gateway stores
    /// beside the envelope to answer LIST and HEAD without a key: under SSE-S3 with `md5` on, the
    /// plaintext MD5 (as S3; S3 exposes it, so it is no secret there); otherwise a value derived
    /// from the data key that is neither an MD5 of the data nor checkable without the key (see
    /// [`ETag`]).
    ///
    /// # Errors
    /// As [`ObjectSealer::finish`].
    pub fn finish_with_etag<B: OutputBuffer + ?Sized, R: TryCryptoRng + ?Sized>(
        self,
        out: &mut B,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<(Envelope, ETag)> {
        let plaintext_len = self.body.plaintext_len();
        let body = BodyInfo {
            suite: Suite::default(),
            chunk_size: self.chunk_size,
            plaintext_len,
            layout: Layout::Single,
            body_header: None,
        };
        let payload = Payload {
            key: self.key,
            md5: self.md5.map(|m| m.finalize().into()),
            checksum: self.checksum.map(attributes::ChecksumState::finish),
        };
        // The envelope first: if the mode cannot seal, the final chunk is not written either.
        let envelope = wrap::seal(encryptor, object, body, &payload, rng)?;
        let etag = multipart::etag(&payload.key, envelope.scheme, SINGLE_PART, payload.md5.as_ref(), &[])?;
        self.body.finish(out)?;
        Ok((envelope, etag))
    }
}

/// An opened envelope: the object's data key and what the envelope sealed with it.
///
/// From here the body opens as a stream ([`ObjectKey::opener`]) or by ranges
/// ([`ObjectKey::chunk_opener`]).
pub struct ObjectKey {
    payload: Payload,
    suite: Suite,
    chunk_size: ChunkSize,
    plaintext_len: u64,
    layout: Layout,
    backend: Backend,
    /// A client-side single-part object's body header, as its (now authenticated) envelope records it.
    body_header: Option<[u8; crate::HEADER_LEN]>,
}

impl core::fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ObjectKey")
            .field("chunk_size", &self.chunk_size)
            .field("plaintext_len", &self.plaintext_len)
            .finish_non_exhaustive()
    }
}

impl ObjectKey {
    /// The same key, opening the body with `backend` rather than [`Backend::default`] (as
    /// [`SealOptions::backend`] picks the sealing one; every backend reads the same bytes).
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The AES-GCM backend the body is opened with.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn params(&self) -> StreamParams {
        StreamParams { chunk_size: self.chunk_size, backend: self.backend }
    }

    /// A streaming opener for the whole body of a single-part object. (A multipart object's body
    /// does not open with it: use [`ObjectKey::multipart`].)
    ///
    /// It requires the body to hold exactly the envelope's authenticated plaintext length: a body
    /// sealed under the same data key with another length (a longer or shorter stream, or trailing
    /// parts dropped) fails — [`crate::Error::TrailingData`] as soon as a chunk reaches past the
    /// length, [`crate::Error::Truncated`] at [`Opener::finish`] for a short one.
    ///
    /// For a client-side object, whose envelope records the body's header (field 18), the body must
    /// also start with exactly that header (compared in constant time): a body sealed under the same
    /// data key with another salt — which only the object's writer could produce, e.g. by sealing
    /// twice for one envelope — fails with [`crate::Error::Authentication`] at its first 56 bytes.
    pub fn opener(&self) -> Opener {
        Opener::new(&self.payload.key, self.params(), &self.context())
            .with_expected_len(self.plaintext_len)
            .with_expected_header(self.body_header)
    }

    /// A random-access opener, from the body's first [`crate::HEADER_LEN`] bytes: for HTTP ranges.
    ///
    /// For a client-side object, whose envelope records the body's header, `body_header` must be
    /// that header ([`ObjectKey::body_header`] returns it, so no body bytes need to be fetched).
    ///
    /// # Errors
    /// [`crate::Error::Authentication`] if the header does not belong to this object's body (for a
    /// client-side object: differs from its envelope's);
    /// [`crate::Error::EnvelopeKind`] for a multipart object (see [`ObjectKey::multipart`]).
    pub fn chunk_opener(&self, body_header: &[u8]) -> Result<ChunkOpener> {
        if self.layout != Layout::Single {
            return Err(crate::Error::EnvelopeKind);
        }
        if self.body_header.is_some_and(|recorded| !bool::from(recorded.as_slice().ct_eq(body_header))) {
            return Err(crate::Error::Authentication);
        }
        ChunkOpener::new(&self.payload.key, self.params(), &self.context(), body_header, self.plaintext_len)
    }

    /// A client-side single-part object's body header, from its authenticated envelope: what
    /// [`ObjectKey::chunk_opener`] needs, without reading the body's first bytes.
    pub fn body_header(&self) -> Option<&[u8; crate::HEADER_LEN]> {
        self.body_header.as_ref()
    }

    /// The plaintext length, authenticated: the envelope opened under its key. This is the value
    /// to answer a HEAD's `Content-Length` with.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// The stored length of the body (header and tags included) the authenticated plaintext length
    /// implies: what a body must measure before it is worth fetching.
    ///
    /// # Errors
    /// [`crate::Error::EnvelopeKind`] for a multipart object (its body's length is
    /// [`MultipartBody::stored_len`]); [`crate::Error::TooLong`] never, for an envelope that opened.
    pub fn body_len(&self) -> Result<u64> {
        if self.layout != Layout::Single {
            return Err(crate::Error::EnvelopeKind);
        }
        self.chunk_size.ciphertext_len(self.plaintext_len)
    }

    /// The plaintext MD5, if it was computed when the object was sealed.
    pub fn plaintext_md5(&self) -> Option<[u8; 16]> {
        self.payload.md5
    }

    /// The plaintext's S3 flexible checksum, if one was computed when the object was sealed
    /// (GET and HEAD with `x-amz-checksum-mode: ENABLED` return it).
    pub fn checksum(&self) -> Option<Checksum> {
        self.payload.checksum
    }

    fn context(&self) -> [u8; 23] {
        body_context(self.suite, self.chunk_size, SINGLE_PART)
    }
}

impl Envelope {
    /// Opens the envelope of `object` with `encryptor`, giving back the object's key.
    ///
    /// # Errors
    /// [`crate::Error::SchemeMismatch`] if the object uses another scheme;
    /// [`crate::Error::UnknownKey`] if the encryptor lacks the key it was sealed under;
    /// [`crate::Error::WrongKey`] if the key presented is not that key;
    /// [`crate::Error::Authentication`] if the envelope was modified or belongs to another object;
    /// [`crate::Error::EnvelopeKind`] for a multipart upload's state (see [`Envelope::open_upload`]).
    pub fn open(&self, encryptor: &dyn Encryptor, object: &ObjectId<'_>) -> Result<ObjectKey> {
        if self.layout == Layout::Upload {
            return Err(crate::Error::EnvelopeKind);
        }
        let payload = wrap::open(self, encryptor, object)?;
        Ok(ObjectKey {
            payload,
            suite: self.suite,
            chunk_size: self.chunk_size,
            plaintext_len: self.plaintext_len,
            layout: self.layout,
            backend: Backend::default(),
            body_header: self.body_header,
        })
    }

    /// Re-seals the envelope: opens it as `from` sees it and seals the same data key for `to`.
    ///
    /// This is copy, rename, key rotation and conversion between schemes in one operation: the body
    /// is not touched, so a 5 TiB object moves or changes keys by rewriting its envelope.
    ///
    /// # Errors
    /// Any error of [`Envelope::open`] with `from`, or of sealing with `to`.
    pub fn reseal<R: TryCryptoRng + ?Sized>(
        &self,
        from: (&dyn Encryptor, &ObjectId<'_>),
        to: (&dyn Encryptor, &ObjectId<'_>),
        rng: &mut R,
    ) -> Result<Envelope> {
        let payload = wrap::open(self, from.0, from.1)?;
        wrap::seal(to.0, to.1, BodyInfo::of(self), &payload, rng)
    }
}

#[cfg(feature = "parallel")]
impl ObjectSealer {
    /// Seals a whole in-memory object (a multipart part, a small object) on rayon's thread pool:
    /// a fresh data key, the body sealed in parallel (byte-identical to the streaming path), the
    /// plaintext MD5 if asked for (computed beside the encryption), and the envelope.
    ///
    /// # Errors
    /// As [`ObjectSealer::new`] and [`ObjectSealer::finish`].
    pub fn seal_parallel<R: TryCryptoRng + ?Sized>(
        options: SealOptions,
        plaintext: &[u8],
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<(Envelope, Vec<u8>)> {
        let key = DataKey::generate(rng)?;
        let (params, context) = options.body();
        let (keys, header) = crate::stream::seal::begin(&key, params, &context, rng)?;
        let ((md5, checksum), body) = rayon::join(
            || {
                let md5 = options.md5.then(|| Md5::digest(plaintext).into());
                (md5, options.checksum.map(|a| Checksum::compute(a, plaintext)))
            },
            || crate::stream::parallel::seal_with(&keys, &header, params, plaintext),
        );
        let body = body?;
        let info = BodyInfo {
            suite: Suite::default(),
            chunk_size: options.chunk_size,
            plaintext_len: plaintext.len() as u64,
            layout: Layout::Single,
            body_header: None,
        };
        let envelope = wrap::seal(encryptor, object, info, &Payload { key, md5, checksum }, rng)?;
        Ok((envelope, body))
    }
}

#[cfg(feature = "parallel")]
impl ObjectKey {
    /// Opens a whole stored body on rayon's thread pool; nothing is returned unless every chunk
    /// authenticates.
    ///
    /// # Errors
    /// As [`crate::open`]; [`crate::Error::EnvelopeKind`] for a multipart object.
    pub fn open_parallel(&self, body: &[u8]) -> Result<Vec<u8>> {
        if self.layout != Layout::Single {
            return Err(crate::Error::EnvelopeKind);
        }
        // The body must be as long as the envelope's authenticated length says, before any chunk
        // is opened (as [`ObjectKey::opener`] requires).
        let expected = self.body_len()?;
        let len = body.len() as u64;
        if len < expected {
            return Err(crate::Error::Truncated);
        }
        if len > expected {
            return Err(crate::Error::TrailingData);
        }
        // A client-side body must start with the header its envelope records (as the streaming
        // opener requires).
        if let Some(recorded) = &self.body_header {
            let stored = body.get(..crate::HEADER_LEN).ok_or(crate::Error::Truncated)?;
            if !bool::from(recorded.as_slice().ct_eq(stored)) {
                return Err(crate::Error::Authentication);
            }
        }
        crate::stream::open_parallel(&self.payload.key, self.params(), &self.context(), body)
    }
}
