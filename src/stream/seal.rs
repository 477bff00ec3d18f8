//! Sealing: the in-place chunk sealer and the push-based streaming sealer built on it.

use super::StreamParams;
use super::aead::{TAG_LEN, Tag};
use super::kdf::StreamKeys;
use super::layout::{ChunkSize, HEADER_LEN, SALT_LEN};
use crate::buffer::{OutputBuffer, Scratch, discard_from, grow};
use crate::error::{Error, Result};
use crate::keys::{DataKey, fill_random};
use rand_core::TryCryptoRng;

/// Starts a stream: draws the salt (the stream's only draw), derives the keys, writes the header.
pub(crate) fn begin<R: TryCryptoRng + ?Sized>(
    key: &DataKey,
    params: StreamParams,
    context: &[u8],
    rng: &mut R,
) -> Result<(StreamKeys, [u8; HEADER_LEN])> {
    let mut header = [0u8; HEADER_LEN];
    let (salt, commitment) = header.split_at_mut(SALT_LEN);
    fill_random(rng, salt)?;
    let salt: &[u8; SALT_LEN] = (&*salt).try_into().map_err(|_| Error::Rng)?;
    let keys = StreamKeys::derive(key, params, salt, context)?;
    commitment.copy_from_slice(keys.commitment());
    Ok((keys, header))
}

/// Seals a stream one whole chunk at a time, in the caller's buffer: no copy, no allocation.
///
/// Chunks are sealed strictly in order (the sealer owns the chunk counter), so no chunk nonce can be
/// used twice. Every chunk but the last is exactly [`ChunkSize::bytes`] long; the last is shorter,
/// possibly empty, and is sealed by [`ChunkSealer::seal_final`], which consumes the sealer.
///
/// The stored stream is the header returned by [`ChunkSealer::new`], then each chunk followed by
/// its tag.
pub struct ChunkSealer {
    pub(crate) keys: StreamKeys,
    pub(crate) chunk_size: ChunkSize,
    pub(crate) next: u64,
}

impl core::fmt::Debug for ChunkSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkSealer")
            .field("chunk_size", &self.chunk_size)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl ChunkSealer {
    /// Starts a stream under `key`, drawing a fresh 24-byte salt from `rng` (its only draw).
    /// Returns the sealer and the 56-byte header (salt ‖ key commitment) that starts the stream.
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    pub fn new<R: TryCryptoRng + ?Sized>(
        key: &DataKey,
        params: impl Into<StreamParams>,
        context: &[u8],
        rng: &mut R,
    ) -> Result<(Self, [u8; HEADER_LEN])> {
        let params = params.into();
        let (keys, header) = begin(key, params, context, rng)?;
        Ok((Self { keys, chunk_size: params.chunk_size, next: 0 }, header))
    }

    /// The stream's chunk size.
    pub fn chunk_size(&self) -> ChunkSize {
        self.chunk_size
    }

    /// How many chunks have been sealed so far.
    pub fn chunks_sealed(&self) -> u64 {
        self.next
    }

    /// Encrypts one full chunk in place and returns its tag.
    ///
    /// # Errors
    /// [`Error::InvalidChunkLength`] unless `chunk` is exactly [`ChunkSize::bytes`] long;
    /// [`Error::TooLong`] once the stream has no room left for another full chunk.
    pub fn seal_chunk(&mut self, chunk: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.seal_at(chunk, false)
    }

    /// Encrypts the final chunk in place, ending the stream, and returns its tag.
    ///
    /// # Errors
    /// [`Error::InvalidChunkLength`] unless `chunk` is shorter than [`ChunkSize::bytes`].
    pub fn seal_final(mut self, chunk: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.seal_at(chunk, true)
    }

    /// Checks that a chunk of `len` bytes may come next, by the chunk-length rule and the
    /// chunk-count limit, and returns its nonce index.
    fn admit(&self, len: usize, last: bool) -> Result<u64> {
        let cs = self.chunk_size.bytes();
        if (last && len >= cs) || (!last && len != cs) {
            return Err(Error::InvalidChunkLength);
        }
        // A full chunk must leave room for the final chunk after it.
        if !last && self.next >= self.chunk_size.max_chunks() - 1 {
            return Err(Error::TooLong);
        }
        Ok(self.next)
    }

    /// Seals the next chunk in place.
    fn seal_at(&mut self, chunk: &mut [u8], last: bool) -> Result<Tag> {
        let index = self.admit(chunk.len(), last)?;
        let tag = self.keys.aead.seal_in_place(&self.keys.nonce(index), chunk)?;
        self.next += 1;
        Ok(tag)
    }

    /// Seals `plaintext` as the next chunk straight into `out` (ciphertext, then tag): one pass from
    /// the caller's input to the caller's output, with no staging copy.
    pub(crate) fn seal_to<B: OutputBuffer + ?Sized>(
        &mut self,
        plaintext: &[u8],
        out: &mut B,
        last: bool,
    ) -> Result<()> {
        let index = self.admit(plaintext.len(), last)?;
        let start = out.len();
        let slot = grow(out, plaintext.len() + TAG_LEN);
        if let Err(e) = self.keys.aead.seal_to(&self.keys.nonce(index), plaintext, slot) {
            discard_from(out, start);
            return Err(e);
        }
        self.next += 1;
        Ok(())
    }
}

