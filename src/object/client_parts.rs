//! Client-side multipart objects: the part list in a *companion object*.
//!
//! A gateway seals a multipart object's completed envelope into the object's metadata at
//! CompleteMultipartUpload. A client cannot: S3 fixes an object's user metadata at
//! CreateMultipartUpload, before any part exists, so the object carries the *upload state*
//! ([`crate::Upload::create`]: the wrapped data key, no part list) for good. The completed envelope
//! (fields 15 and 16, `docs/FORMAT.md` §5.4) and the part table (§5.3) therefore travel in a small
//! companion object, `<key>` + [`PARTS_COMPANION_SUFFIX`], which the client writes after the parts
//! and before CompleteMultipartUpload. A reader authenticates the pair: the companion must name the
//! upload the object's metadata names, open to the same data key under the same wrapping key and for
//! the same object, and its table must hash to the completed envelope's digest (FORMAT.md §9).
//!
//! ```
//! use s3crypt::{
//!     ClientKeyring, EncryptionContext, ObjectId, OsRng, PartsCompanion, RootKey, SealOptions, Upload,
//! };
//!
//! let key = RootKey::generate(&mut OsRng)?;
//! let ring = ClientKeyring::new("client-1", 1, key, EncryptionContext::new())?;
//! let object = ObjectId::new("bucket", "video.mp4");
//! // CreateMultipartUpload: the state is the object's metadata from now on.
//! let (upload, state) = Upload::create(SealOptions::default(), &ring, &object, &mut OsRng)?;
//! // UploadPart (any order, any thread, any part again).
//! let mut body = Vec::new();
//! let mut sealer = upload.part_sealer(1, &mut OsRng)?;
//! sealer.update(b"hello, parts", &mut body)?;
//! let part = sealer.finish(&mut body)?;
//! // Before CompleteMultipartUpload: PUT the companion.
//! let companion = state.complete_client_upload(&ring, &object, &[*part.part()], None, &mut OsRng)?;
//! let stored = companion.to_bytes();
//!
//! // GET: the object's metadata (still the upload state) and the companion.
//! let companion = PartsCompanion::from_bytes(&stored)?;
//! let parts = state.open_client_multipart(&ring, &object, &companion)?;
//! let mut plain = Vec::new();
//! let mut opener = parts.opener();
//! opener.update(&body, &mut plain)?;
//! opener.finish()?;
//! assert_eq!(plain, b"hello, parts");
//! # Ok::<(), s3crypt::Error>(())
//! ```

use super::Checksum;
use super::multipart::{CompletedUpload, MultipartBody, Part, PartTable};
use crate::envelope::{Envelope, FormatError, Layout, ObjectId, SALT_LEN, Scheme};
use crate::error::{Error, Result};
use crate::wrap::{self, Encryptor, WrappingKey};
use core::fmt;
use rand_core::TryCryptoRng;

/// What the companion object's name adds to the object's key: the companion of `photos/a.bin` is
/// `photos/a.bin.s3crypt-parts` (FORMAT.md §9.1).
pub const PARTS_COMPANION_SUFFIX: &str = ".s3crypt-parts";

/// First bytes of an encoded companion.
const MAGIC: [u8; 4] = *b"S3CM";
/// Companion format version.
const VERSION: u8 = 1;
/// `magic ‖ version ‖ upload (the state's salt) ‖ BE16(len(envelope))`.
const HEAD: usize = 4 + 1 + SALT_LEN + 2;
/// The longest binary envelope (FORMAT.md §2.1).
const ENVELOPE_MAX: usize = 4096;
/// The longest part table: `10 + 68 · 10,000` bytes (FORMAT.md §5.3).
const TABLE_MAX: usize = 10 + 68 * crate::envelope::MAX_PARTS as usize;
/// The longest companion; checked before anything is parsed.
pub(crate) const COMPANION_MAX: usize = HEAD + ENVELOPE_MAX + TABLE_MAX;

/// The companion object's key for an object key: `key ‖ ".s3crypt-parts"`, as raw bytes.
pub fn parts_companion_key(key: &[u8]) -> Vec<u8> {
    [key, PARTS_COMPANION_SUFFIX.as_bytes()].concat()
}

/// The companion object of a client-side multipart object: the completed envelope and the part
/// table, bound to one upload of one object (`docs/FORMAT.md` §9). Public data — lengths, random
/// salts, commitments and a wrapped key — so it is stored in the clear.
///
/// Written by [`Envelope::complete_client_upload`]; checked against the object's metadata by
/// [`Envelope::open_client_multipart`]. Decoding ([`PartsCompanion::from_bytes`]) checks only its
/// shape: nothing in it is trusted until it has been opened against the object's metadata.
#[derive(Clone, PartialEq, Eq)]
pub struct PartsCompanion {
    upload: [u8; SALT_LEN],
    envelope: Envelope,
    table: PartTable,
}

