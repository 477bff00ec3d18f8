//! Sealing and opening whole in-memory buffers on several threads (feature `parallel`).
//!
//! Chunks are independent — each has its own nonce, derived from its index — so a buffer that is
//! already in memory (a multipart part, a whole object) can be sealed or opened on every core. The
//! crate assigns the indices, so parallelism cannot reuse a nonce, and the output is byte-identical
//! to the sequential [`super::seal`] and [`super::open`].
//!
//! Scheduling: the calling thread starts on the chunks at once and rayon's workers join in as they
//! wake, all taking the next chunk from one queue. Waking a sleeping worker costs 18–90 µs on the
//! 2-vCPU machine this was measured on, as long as sealing a whole MiB with aws-lc; with a plain
//! `par_iter` the caller would wait for that wake-up before any work began, and 1 MiB buffers got
//! *slower* (0.6–0.7×). This way the caller never waits to start, and buffers below
//! [`PARALLEL_MIN_CHUNKS`] chunks are not split at all.

use super::StreamParams;
use super::aead::TAG_LEN;
use super::kdf::StreamKeys;
use super::layout::HEADER_LEN;
use super::open::keys_from_header;
use super::seal::begin;
use super::whole::{open_whole, seal_whole};
use crate::error::{Error, Result};
use crate::keys::DataKey;
use rand_core::TryCryptoRng;
use std::sync::Mutex;
use zeroize::Zeroize;

/// Below this many chunks, work stays on the calling thread: a worker's wake-up would cost more
/// than the chunks it could take.
pub const PARALLEL_MIN_CHUNKS: usize = 16;

/// Runs `work` on every item, on the calling thread and on as many of rayon's workers as join in
/// before the queue is empty. Stops at the first error and returns it.
pub(super) fn for_each<T: Send>(
    items: impl Iterator<Item = T> + Send,
    count: usize,
    work: impl Fn(T) -> Result<()> + Sync,
) -> Result<()> {
    let queue = Mutex::new(items);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let drain = || {
        loop {
            let Some(item) = queue.lock().ok().and_then(|mut q| q.next()) else { return };
            if let Err(e) = work(item) {
                if let Ok(mut f) = failure.lock() {
                    f.get_or_insert(e);
                }
                // Empty the queue so every thread stops.
                if let Ok(mut q) = queue.lock() {
                    q.by_ref().for_each(drop);
                }
                return;
            }
        }
    };
    if count < PARALLEL_MIN_CHUNKS {
        drain();
    } else {
        rayon::in_place_scope(|scope| {
            for _ in 1..rayon::current_num_threads() {
                scope.spawn(|_| drain());
            }
            drain();
        });
    }
    match failure.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e),
        Err(_) => Err(Error::Authentication),
    }
}

fn index(i: usize) -> u64 {
    i as u64
}

/// Seals a whole message on rayon's thread pool; the result is byte-identical to
/// [`super::seal`] with the same generator state.
///
/// # Errors
/// [`Error::Rng`] if the generator fails; [`Error::TooLong`] past the format's limit.
pub fn seal_parallel<R: TryCryptoRng + ?Sized>(
    key: &DataKey,
    params: impl Into<StreamParams>,
    context: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let params = params.into();
    params.chunk_size.ciphertext_len(plaintext.len() as u64)?;
    let (keys, header) = begin(key, params, context, rng)?;
    seal_with(&keys, &header, params, plaintext)
}

/// The parallel part of [`seal_parallel`], once the stream's keys exist.
pub(crate) fn seal_with(
    keys: &StreamKeys,
    header: &[u8; HEADER_LEN],
    params: StreamParams,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    seal_whole(keys, header, params.chunk_size, plaintext, true)
}

/// Opens a whole stored message on rayon's thread pool. Nothing is returned unless every chunk
/// authenticates (the partial output is wiped); the result equals [`super::open`]'s.
///
/// # Errors
/// As [`super::open`].
pub fn open_parallel(
    key: &DataKey,
    params: impl Into<StreamParams>,
    context: &[u8],
    stored: &[u8],
) -> Result<Vec<u8>> {
    let params = params.into();
    params.chunk_size.plaintext_len(stored.len() as u64)?;
    let (header, body) = stored.split_at_checked(HEADER_LEN).ok_or(Error::Truncated)?;
    let keys = keys_from_header(key, params, context, header)?;
    open_whole(&keys, params.chunk_size, body, true)
}

impl super::ChunkSealer {
    /// Seals the rest of a message in place on rayon's thread pool, ending the stream: `rest` holds
    /// every remaining chunk back to back (full chunks, then the final one, shorter, possibly
    /// empty) and is encrypted in place. Returns one tag per chunk, in order. The bytes are those
    /// [`super::ChunkSealer::seal_chunk`] and [`super::ChunkSealer::seal_final`] would produce.
    ///
    /// # Errors
    /// [`Error::TooLong`] if the chunks would not fit the stream's limit.
    pub fn seal_rest_parallel(self, rest: &mut [u8]) -> Result<Vec<[u8; TAG_LEN]>> {
        let cs = self.chunk_size.bytes();
        let count = rest.len() / cs + 1;
        let end = self.next.checked_add(count as u64).ok_or(Error::TooLong)?;
        if end > self.chunk_size.max_chunks() {
            return Err(Error::TooLong);
        }
        let mut tags = vec![[0u8; TAG_LEN]; count];
        let (full, last) = rest.split_at_mut(rest.len() / cs * cs);
        let (full_tags, last_tag) = tags.split_at_mut(count - 1);
        let keys = &self.keys;
        for_each(
            full.chunks_exact_mut(cs).zip(full_tags.iter_mut()).enumerate(),
            count - 1,
            |(i, (chunk, tag))| {
                *tag = keys.aead.seal_in_place(&keys.nonce(self.next + index(i)), chunk)?;
                Ok(())
            },
        )?;
        last_tag[0] = keys.aead.seal_in_place(&keys.nonce(end - 1), last)?;
        Ok(tags)
    }
}

impl super::ChunkOpener {
    /// Opens every chunk of a stored body (the stream without its header) in place on rayon's
    /// thread pool. On success each chunk's plaintext is at the start of its slot (chunk `i` at
    /// offset `i · (chunk size + 16)`; see [`super::ChunkSize::plaintext_ranges`]); on failure the
    /// whole body is wiped and nothing is released.
    ///
    /// # Errors
    /// [`Error::Truncated`] if `body` is not exactly as long as the stream's chunks;
    /// [`Error::Authentication`] if any chunk fails.
    pub fn open_in_place_parallel(&self, body: &mut [u8]) -> Result<()> {
        let cs = self.chunk_size().bytes();
        let expected = self.chunk_size().ciphertext_len(self.plaintext_len())? - HEADER_LEN as u64;
        if body.len() as u64 != expected {
            return Err(Error::Truncated);
        }
        let count = body.len().div_ceil(cs + TAG_LEN);
        let opened = for_each(body.chunks_mut(cs + TAG_LEN).enumerate(), count, |(i, slot)| {
            self.open_chunk_in_place(index(i), slot).map(|_| ())
        });
        if opened.is_err() {
            body.zeroize();
        }
        opened
    }
}
