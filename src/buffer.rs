//! Caller-owned output buffers.

use bytes::BytesMut;
use zeroize::Zeroize;

/// A growable byte buffer that sealers and openers append their output to.
///
/// Implemented for [`Vec<u8>`] and [`bytes::BytesMut`]; sealed, because the crate relies on appended
/// bytes staying where they were written until it returns.
pub trait OutputBuffer: private::Sealed {
    /// Current length in bytes.
    fn len(&self) -> usize;
    /// Whether the buffer is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reserves room for at least `additional` more bytes.
    fn reserve(&mut self, additional: usize);
    /// Appends `data`.
    fn extend_from_slice(&mut self, data: &[u8]);
    /// Appends `n` zero bytes.
    fn extend_zeroed(&mut self, n: usize);
    /// The bytes from `start` to the end (empty if `start` is past the end).
    fn tail_mut(&mut self, start: usize) -> &mut [u8];
    /// Shortens the buffer to `len` bytes.
    fn truncate(&mut self, len: usize);
}

impl OutputBuffer for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }
    fn extend_from_slice(&mut self, data: &[u8]) {
        Vec::extend_from_slice(self, data);
    }
    fn extend_zeroed(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
    fn tail_mut(&mut self, start: usize) -> &mut [u8] {
        self.get_mut(start..).unwrap_or_default()
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
}

impl OutputBuffer for BytesMut {
    fn len(&self) -> usize {
        BytesMut::len(self)
    }
    fn reserve(&mut self, additional: usize) {
        BytesMut::reserve(self, additional);
    }
    fn extend_from_slice(&mut self, data: &[u8]) {
        BytesMut::extend_from_slice(self, data);
    }
    fn extend_zeroed(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
    fn tail_mut(&mut self, start: usize) -> &mut [u8] {
        self.get_mut(start..).unwrap_or_default()
    }
    fn truncate(&mut self, len: usize) {
        BytesMut::truncate(self, len);
    }
}

/// Wipes and drops everything appended since `start` (used when a chunk fails to authenticate, so
/// that not even its unauthenticated bytes linger in the caller's spare capacity).
pub(crate) fn discard_from<B: OutputBuffer + ?Sized>(out: &mut B, start: usize) {
    out.tail_mut(start).zeroize();
    out.truncate(start);
}

mod private {
    pub trait Sealed {}
    impl Sealed for Vec<u8> {}
    impl Sealed for bytes::BytesMut {}
}

/// A lazily allocated buffer of at most `cap` bytes for input that does not fill a chunk yet.
///
/// It allocates once, on first use and without zero-filling, never reallocates, and on drop wipes
/// exactly the bytes it ever held (its high-water mark), so that a stream fed in whole chunks pays
/// neither for the allocation nor for the wipe.
pub(crate) struct Scratch {
    /// Holds the high-water mark of written bytes; `filled` of them are live.
    buf: Vec<u8>,
    filled: usize,
    cap: usize,
}

impl Scratch {
    pub(crate) const fn new(cap: usize) -> Self {
        Self { buf: Vec::new(), filled: 0, cap }
    }

    /// Appends as much of `data` as fits below `limit` (at most `cap`) and returns how much it took.
    pub(crate) fn fill_to(&mut self, limit: usize, data: &[u8]) -> usize {
        let take = limit.min(self.cap).saturating_sub(self.filled).min(data.len());
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.cap);
        }
        let end = self.filled + take;
        let overlap = self.buf.len().clamp(self.filled, end);
        let (old, new) = data[..take].split_at(overlap - self.filled);
        self.buf[self.filled..overlap].copy_from_slice(old);
        self.buf.extend_from_slice(new);
        self.filled = end;
        take
    }

    /// The live bytes.
    pub(crate) fn filled(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// Forgets the live bytes (they are overwritten by later input and wiped on drop).
    pub(crate) fn clear(&mut self) {
        self.filled = 0;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.buf.as_mut_slice().zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_reuses_its_bytes_and_respects_limits() {
        let mut s = Scratch::new(8);
        assert_eq!(s.fill_to(8, b"abcdef"), 6);
        assert_eq!(s.fill_to(8, b"ghijk"), 2);
        assert_eq!(s.filled(), b"abcdefgh");
        s.clear();
        assert_eq!(s.fill_to(3, b"xyz123"), 3);
        assert_eq!(s.filled(), b"xyz");
        assert_eq!(s.fill_to(100, b"4567890"), 5, "never beyond the capacity");
        assert_eq!(s.filled(), b"xyz45678");
        assert_eq!(s.buf.capacity(), 8, "allocated once, exactly");
    }
}
