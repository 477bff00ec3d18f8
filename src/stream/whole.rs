//! Whole in-memory buffers: [`super::seal`] and [`super::open`], and with the `parallel` feature
//! [`super::seal_parallel`] and [`super::open_parallel`], which differ only in who runs the chunks.
//!
//! The output is allocated once, at its exact size and zeroed by the allocator (for a large buffer,
//! fresh pages that the kernel zeroes as they fault in, so no pass of the library's own), and every
//! chunk is sealed or opened from the input straight into its slot: one pass, no staging buffer, no
//! allocation besides the output.

use super::aead::TAG_LEN;
use super::kdf::StreamKeys;
use super::layout::{ChunkSize, HEADER_LEN};
use crate::error::{Error, Result};
use zeroize::Zeroize;

/// Runs `work` on every item, stopping at the first error: on rayon's pool when `parallel` (and
/// the feature is built), on the calling thread otherwise.
fn run<T: Send>(
    mut items: impl Iterator<Item = T> + Send,
    count: usize,
    parallel: bool,
    work: impl Fn(T) -> Result<()> + Sync,
) -> Result<()> {
    #[cfg(feature = "parallel")]
    if parallel {
        return super::parallel::for_each(items, count, work);
    }
    let _ = (count, parallel);
    items.try_for_each(work)
}

/// Seals `plaintext` as a whole stream under `keys`: the header, then every chunk sealed from the
/// plaintext into its slot of the exact-size output.
///
/// # Errors
/// [`Error::TooLong`] past the format's limit.
pub(crate) fn seal_whole(
    keys: &StreamKeys,
    header: &[u8; HEADER_LEN],
    chunk_size: ChunkSize,
    plaintext: &[u8],
    parallel: bool,
) -> Result<Vec<u8>> {
    let total = chunk_size.ciphertext_len(plaintext.len() as u64)?;
    let mut out = vec![0u8; usize::try_from(total).map_err(|_| Error::TooLong)?];
    let (head, body) = out.split_at_mut(HEADER_LEN);
    head.copy_from_slice(header);
    let cs = chunk_size.bytes();
    // The last slot is the final chunk: shorter than a full one, possibly just its tag.
    let count = body.len().div_ceil(chunk_size.sealed_len());
    let slots = body.chunks_mut(chunk_size.sealed_len()).enumerate();
    run(slots, count, parallel, |(i, slot)| {
        let start = i * cs;
        let chunk = plaintext.get(start..(start + cs).min(plaintext.len())).unwrap_or_default();
        keys.aead.seal_to(&keys.nonce(i as u64), chunk, slot)
    })?;
    Ok(out)
}

/// Opens the body of a whole stored stream (the stream without its header) under `keys`, into an
/// exact-size output. Nothing is returned unless every chunk authenticates; on failure the output
/// is wiped.
///
/// # Errors
/// [`Error::Truncated`] for a body length no honest writer produces; [`Error::TooLong`] past the
/// format's limit; [`Error::Authentication`] if any chunk fails.
pub(crate) fn open_whole(
    keys: &StreamKeys,
    chunk_size: ChunkSize,
    body: &[u8],
    parallel: bool,
) -> Result<Vec<u8>> {
    let len = chunk_size.plaintext_len(HEADER_LEN as u64 + body.len() as u64)?;
    let len = usize::try_from(len).map_err(|_| Error::TooLong)?;
    let cs = chunk_size.bytes();
    let full = len / cs;
    let mut out = vec![0u8; len];
    let (full_body, last_body) = body.split_at(full * chunk_size.sealed_len());
    let (full_out, last_out) = out.split_at_mut(full * cs);
    // Every full chunk, then the final one (shorter, possibly empty), which authenticates the
    // length.
    let chunks = full_body
        .chunks_exact(chunk_size.sealed_len())
        .zip(full_out.chunks_exact_mut(cs))
        .chain(core::iter::once((last_body, last_out)))
        .enumerate();
    let opened = run(chunks, full + 1, parallel, |(i, (sealed, plain))| {
        let (ciphertext, tag) = sealed.split_at_checked(plain.len()).ok_or(Error::Truncated)?;
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Truncated)?;
        keys.aead.open_to(&keys.nonce(i as u64), ciphertext, tag, plain)
    });
    match opened {
        Ok(()) => Ok(out),
        Err(e) => {
            // Chunks before the bad one did authenticate, but nothing is released: wipe them.
            out.zeroize();
            Err(e)
        }
    }
}
