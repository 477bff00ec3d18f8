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
mod open;
mod seal;

pub use aead::TAG_LEN;
pub use layout::{ChunkSize, HEADER_LEN, MAX_CHUNKS, RangePlan};
pub use open::{ChunkOpener, Opener, RangeOpener};
pub use seal::{ChunkSealer, Sealer};

use crate::error::Result;
use crate::keys::DataKey;
use rand_core::TryCryptoRng;

/// Seals a whole message in one call.
///
/// # Errors
/// [`crate::Error::Rng`] if the generator fails; [`crate::Error::TooLong`] past the format's limit.
pub fn seal<R: TryCryptoRng + ?Sized>(
    key: &DataKey,
    chunk_size: ChunkSize,
    context: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let len = chunk_size.ciphertext_len(plaintext.len() as u64)?;
    let mut out = Vec::with_capacity(usize::try_from(len).map_err(|_| crate::Error::TooLong)?);
    let mut sealer = Sealer::new(key, chunk_size, context, rng)?;
    sealer.update(plaintext, &mut out)?;
    sealer.finish(&mut out)?;
    Ok(out)
}

/// Opens a whole stored message in one call. Nothing is returned unless every chunk authenticates.
///
/// # Errors
/// [`crate::Error::Truncated`] for a length no honest writer produces; [`crate::Error::Authentication`]
/// for a wrong key or context, or any modification.
pub fn open(key: &DataKey, chunk_size: ChunkSize, context: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
    let len = chunk_size.plaintext_len(stored.len() as u64)?;
    let mut out = Vec::with_capacity(usize::try_from(len).map_err(|_| crate::Error::TooLong)?);
    let mut opener = Opener::new(key, chunk_size, context);
    opener.update(stored, &mut out)?;
    opener.finish(&mut out)?;
    Ok(out)
}
