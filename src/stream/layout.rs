//! Exact size arithmetic of a stream and the range planner.
//!
//! A stream is `header (56 bytes) ‖ chunk 0 ‖ chunk 1 ‖ … ‖ chunk n-1`, where every chunk but the last
//! carries exactly `chunk size` plaintext bytes, the last carries fewer (possibly zero), and each
//! chunk is followed by its 16-byte tag. All arithmetic here is checked; nothing panics on any input.

use super::aead::TAG_LEN;
use crate::error::{Error, Result};
use core::ops::Range;

/// Length of the stream header: a 24-byte salt followed by a 32-byte key commitment.
pub const HEADER_LEN: usize = SALT_LEN + COMMITMENT_LEN;
pub(crate) const SALT_LEN: usize = 24;
pub(crate) const COMMITMENT_LEN: usize = 32;

/// The most chunks a C2SP (16 KiB) stream may have: the chunk counter stays below 2^38.
///
/// Larger chunk sizes allow proportionally fewer chunks ([`ChunkSize::max_chunks`]), so that no
/// stream key ever processes more than 2^52 bytes (2^48 AES blocks), below the 2^48.5-block CTR
/// wear-out bound C2SP's analysis relies on.
pub const MAX_CHUNKS: u64 = 1 << 38;

/// Log2 of the most plaintext bytes one stream may carry (4 PiB).
const MAX_STREAM_LOG2: u8 = 52;

const HEADER: u64 = HEADER_LEN as u64;
const TAG: u64 = TAG_LEN as u64;

/// Plaintext bytes per chunk: a power of two from 16 KiB ([`ChunkSize::C2SP`]) to 1 MiB.
///
/// 16 KiB is exactly the C2SP chunked-encryption construction. Any other size is a distinct,
/// domain-separated variant: the size is bound into the key derivation, so a stream can only be
/// opened with the size it was sealed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChunkSize {
    log2: u8,
}

impl Default for ChunkSize {
    fn default() -> Self {
        Self::C2SP
    }
}

impl ChunkSize {
    /// 16 KiB, the chunk size of C2SP chunked encryption.
    pub const C2SP: Self = Self { log2: 14 };
    /// 64 KiB.
    pub const KIB_64: Self = Self { log2: 16 };
    /// 1 MiB, the largest supported size.
    pub const MIB_1: Self = Self { log2: 20 };

    const MIN_LOG2: u8 = 14;
    const MAX_LOG2: u8 = 20;

    /// The chunk size `2^log2` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidChunkSize`] unless `14 <= log2 <= 20`.
    pub const fn from_log2(log2: u8) -> Result<Self> {
        if log2 >= Self::MIN_LOG2 && log2 <= Self::MAX_LOG2 {
            Ok(Self { log2 })
        } else {
            Err(Error::InvalidChunkSize)
        }
    }

    /// The chunk size of `bytes` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidChunkSize`] unless `bytes` is a power of two from 16 KiB to 1 MiB.
    pub fn from_bytes(bytes: u64) -> Result<Self> {
        if !bytes.is_power_of_two() {
            return Err(Error::InvalidChunkSize);
        }
        let log2 = u8::try_from(bytes.trailing_zeros()).map_err(|_| Error::InvalidChunkSize)?;
        Self::from_log2(log2)
    }

    /// Base-2 logarithm of the size.
    pub const fn log2(self) -> u8 {
        self.log2
    }

    /// The size in bytes.
    pub const fn bytes(self) -> usize {
        1 << self.log2
    }

    pub(crate) const fn bytes_u64(self) -> u64 {
        1 << self.log2
    }

    /// Stored bytes of one full chunk: its plaintext size plus the 16-byte tag.
    pub const fn sealed_len(self) -> usize {
        self.bytes() + TAG_LEN
    }

    const fn sealed_len_u64(self) -> u64 {
        self.bytes_u64() + TAG
    }

    /// The most chunks a stream with this chunk size may have: 2^52 / chunk size, which is
    /// [`MAX_CHUNKS`] (2^38) for C2SP's 16 KiB.
    pub const fn max_chunks(self) -> u64 {
        1 << (MAX_STREAM_LOG2 - self.log2)
    }

    /// Number of chunks of a message of `plaintext_len` bytes, the short final chunk included.
    ///
    /// # Errors
    /// [`Error::TooLong`] beyond [`ChunkSize::max_chunks`].
    pub const fn chunk_count(self, plaintext_len: u64) -> Result<u64> {
        let count = (plaintext_len >> self.log2) + 1;
        if count > self.max_chunks() { Err(Error::TooLong) } else { Ok(count) }
    }

    /// Largest plaintext length the format can carry with this chunk size.
    pub const fn max_plaintext_len(self) -> u64 {
        // max_chunks - 1 full chunks and a final chunk one byte short of full: 2^52 - 1.
        (self.max_chunks() << self.log2) - 1
    }

    /// Plaintext bytes of chunk `index` in a message of `plaintext_len` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the message has no such chunk, [`Error::TooLong`] if the length
    /// is beyond the format.
    pub fn chunk_plaintext_len(self, plaintext_len: u64, index: u64) -> Result<usize> {
        if index >= self.chunk_count(plaintext_len)? {
            return Err(Error::InvalidRange);
        }
        let before = index << self.log2; // < plaintext_len + chunk size: cannot overflow
        let len = (plaintext_len - before).min(self.bytes_u64());
        usize::try_from(len).map_err(|_| Error::TooLong)
    }

