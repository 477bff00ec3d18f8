//! Client-side sealing: the envelope before the body.
//!
//! An S3 PutObject carries the object's metadata as request headers, before the body. A client that
//! streams its upload must therefore know the envelope before it has sealed a byte: it declares the
//! exact plaintext length up front, the envelope records that length and the body stream's header
//! (`docs/FORMAT.md` §8), and the body is then sealed in constant memory and held to the declared
//! length.
//!
//! A body of unknown length is sealed by [`ClientBodySealer`] instead, whose envelope comes at the
//! end and is stored beside the body as an instruction file ([`crate::ClientInstructionPlan`]).

use super::SealOptions;
use crate::buffer::OutputBuffer;
use crate::envelope::{Envelope, Layout, ObjectId, Scheme, Suite};
use crate::error::{Error, Result};
use crate::keys::DataKey;
use crate::modes::client_side::ClientSideError;
use crate::stream::{HEADER_LEN, Sealer};
use crate::wrap::{self, BodyInfo, Encryptor, Payload};
use rand_core::TryCryptoRng;

/// Seals a client-side object whose plaintext length is known up front: the envelope first, then
/// the body, streamed in constant memory.
///
/// [`ClientSealer::new`] returns the sealed envelope at once — its metadata
/// ([`Envelope::to_metadata`], or [`crate::ClientPutPlan`] for the request headers) and the exact
/// stored length ([`Envelope::body_len`], the PutObject `Content-Length`) can be sent before the
/// body. The body must then be exactly the declared length: [`ClientSealer::update`] refuses a byte
/// more, [`ClientSealer::finish`] a byte less ([`ClientSideError::LengthMismatch`]), so the stored
/// body always matches what its envelope and `Content-Length` promised.
///
/// The envelope holds no MD5 and no checksum (they are known only after the last byte), so
/// [`SealOptions::md5`] and [`SealOptions::checksum`] must be off.
///
/// **One sealer, one plaintext.** The envelope fixes the data key and the body's salt, so the stream
/// key and every chunk nonce are chosen before the body is seen. The sealer that holds them is the
/// only one there is for that envelope (nothing public makes a body sealer for an existing envelope
/// or data key): it cannot be cloned or rewound and [`ClientSealer::finish`] consumes it, so no two
/// plaintexts are ever sealed under one stream key. To retry a failed PUT, either resend the very
/// same ciphertext bytes, or call [`ClientSealer::new`] again and send the *new* envelope's headers
/// with the new body (an old envelope sent with a new body stores an object that does not open: its
/// data key and header are not the envelope's). `docs/DESIGN.md` §13.
pub struct ClientSealer {
    body: Sealer,
    /// The body's header, written before the first chunk.
    header: Option<[u8; HEADER_LEN]>,
    declared: u64,
    received: u64,
    failed: Option<Error>,
}

impl core::fmt::Debug for ClientSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientSealer")
            .field("declared", &self.declared)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// Refuses a key of any scheme but client-side, for everything that seals a client-side envelope.
pub(crate) fn check_client_scheme(scheme: Scheme) -> Result<()> {
    if scheme == Scheme::ClientSide {
        Ok(())
    } else {
        Err(Error::SchemeMismatch { envelope: Scheme::ClientSide, presented: scheme })
    }
}

/// A client-side envelope, or the scheme mismatch S3 clients are told about.
pub(crate) fn check_client_envelope(envelope: &Envelope) -> Result<()> {
    if envelope.scheme() == Scheme::ClientSide {
        Ok(())
    } else {
        Err(Error::SchemeMismatch { envelope: envelope.scheme(), presented: Scheme::ClientSide })
    }
}

/// Refuses object keys that end with a suffix of s3crypt's side objects — a multipart object's
/// companion ([`crate::PARTS_COMPANION_SUFFIX`]) or a client-side object's instruction file
/// ([`crate::CLIENT_INSTRUCTION_SUFFIX`]): writing one would overwrite another object's.
pub(crate) fn check_client_key(key: &[u8]) -> Result<()> {
    let reserved = [crate::PARTS_COMPANION_SUFFIX, crate::CLIENT_INSTRUCTION_SUFFIX];
    if reserved.iter().any(|suffix| key.ends_with(suffix.as_bytes())) {
        Err(Error::ReservedKey)
    } else {
        Ok(())
    }
}

