//! The streaming AES-256-GCM core: C2SP chunked encryption ("Cobblestone-256").
//!
//! A stream is `salt (24) ‖ commitment (32) ‖ chunk₀ ‖ … ‖ chunkₙ₋₁`. HKDF-Expand-SHA-512 over the
//! input key, the salt and the caller's context yields the AES-256-GCM key, a base nonce and a key
//! commitment; chunk `i` is sealed under the nonce `base ⊕ i`; every chunk holds exactly the chunk
//! size of plaintext except the last, which is always shorter (possibly empty) and so marks the end.
//! `docs/FORMAT.md` is the byte-level specification.

mod aead;
mod kdf;
mod layout;
pub(crate) mod open;
#[cfg(feature = "parallel")]
pub(crate) mod parallel;
pub(crate) mod seal;
mod whole;

pub use aead::{Backend, TAG_LEN};
pub use layout::{ChunkSize, HEADER_LEN, MAX_CHUNKS, RangePlan};
pub use open::{ChunkOpener, Opener, RangeOpener};
#[cfg(feature = "parallel")]
pub use parallel::{open_parallel, seal_parallel};
pub use seal::{ChunkSealer, Sealer};

use crate::error::Result;
use crate::keys::DataKey;
use rand_core::TryCryptoRng;

/// How a stream is cut and computed: its chunk size (part of the format) and the AES-GCM backend
/// (not part of the format: every backend produces the same bytes).
///
/// Every constructor takes `impl Into<StreamParams>`, so a bare [`ChunkSize`] means "that size,
/// default backend".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StreamParams {
    /// The chunk size.
    pub chunk_size: ChunkSize,
    /// The AES-256-GCM implementation.
    pub backend: Backend,
}

impl StreamParams {
    /// `chunk_size` with the default backend.
    pub fn new(chunk_size: ChunkSize) -> Self {
        Self { chunk_size, backend: Backend::default() }
    }

    /// The same parameters with another backend.
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }
}

impl From<ChunkSize> for StreamParams {
    fn from(chunk_size: ChunkSize) -> Self {
        Self::new(chunk_size)
    }
}

/// Seals a whole message in one call.
///
/// The output is allocated once, at its exact size, and each chunk is encrypted from `plaintext`
/// straight into its slot: one pass, and no other allocation. A server sealing many objects should
/// rather reuse one buffer: [`Sealer`] into a [`crate::ReusableBuffer`], or [`ChunkSealer`] in
/// place; a fresh 64 MiB allocation costs 16,384 page faults (the kernel zeroing each 4 KiB page),
/// more than the encryption itself (README, "Allocating paths").
///
/// # Errors
/// [`crate::Error::Rng`] if the generator fails; [`crate::Error::TooLong`] past the format's limit.
pub fn seal<R: TryCryptoRng + ?Sized>(
    key: &DataKey,
    params: impl Into<StreamParams>,
    context: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let params = params.into();
    // Refused before the generator is asked for a salt.
    params.chunk_size.ciphertext_len(plaintext.len() as u64)?;
    let (keys, header) = seal::begin(key, params, context, rng)?;
    whole::seal_whole(&keys, &header, params.chunk_size, plaintext, false)
}

/// Opens a whole stored message in one call. Nothing is returned unless every chunk authenticates.
///
/// The output is allocated once, at its exact size, and each chunk is decrypted straight into it
/// (see [`seal`]); a server should rather reuse one buffer: [`Opener`] into a
/// [`crate::ReusableBuffer`], or [`ChunkOpener`] in place.
///
/// # Errors
/// [`crate::Error::Truncated`] for a length no honest writer produces; [`crate::Error::Authentication`]
/// for a wrong key or context, or any modification.
pub fn open(
    key: &DataKey,
    params: impl Into<StreamParams>,
    context: &[u8],
    stored: &[u8],
) -> Result<Vec<u8>> {
    let params = params.into();
    params.chunk_size.plaintext_len(stored.len() as u64)?;
    let (header, body) = stored.split_at_checked(HEADER_LEN).ok_or(crate::Error::Truncated)?;
    let keys = open::keys_from_header(key, params, context, header)?;
    whole::open_whole(&keys, params.chunk_size, body, false)
}