    /// Exact stored length (header, chunks and tags) of a message of `plaintext_len` bytes.
    ///
    /// # Errors
    /// [`Error::TooLong`] beyond [`ChunkSize::max_plaintext_len`].
    pub fn ciphertext_len(self, plaintext_len: u64) -> Result<u64> {
        let chunks = self.chunk_count(plaintext_len)?;
        chunks
            .checked_mul(TAG)
            .and_then(|tags| tags.checked_add(plaintext_len))
            .and_then(|n| n.checked_add(HEADER))
            .ok_or(Error::TooLong)
    }

    /// Exact plaintext length of a stored message of `ciphertext_len` bytes.
    ///
    /// # Errors
    /// [`Error::Truncated`] for lengths no honest writer produces (shorter than header plus one tag,
    /// or ending less than a tag after a chunk boundary); [`Error::TooLong`] beyond the format.
    pub fn plaintext_len(self, ciphertext_len: u64) -> Result<u64> {
        let body = ciphertext_len.checked_sub(HEADER).ok_or(Error::Truncated)?;
        let full_chunks = body / self.sealed_len_u64();
        let last = body % self.sealed_len_u64();
        let last_plain = last.checked_sub(TAG).ok_or(Error::Truncated)?;
        if full_chunks >= self.max_chunks() {
            return Err(Error::TooLong);
        }
        Ok((full_chunks << self.log2) + last_plain)
    }

    /// Where each chunk's plaintext lies in a stored body (the stream without its header) once it
    /// has been opened in place: `(offset, length)` per chunk, in order.
    ///
    /// # Errors
    /// [`Error::TooLong`] beyond [`ChunkSize::max_plaintext_len`].
    pub fn plaintext_ranges(self, plaintext_len: u64) -> Result<impl Iterator<Item = Range<u64>>> {
        let count = self.chunk_count(plaintext_len)?;
        Ok((0..count).map(move |i| {
            let start = i * self.sealed_len_u64();
            let len = (plaintext_len - (i << self.log2)).min(self.bytes_u64());
            start..start + len
        }))
    }

    /// Offset in the stored stream at which chunk `index` starts.
    fn chunk_offset(self, index: u64) -> Result<u64> {
        index.checked_mul(self.sealed_len_u64()).and_then(|n| n.checked_add(HEADER)).ok_or(Error::TooLong)
    }

    /// Plans the read of plaintext bytes `range` of a message of `plaintext_len` bytes: which stored
    /// bytes to fetch (besides the header at `0..HEADER_LEN`), which chunks they hold, and which
    /// decrypted bytes to keep.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is empty or reaches past the message;
    /// [`Error::TooLong`] if the length is beyond the format.
    pub fn plan_range(self, plaintext_len: u64, range: Range<u64>) -> Result<RangePlan> {
        self.chunk_count(plaintext_len)?;
        if range.start >= range.end || range.end > plaintext_len {
            return Err(Error::InvalidRange);
        }
        let first_chunk = range.start >> self.log2;
        let last_chunk = (range.end - 1) >> self.log2;
        let last_len = self.chunk_plaintext_len(plaintext_len, last_chunk)?;
        let start = self.chunk_offset(first_chunk)?;
        let end = self.chunk_offset(last_chunk)?.checked_add(last_len as u64 + TAG).ok_or(Error::TooLong)?;
        let skip = range.start - (first_chunk << self.log2);
        Ok(RangePlan {
            ciphertext: start..end,
            first_chunk,
            chunk_count: last_chunk - first_chunk + 1,
            skip: usize::try_from(skip).map_err(|_| Error::TooLong)?,
            len: range.end - range.start,
        })
    }
}

/// What to fetch and keep to serve a plaintext byte range. Built by [`ChunkSize::plan_range`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// Stored bytes to fetch: whole chunks with their tags, as offsets into the stored stream. The
    /// header (`0..HEADER_LEN`) is needed as well, to derive the keys.
    pub ciphertext: Range<u64>,
    /// Index of the first chunk in `ciphertext`.
    pub first_chunk: u64,
    /// Number of chunks in `ciphertext`.
    pub chunk_count: u64,
    /// Decrypted bytes to drop from the start of the first chunk.
    pub skip: usize,
    /// Plaintext bytes to keep after `skip`: the length of the requested range.
    pub len: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2sp_examples() {
        let cs = ChunkSize::C2SP;
        assert_eq!(cs.chunk_count(0), Ok(1));
        assert_eq!(cs.chunk_count(1024), Ok(1));
        assert_eq!(cs.chunk_count(16384), Ok(2));
        assert_eq!(cs.chunk_count(20 * 1024), Ok(2));
        assert_eq!(cs.ciphertext_len(0), Ok(72));
        assert_eq!(cs.ciphertext_len(16384), Ok(56 + 16384 + 32));
    }

    #[test]
    fn chunk_size_parsing() {
        assert_eq!(ChunkSize::from_bytes(16384), Ok(ChunkSize::C2SP));
        assert_eq!(ChunkSize::from_bytes(1 << 20), Ok(ChunkSize::MIB_1));
        for bad in [0, 1, 8192, 16385, 3 << 14, 1 << 21, u64::MAX] {
            assert_eq!(ChunkSize::from_bytes(bad), Err(Error::InvalidChunkSize), "{bad}");
        }
        assert_eq!(ChunkSize::from_log2(13), Err(Error::InvalidChunkSize));
        assert_eq!(ChunkSize::from_log2(21), Err(Error::InvalidChunkSize));
    }
}