impl ClientSealer {
    /// Starts a client-side object of exactly `plaintext_len` bytes: a fresh data key, the body
    /// stream's salt, and the envelope for `object` sealed under `encryptor`'s key.
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless `encryptor` is a client-side key; [`Error::ReservedKey`]
    /// for a key ending with [`crate::PARTS_COMPANION_SUFFIX`] or [`crate::CLIENT_INSTRUCTION_SUFFIX`];
    /// [`ClientSideError::SealedAttributes`] if `options` asks for an MD5 or a checksum;
    /// [`Error::TooLong`] for a length beyond the format; whatever the encryptor reports;
    /// [`Error::Rng`].
    pub fn new<R: TryCryptoRng + ?Sized>(
        options: SealOptions,
        plaintext_len: u64,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<(Self, Envelope)> {
        check_client_scheme(encryptor.scheme())?;
        check_client_key(object.key())?;
        options.chunk_size.ciphertext_len(plaintext_len)?;
        let (key, body, header) = start(options, rng)?;
        let info = BodyInfo {
            suite: Suite::default(),
            chunk_size: options.chunk_size,
            plaintext_len,
            layout: Layout::Single,
            body_header: Some(header),
        };
        let envelope = wrap::seal(encryptor, object, info, &Payload { key, md5: None, checksum: None }, rng)?;
        let sealer = Self { body, header: Some(header), declared: plaintext_len, received: 0, failed: None };
        Ok((sealer, envelope))
    }

    /// The plaintext length declared to [`ClientSealer::new`].
    pub fn declared_len(&self) -> u64 {
        self.declared
    }

    /// Plaintext bytes accepted so far.
    pub fn received_len(&self) -> u64 {
        self.received
    }

    /// Encrypts the next piece of the body, appending ciphertext (and, the first time, the body's
    /// header) to `out`; see [`Sealer::update`].
    ///
    /// # Errors
    /// [`ClientSideError::LengthMismatch`] if `input` takes the body past the declared length
    /// (nothing of it is sealed); then, and after any error, the same error again.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let received = self.received.saturating_add(input.len() as u64);
        let result = if received > self.declared {
            Err(ClientSideError::LengthMismatch { declared: self.declared, received }.into())
        } else {
            self.write_header(out);
            self.received = received;
            self.body.update(input, out)
        };
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    /// Seals the final chunk and appends it (with the header, for an empty body) to `out`.
    ///
    /// # Errors
    /// [`ClientSideError::LengthMismatch`] if fewer bytes than declared were given (the final
    /// chunk is not written); any error an earlier call returned.
    pub fn finish<B: OutputBuffer + ?Sized>(mut self, out: &mut B) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.received != self.declared {
            return Err(
                ClientSideError::LengthMismatch { declared: self.declared, received: self.received }.into()
            );
        }
        self.write_header(out);
        self.body.finish(out)
    }

    fn write_header<B: OutputBuffer + ?Sized>(&mut self, out: &mut B) {
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
        }
    }
}

/// Starts a client-side body: a fresh data key, the body's sealer, and the stream header the
/// envelope records (known before any plaintext: the first thing the sealer writes).
fn start<R: TryCryptoRng + ?Sized>(
    options: SealOptions,
    rng: &mut R,
) -> Result<(DataKey, Sealer, [u8; HEADER_LEN])> {
    if options.md5 || options.checksum.is_some() {
        return Err(ClientSideError::SealedAttributes.into());
    }
    let key = DataKey::generate(rng)?;
    let (params, context) = options.body();
    let mut body = Sealer::new(&key, params, &context, rng)?;
    // An empty update writes exactly the stream's header, and nothing else.
    let mut header = Vec::with_capacity(HEADER_LEN);
    body.update(&[], &mut header)?;
    let header: [u8; HEADER_LEN] = header.try_into().map_err(|_| Error::Truncated)?;
    Ok((key, body, header))
}

/// Seals a client-side body whose length is not known up front; the envelope is sealed at the end,
/// for the *instruction-file* form (`docs/FORMAT.md` §8.5): the body is uploaded without envelope
/// metadata and the envelope is stored as a small object of its own beside it
/// ([`crate::ClientInstructionPlan`]).
///
/// The envelope is the same as [`ClientSealer`]'s (with the body's header, and bound to the
/// *body's* name): a reader opens the body with it exactly as if it had come with the body.
pub struct ClientBodySealer {
    key: DataKey,
    body: Sealer,
    /// The body's header, recorded in the envelope.
    header: [u8; HEADER_LEN],
    /// Whether the header is still to be written before the first chunk.
    header_pending: bool,
    chunk_size: crate::ChunkSize,
}

impl core::fmt::Debug for ClientBodySealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientBodySealer").field("body", &self.body).finish_non_exhaustive()
    }
}

impl ClientBodySealer {
    /// Starts a body with a fresh data key and stream salt.
    ///
    /// # Errors
    /// [`ClientSideError::SealedAttributes`] if `options` asks for an MD5 or a checksum (the
    /// client-side envelope carries none, whichever form it is stored in); [`Error::Rng`].
    pub fn new<R: TryCryptoRng + ?Sized>(options: SealOptions, rng: &mut R) -> Result<Self> {
        let (key, body, header) = start(options, rng)?;
        Ok(Self { key, body, header, header_pending: true, chunk_size: options.chunk_size })
    }

    /// Encrypts the next piece of the body; the first call also writes the body's header.
    ///
    /// # Errors
    /// As [`Sealer::update`].
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        self.write_header(out);
        self.body.update(input, out)
    }

    fn write_header<B: OutputBuffer + ?Sized>(&mut self, out: &mut B) {
        if core::mem::take(&mut self.header_pending) {
            out.extend_from_slice(&self.header);
        }
    }

    /// Seals the final chunk into `out`, then the envelope for `object` (the body's name) under
    /// `encryptor`'s client-side key.
    ///
    /// # Errors
    /// [`Error::SchemeMismatch`] unless `encryptor` is a client-side key; [`Error::ReservedKey`]
    /// for a reserved key (as [`ClientSealer::new`]); whatever the encryptor reports;
    /// [`Error::Rng`]. The final chunk is written only if the envelope could be sealed.
    pub fn finish<B: OutputBuffer + ?Sized, R: TryCryptoRng + ?Sized>(
        self,
        out: &mut B,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<Envelope> {
        check_client_scheme(encryptor.scheme())?;
        check_client_key(object.key())?;
        let info = BodyInfo {
            suite: Suite::default(),
            chunk_size: self.chunk_size,
            plaintext_len: self.body.plaintext_len(),
            layout: Layout::Single,
            body_header: Some(self.header),
        };
        let Self { key, body, header, header_pending, .. } = self;
        let envelope = wrap::seal(encryptor, object, info, &Payload { key, md5: None, checksum: None }, rng)?;
        if header_pending {
            out.extend_from_slice(&header);
        }
        body.finish(out)?;
        Ok(envelope)
    }
}
