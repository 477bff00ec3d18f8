//! Caller-owned output buffers.

use bytes::BytesMut;
use zeroize::Zeroize;

/// A growable byte buffer that sealers and openers append their output to.
///
/// Implemented for [`Vec<u8>`], [`bytes::BytesMut`] and [`ReusableBuffer`] (the one that needs no
/// zero-fill before it is written); sealed, because the crate relies on appended
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

impl OutputBuffer for ReusableBuffer {
    fn len(&self) -> usize {
        self.len
    }
    fn reserve(&mut self, additional: usize) {
        let needed = self.len.saturating_add(additional);
        if needed > self.buf.capacity() {
            let mut bigger = Vec::with_capacity(needed.max(self.buf.capacity().saturating_mul(2)));
            bigger.extend_from_slice(&self.buf);
            // The old allocation may hold plaintext: wipe it before it goes back to the allocator.
            self.buf.zeroize();
            self.buf = bigger;
        }
    }
    fn extend_from_slice(&mut self, data: &[u8]) {
        self.grow(data.len()).copy_from_slice(data);
    }
    fn extend_zeroed(&mut self, n: usize) {
        self.grow(n).fill(0);
    }
    fn tail_mut(&mut self, start: usize) -> &mut [u8] {
        self.buf.get_mut(start..self.len).unwrap_or_default()
    }
    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

/// Wipes and drops everything appended since `start` (used when a chunk fails to authenticate, so
/// that not even its unauthenticated bytes linger in the caller's spare capacity).
pub(crate) fn discard_from<B: OutputBuffer + ?Sized>(out: &mut B, start: usize) {
    out.tail_mut(start).zeroize();
    out.truncate(start);
}

/// Reserves room for `additional` more bytes without leaving a copy of the buffer's contents behind:
/// if the buffer must move to a larger allocation, the old one is wiped first. Openers use it, since
/// what they have appended so far is plaintext.
pub(crate) fn reserve_wiping<B: OutputBuffer + ?Sized>(out: &mut B, additional: usize) {
    out.reserve_wiping(additional);
}

/// Appends `n` bytes whose contents are unspecified (zeros, or stale bytes of the buffer's own) and
/// returns them, for the caller to overwrite at once.
pub(crate) fn grow<B: OutputBuffer + ?Sized>(out: &mut B, n: usize) -> &mut [u8] {
    out.grow_for_overwrite(n)
}

pub(crate) mod private {
    use super::ReusableBuffer;
    use bytes::BytesMut;
    use zeroize::Zeroize;

    /// Seals [`super::OutputBuffer`], and carries the crate-internal operations on it.
    pub trait Sealed {
        /// Appends `n` bytes the caller overwrites at once; see [`super::grow`].
        fn grow_for_overwrite(&mut self, n: usize) -> &mut [u8];
        /// See [`super::reserve_wiping`].
        fn reserve_wiping(&mut self, additional: usize);
    }

    impl Sealed for Vec<u8> {
        fn grow_for_overwrite(&mut self, n: usize) -> &mut [u8] {
            // Safe Rust cannot expose a `Vec`'s uninitialised capacity: zero the new bytes (the
            // chunk about to be written, so the fill stays in L1).
            let start = self.len();
            self.resize(start + n, 0);
            &mut self[start..]
        }
        fn reserve_wiping(&mut self, additional: usize) {
            if self.capacity() - self.len() < additional {
                // At least doubling, as `Vec::reserve` does, so that a stream fed in small pieces
                // moves O(log n) times.
                let mut bigger = Vec::with_capacity(self.len().saturating_add(additional.max(self.len())));
                bigger.extend_from_slice(self);
                // `Vec::zeroize` wipes the whole allocation, spare capacity included.
                self.zeroize();
                *self = bigger;
            }
        }
    }

    impl Sealed for BytesMut {
        fn grow_for_overwrite(&mut self, n: usize) -> &mut [u8] {
            let start = self.len();
            self.resize(start + n, 0);
            &mut self[start..]
        }
        fn reserve_wiping(&mut self, additional: usize) {
            if self.capacity() - self.len() < additional {
                let mut bigger =
                    BytesMut::with_capacity(self.len().saturating_add(additional.max(self.len())));
                bigger.extend_from_slice(self);
                // A `BytesMut` may share its allocation with handles split off it, so only the
                // bytes this handle owns can be wiped.
                self.as_mut().zeroize();
                *self = bigger;
            }
        }
    }