impl fmt::Debug for PartsCompanion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartsCompanion")
            .field("envelope", &self.envelope)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl PartsCompanion {
    /// The completed envelope (fields 15 and 16; not yet verified).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The part table (not yet verified): enough to *plan* a range before the object's metadata
    /// has arrived; every plan is checked when the object's response opens
    /// ([`Envelope::open_client_multipart`]).
    pub fn table(&self) -> &PartTable {
        &self.table
    }

    /// The canonical encoding (FORMAT.md §9.2):
    /// `"S3CM" ‖ 0x01 ‖ upload (32) ‖ BE16(len(envelope)) ‖ envelope ‖ table`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let envelope = self.envelope.to_binary();
        let table = self.table.to_bytes();
        let mut out = Vec::with_capacity(HEAD + envelope.len() + table.len());
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.upload);
        // A valid binary envelope is at most 4096 bytes.
        #[allow(clippy::cast_possible_truncation)]
        out.extend_from_slice(&(envelope.len() as u16).to_be_bytes());
        out.extend_from_slice(&envelope);
        out.extend_from_slice(&table);
        out
    }

    /// Decodes [`PartsCompanion::to_bytes`] strictly; the length is checked before anything is
    /// parsed or allocated.
    ///
    /// # Errors
    /// [`Error::Format`] with [`FormatError::TooLarge`], [`FormatError::BadMagic`],
    /// [`FormatError::UnsupportedVersion`] or [`FormatError::Truncated`] for the companion's own
    /// framing, or any error of [`Envelope::from_binary`]; [`Error::EnvelopeKind`] unless the
    /// envelope is a completed multipart object's; [`Error::InvalidPart`] (or another error of
    /// [`PartTable::from_bytes`]) for a malformed table.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > COMPANION_MAX {
            return Err(FormatError::TooLarge.into());
        }
        let (head, rest) = bytes.split_at_checked(HEAD).ok_or(FormatError::Truncated)?;
        if head[..4] != MAGIC {
            return Err(FormatError::BadMagic.into());
        }
        if head[4] != VERSION {
            return Err(FormatError::UnsupportedVersion(head[4].to_string()).into());
        }
        let upload: [u8; SALT_LEN] = head[5..5 + SALT_LEN].try_into().map_err(|_| FormatError::Truncated)?;
        let len = usize::from(u16::from_be_bytes([head[HEAD - 2], head[HEAD - 1]]));
        if len > ENVELOPE_MAX {
            return Err(FormatError::TooLarge.into());
        }
        let (envelope, table) = rest.split_at_checked(len).ok_or(FormatError::Truncated)?;
        let envelope = Envelope::from_binary(envelope)?;
        if !matches!(envelope.layout, Layout::Parts { .. }) {
            return Err(Error::EnvelopeKind);
        }
        let table = PartTable::from_bytes(table)?;
        Ok(Self { upload, envelope, table })
    }
}

/// An encryptor that seals under the key an upload state was sealed under: the companion's
/// envelope must name the same wrapping key as the object's metadata, so a reader resolves one key
/// (one KMS Decrypt at most) for both, and never a key only the companion names.
struct StateKey<'a> {
    inner: &'a dyn Encryptor,
    state: &'a Envelope,
}

impl Encryptor for StateKey<'_> {
    fn scheme(&self) -> Scheme {
        self.inner.scheme()
    }
    fn sealing_key(&self) -> Result<WrappingKey<'_>> {
        self.inner.opening_key(self.state)
    }
    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        self.inner.opening_key(envelope)
    }
}

/// Whether two envelopes select the same wrapping key and body parameters: everything a reader
/// would hand a key source (a keyring and a material description, a KMS blob and context),
/// compared before any key is used.
fn same_key(a: &Envelope, b: &Envelope) -> bool {
    a.scheme == b.scheme
        && a.suite == b.suite
        && a.chunk_size == b.chunk_size
        && a.wrap == b.wrap
        && a.key_id == b.key_id
        && a.key_version == b.key_version
        && a.kms == b.kms
        && a.description == b.description
}