/// Seals a stream from input pushed in pieces of any size, appending ciphertext to a caller's buffer.
///
/// Memory is constant: one chunk of buffered plaintext, allocated once. Each chunk is encrypted from
/// the caller's input straight into the output buffer, in one pass; only input that does not fill a
/// chunk yet is buffered (copied once). Into a [`crate::ReusableBuffer`] nothing else touches the
/// data; a `Vec` or `BytesMut` must first zero the chunk's slot (in cache), as safe Rust cannot
/// write into uninitialised capacity. The header is written before
/// the first chunk; [`Sealer::finish`] writes the final short chunk and must be called.
///
/// ```
/// use s3crypt::{ChunkSize, DataKey, OsRng, Sealer, open};
///
/// let key = DataKey::generate(&mut OsRng)?;
/// let mut sealer = Sealer::new(&key, ChunkSize::C2SP, b"my context", &mut OsRng)?;
/// let mut stored = Vec::new();
/// for piece in [&b"hello, "[..], b"", b"world"] {
///     sealer.update(piece, &mut stored)?;
/// }
/// sealer.finish(&mut stored)?;
/// assert_eq!(open(&key, ChunkSize::C2SP, b"my context", &stored)?, b"hello, world");
/// # Ok::<(), s3crypt::Error>(())
/// ```
pub struct Sealer {
    chunks: ChunkSealer,
    header: Option<[u8; HEADER_LEN]>,
    pending: Scratch,
    failed: bool,
}

impl core::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sealer")
            .field("chunks", &self.chunks)
            .field("buffered", &self.pending.filled().len())
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// Starts a stream under `key`; see [`ChunkSealer::new`].
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    pub fn new<R: TryCryptoRng + ?Sized>(
        key: &DataKey,
        params: impl Into<StreamParams>,
        context: &[u8],
        rng: &mut R,
    ) -> Result<Self> {
        let (chunks, header) = ChunkSealer::new(key, params, context, rng)?;
        let pending = Scratch::new(chunks.chunk_size.bytes());
        Ok(Self { chunks, header: Some(header), pending, failed: false })
    }

    /// The stream's chunk size.
    pub fn chunk_size(&self) -> ChunkSize {
        self.chunks.chunk_size
    }

    /// Plaintext bytes accepted so far.
    pub fn plaintext_len(&self) -> u64 {
        (self.chunks.next << self.chunks.chunk_size.log2()) + self.pending.filled().len() as u64
    }

    /// Encrypts `input` and appends every chunk it completes (and, the first time, the header) to
    /// `out`. Input that does not complete a chunk is buffered.
    ///
    /// # Errors
    /// [`Error::TooLong`] past the format's maximum length. After an error the sealer refuses
    /// further input.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, mut input: &[u8], out: &mut B) -> Result<()> {
        if self.failed {
            return Err(Error::TooLong);
        }
        let cs = self.chunks.chunk_size.bytes();
        let complete = (self.pending.filled().len() + input.len()) / cs;
        out.reserve(complete * (cs + TAG_LEN) + if self.header.is_some() { HEADER_LEN } else { 0 });
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
        }
        let result = (|| {
            if !self.pending.filled().is_empty() {
                input = &input[self.pending.fill_to(cs, input)..];
                if self.pending.filled().len() < cs {
                    return Ok(());
                }
                self.chunks.seal_to(self.pending.filled(), out, false)?;
                self.pending.clear();
            }
            let mut whole = input.chunks_exact(cs);
            for chunk in &mut whole {
                self.chunks.seal_to(chunk, out, false)?;
            }
            self.pending.fill_to(cs, whole.remainder());
            Ok(())
        })();
        self.failed = result.is_err();
        result
    }

    /// Seals the buffered input as the final chunk and appends it (and the header, for an empty
    /// stream) to `out`.
    ///
    /// # Errors
    /// [`Error::TooLong`] if the sealer failed earlier.
    pub fn finish<B: OutputBuffer + ?Sized>(mut self, out: &mut B) -> Result<()> {
        if self.failed {
            return Err(Error::TooLong);
        }
        out.reserve(self.pending.filled().len() + TAG_LEN + HEADER_LEN);
        if let Some(header) = self.header.take() {
            out.extend_from_slice(&header);
        }
        let Self { chunks, pending, .. } = &mut self;
        chunks.seal_to(pending.filled(), out, true)
    }
}