    impl Sealed for ReusableBuffer {
        fn grow_for_overwrite(&mut self, n: usize) -> &mut [u8] {
            self.grow(n)
        }
        fn reserve_wiping(&mut self, additional: usize) {
            // This buffer's `reserve` already wipes what it leaves behind.
            super::OutputBuffer::reserve(self, additional);
        }
    }
}

/// An output buffer that stays initialised when it is cleared, so that refilling it writes each
/// byte once: the one-pass output for servers that reuse their buffers.
///
/// A `Vec<u8>` forgets, on `clear`, that its capacity holds initialised bytes, and safe Rust cannot
/// write into uninitialised memory, so every chunk a sealer or opener appends to a `Vec` is first
/// zero-filled (in cache, one chunk at a time) and then overwritten. A `ReusableBuffer` keeps its
/// high-water mark: after the first use, [`crate::Sealer`] and [`crate::Opener`] encrypt and
/// decrypt straight from the input into it, in one pass and without zero-filling.
///
/// The bytes it has ever held are wiped when it is dropped or [wiped](ReusableBuffer::wipe), and
/// those beyond its length when it is turned into a `Vec` ([`ReusableBuffer::into_vec`]): they may
/// be plaintext an opener wrote.
///
/// ```
/// use s3crypt::{ChunkSize, DataKey, Opener, OsRng, ReusableBuffer, seal};
///
/// let key = DataKey::generate(&mut OsRng)?;
/// let mut plaintext = ReusableBuffer::with_capacity(1 << 20); // once per connection
/// for object in [&[1u8; 100_000][..], &[2; 5]] {
///     let stored = seal(&key, ChunkSize::C2SP, b"", object, &mut OsRng)?;
///     plaintext.clear();
///     let mut opener = Opener::new(&key, ChunkSize::C2SP, b"");
///     opener.update(&stored, &mut plaintext)?;
///     opener.finish(&mut plaintext)?;
///     assert_eq!(&plaintext[..], object);
/// }
/// # Ok::<(), s3crypt::Error>(())
/// ```
#[derive(Default)]
pub struct ReusableBuffer {
    /// Initialised bytes: the high-water mark. The first `len` are the contents.
    buf: Vec<u8>,
    len: usize,
}

impl core::fmt::Debug for ReusableBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReusableBuffer").field("len", &self.len).finish_non_exhaustive()
    }
}

impl ReusableBuffer {
    /// An empty buffer that has allocated nothing yet.
    pub const fn new() -> Self {
        Self { buf: Vec::new(), len: 0 }
    }

    /// An empty buffer with `capacity` bytes allocated and initialised. For large sizes the
    /// allocator takes zero pages from the operating system, which fault in (once) when first
    /// written rather than being filled here.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { buf: vec![0; capacity], len: 0 }
    }

    /// Empties the buffer, keeping its bytes for reuse (they are overwritten before they are read
    /// again, and wiped on drop).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Wipes every byte the buffer has held and empties it.
    pub fn wipe(&mut self) {
        self.buf.as_mut_slice().zeroize();
        self.len = 0;
    }

    /// The contents.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The contents, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    /// Turns the buffer into a `Vec` of its contents, wiping the bytes beyond them.
    pub fn into_vec(mut self) -> Vec<u8> {
        let len = self.len;
        self.buf[len..].zeroize();
        self.buf.truncate(len);
        core::mem::take(&mut self.buf)
    }

    /// Appends `n` bytes: stale bytes of the buffer's own where it has them, zeros beyond.
    fn grow(&mut self, n: usize) -> &mut [u8] {
        let start = self.len;
        let end = start + n;
        if end > self.buf.len() {
            OutputBuffer::reserve(self, n);
            self.buf.resize(end, 0);
        }
        self.len = end;
        &mut self.buf[start..end]
    }
}

impl core::ops::Deref for ReusableBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl core::ops::DerefMut for ReusableBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for ReusableBuffer {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Drop for ReusableBuffer {
    fn drop(&mut self) {
        self.buf.as_mut_slice().zeroize();
    }
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
        if take == 0 {
            // Nothing to keep: a stream fed in whole chunks never allocates.
            return 0;
        }
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
        let mut idle = Scratch::new(8);
        assert_eq!(idle.fill_to(8, b""), 0);
        assert_eq!(idle.buf.capacity(), 0, "nothing buffered, nothing allocated");
    }

    #[test]
    fn reserve_wiping_moves_contents_and_keeps_doubling() {
        let mut v = b"secret".to_vec();
        v.shrink_to_fit();
        reserve_wiping(&mut v, 100);
        assert_eq!(v, b"secret");
        assert!(v.capacity() >= 106);
        let cap = v.capacity();
        reserve_wiping(&mut v, 1);
        assert_eq!(v.capacity(), cap, "no move while there is room");
        let mut m = BytesMut::from(&b"secret"[..]);
        reserve_wiping(&mut m, 1000);
        assert_eq!(&m[..], b"secret");
        assert!(m.capacity() >= 1006);
    }

    #[test]
    fn reusable_buffer_keeps_its_high_water_mark() {
        let mut b = ReusableBuffer::new();
        b.extend_from_slice(b"abcdef");
        b.clear();
        assert!(b.is_empty());
        assert_eq!(grow(&mut b, 4), b"abcd", "stale bytes are handed out for overwriting");
        b.extend_zeroed(4);
        assert_eq!(&b[..], b"abcd\0\0\0\0");
        b.truncate(2);
        assert_eq!(b.tail_mut(1), b"b");
        discard_from(&mut b, 1);
        assert_eq!(b.as_slice(), b"a");
        assert_eq!(b.buf[..6], *b"a\0cd\0\0", "discarded bytes are wiped");
        assert_eq!(b.into_vec(), b"a");
        let mut w = ReusableBuffer::with_capacity(8);
        w.extend_from_slice(b"xy");
        w.wipe();
        assert!(w.is_empty() && w.buf.iter().all(|&x| x == 0));
    }
}