impl PartsCompanion {
    /// Copy, rename or re-key a client-side multipart object without touching its body: checks
    /// `state` (the object's metadata) and this companion as `from` sees them (every check of
    /// [`Envelope::open_client_multipart`]), then re-seals both for `to`, with fresh salts: the
    /// new upload state, to send as the destination's metadata (CopyObject with
    /// `x-amz-metadata-directive: REPLACE`), and the new companion, sealed under the same key as
    /// the new state and naming it, to PUT at the destination's companion key. The data key, the
    /// parts and the table are unchanged.
    ///
    /// # Errors
    /// Any error of [`Envelope::open_client_multipart`] with `from`, or of sealing with `to`.
    pub fn reseal<R: TryCryptoRng + ?Sized>(
        &self,
        state: &Envelope,
        from: (&dyn Encryptor, &ObjectId<'_>),
        to: (&dyn Encryptor, &ObjectId<'_>),
        rng: &mut R,
    ) -> Result<(Envelope, Self)> {
        state.open_client_multipart(from.0, from.1, self)?;
        let new_state = state.reseal(from, to, rng)?;
        let same = StateKey { inner: to.0, state: &new_state };
        let envelope = self.envelope.reseal(from, (&same, to.1), rng)?;
        let companion = Self { upload: new_state.salt, envelope, table: self.table.clone() };
        Ok((new_state, companion))
    }
}

impl Envelope {
    /// A client's CompleteMultipartUpload, first half: opens this upload state with `encryptor`,
    /// checks every listed part against the upload's data key (as [`Envelope::complete_upload`]),
    /// and seals the completed envelope under the **same wrapping key as the state** (the key it
    /// names, even if the encryptor's active key has moved on), bound to `object`. PUT the result
    /// ([`PartsCompanion::to_bytes`]) as the companion object, then complete the upload.
    ///
    /// `checksum` is sealed into the completed envelope as by
    /// [`Envelope::complete_upload_with_checksum`].
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless this is a client-side upload state; as
    /// [`Envelope::complete_upload_with_checksum`].
    pub fn complete_client_upload<R: TryCryptoRng + ?Sized>(
        &self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        parts: &[Part],
        checksum: Option<Checksum>,
        rng: &mut R,
    ) -> Result<PartsCompanion> {
        super::client::check_client_envelope(self)?;
        let same = StateKey { inner: encryptor, state: self };
        let CompletedUpload { envelope, table } =
            self.complete_upload_with_checksum(&same, object, parts, checksum, rng)?;
        Ok(PartsCompanion { upload: self.salt, envelope, table })
    }

    /// Opens a client-side multipart object: this envelope is the object's metadata (its upload
    /// state, as GetObject and HeadObject return it) and `companion` the object's companion.
    /// Checks, in this order (FORMAT.md §9.3):
    ///
    /// 1. this envelope is a client-side ([`Error::SchemeMismatch`] otherwise) upload state
    ///    ([`Error::EnvelopeKind`] otherwise);
    /// 2. the companion names this upload ([`Error::StaleCompanion`]: an earlier or later upload
    ///    of the object, or another object — refetch the companion once, as a cached one goes
    ///    stale when the object is overwritten);
    /// 3. the companion's envelope names the same wrapping key, suite and chunk size — before any
    ///    key is used ([`Error::Authentication`] otherwise);
    /// 4. the state opens for `object` (its key check and key wrap);
    /// 5. the companion's envelope opens for `object` to the **same data key**, which
    ///    authenticates its part count, digest and total length;
    /// 6. the table hashes to that digest and matches that count, length and chunk size.
    ///
    /// The returned [`MultipartBody`] gives the authenticated size (HeadObject), range plans and
    /// openers; every part is then checked as FORMAT.md §5.4 says.
    ///
    /// # Errors
    /// As above, and any error of [`Envelope::open`] ([`Error::WrongKey`], [`Error::UnknownKey`],
    /// [`Error::SchemeMismatch`], [`Error::Authentication`] for a moved or modified envelope).
    pub fn open_client_multipart(
        &self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        companion: &PartsCompanion,
    ) -> Result<MultipartBody> {
        super::client::check_client_envelope(self)?;
        if self.layout != Layout::Upload {
            return Err(Error::EnvelopeKind);
        }
        if companion.upload != self.salt {
            return Err(Error::StaleCompanion);
        }
        if !same_key(self, &companion.envelope) {
            return Err(Error::Authentication);
        }
        let state = wrap::open(self, encryptor, object)?;
        let completed = companion.envelope.open(encryptor, object)?;
        // `DataKey`'s equality is constant-time.
        if state.key != completed.payload.key {
            return Err(Error::Authentication);
        }
        completed.multipart(&companion.table)
    }
}
