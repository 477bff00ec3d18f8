//! `std::io` adapters.

use super::{OpenCore, READ_BLOCK, SealCore, io_error};
use crate::envelope::{Envelope, ObjectId};
use crate::object::{ObjectKey, SealOptions};
use crate::stream::HEADER_LEN;
use crate::wrap::Encryptor;
use core::ops::Range;
use rand_core::TryCryptoRng;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// A `Write`r that seals what is written to it into `inner`; [`SealingWriter::finish`] seals the
/// envelope and writes the final chunk.
///
/// Each `write` takes at most one chunk and writes its ciphertext through before returning, so
/// the writer holds no more than one chunk (the sealer's partial chunk) between calls.
///
/// ```
/// use s3crypt::io::{OpeningReader, SealingWriter};
/// use s3crypt::{Keyring, ObjectId, OsRng, RootKey, SealOptions};
/// use std::io::{Read, Write};
///
/// let keyring = Keyring::new("root", 1, RootKey::generate(&mut OsRng)?)?;
/// let object = ObjectId::new("bucket", "key");
/// let mut writer = SealingWriter::new(Vec::new(), SealOptions::default(), &mut OsRng)?;
/// writer.write_all(b"hello")?;
/// let (body, envelope) = writer.finish(&keyring, &object, &mut OsRng)?;
///
/// let key = envelope.open(&keyring, &object)?;
/// let mut plain = Vec::new();
/// OpeningReader::new(body.as_slice(), &key).read_to_end(&mut plain)?;
/// assert_eq!(plain, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SealingWriter<W> {
    inner: W,
    core: SealCore,
    /// Ciphertext not yet accepted by `inner`: `pending[written..]`.
    pending: Vec<u8>,
    written: usize,
}

impl<W> core::fmt::Debug for SealingWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealingWriter")
            .field("pending", &(self.pending.len() - self.written))
            .finish_non_exhaustive()
    }
}

impl<W: Write> SealingWriter<W> {
    /// Starts sealing a new object into `inner` with a fresh data key from `rng`.
    ///
    /// # Errors
    /// [`crate::Error::Rng`] if the generator fails.
    pub fn new<R: TryCryptoRng + ?Sized>(inner: W, options: SealOptions, rng: &mut R) -> crate::Result<Self> {
        Ok(Self { inner, core: SealCore::new(options, rng)?, pending: Vec::new(), written: 0 })
    }

    /// Writes the pending ciphertext through, keeping track of what `inner` took if it fails.
    fn drain(&mut self) -> io::Result<()> {
        while self.written < self.pending.len() {
            match self.inner.write(&self.pending[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pending.clear();
        self.written = 0;
        Ok(())
    }

    /// Seals the envelope for `object` under `encryptor`, writes the final chunk and flushes;
    /// returns the writer and the envelope to store beside the body.
    ///
    /// # Errors
    /// `inner`'s errors; the sealer's ([`crate::io::crate_error`] recovers them).
    pub fn finish<R: TryCryptoRng + ?Sized>(
        self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> io::Result<(W, Envelope)> {
        self.finish_with_etag(encryptor, object, rng).map(|(inner, envelope, _)| (inner, envelope))
    }

    /// [`SealingWriter::finish`], also returning the object's S3 ETag ([`crate::ETag`]: the
    /// plaintext MD5 for SSE-S3 when [`crate::SealOptions::md5`] is on, a keyed value otherwise).
    ///
    /// # Errors
    /// As [`SealingWriter::finish`].
    pub fn finish_with_etag<R: TryCryptoRng + ?Sized>(
        mut self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> io::Result<(W, Envelope, crate::ETag)> {
        self.drain()?;
        let (envelope, etag) =
            self.core.finish(&mut self.pending, encryptor, object, rng).map_err(io_error)?;
        self.drain()?;
        self.inner.flush()?;
        Ok((self.inner, envelope, etag))
    }
}

impl<W: Write> Write for SealingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.drain()?;
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.core.push(buf, &mut self.pending).map_err(io_error)?;
        // The input is taken, so this call must report it taken: if `inner` fails now, its
        // ciphertext stays pending and the error comes with the next call.
        let _ = self.drain();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

/// Plaintext waiting to be read, and the reader's end state.
#[derive(Default)]
struct Output {
    buf: Vec<u8>,
    pos: usize,
    done: bool,
    /// The error the body ended with: returned again on every later read.
    failed: Option<crate::Error>,
    /// Bytes to read on their own first (the body's header), so later reads align with chunks.
    first: usize,
}

impl Output {
    /// Copies what is buffered into `dst`; `None` if nothing is.
    fn serve(&mut self, dst: &mut [u8]) -> Option<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            return None;
        }
        let n = dst.len().min(self.buf.len() - self.pos);
        dst[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Some(n)
    }
}

/// A `Read`er of an object's plaintext from its stored body `inner`: only authenticated bytes are
/// returned, and a tampered or truncated body ends in an `InvalidData` error, never `Ok(0)`.
pub struct OpeningReader<R> {
    inner: R,
    core: OpenCore,
    block: Vec<u8>,
    out: Output,
}

impl<R> core::fmt::Debug for OpeningReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpeningReader").field("done", &self.out.done).finish_non_exhaustive()
    }
}

impl<R: Read> OpeningReader<R> {
    /// Opens the whole body read from `inner` with the object's `key`.
    pub fn new(inner: R, key: &ObjectKey) -> Self {
        let out = Output { first: HEADER_LEN, ..Output::default() };
        Self { inner, core: OpenCore::whole(key), block: vec![0; READ_BLOCK], out }
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// The read loop shared by [`OpeningReader`] and [`RangeReader`]: serve buffered plaintext, else
/// read a block (at most `limit` bytes) and open it; at the end, finish or fail.
fn read_opened<R: Read>(
    inner: &mut R,
    core: &mut OpenCore,
    block: &mut [u8],
    out: &mut Output,
    limit: &mut Option<u64>,
    dst: &mut [u8],
) -> io::Result<usize> {
    if dst.is_empty() {
        return Ok(0);
    }
    if let Some(e) = &out.failed {
        return Err(io_error(e.clone()));
    }
    let result = read_step(inner, core, block, out, limit, dst);
    if let Err(e) = &result {
        if let Some(e) = super::crate_error(e) {
            out.failed = Some(e.clone());
        }
    }
    result
}

fn read_step<R: Read>(
    inner: &mut R,
    core: &mut OpenCore,
    block: &mut [u8],
    out: &mut Output,
    limit: &mut Option<u64>,
    dst: &mut [u8],
) -> io::Result<usize> {
    loop {
        if let Some(n) = out.serve(dst) {
            return Ok(n);
        }
        if out.done {
            return Ok(0);
        }
        let step = if out.first > 0 { out.first } else { block.len() };
        let want = limit.map_or(step, |l| usize::try_from(l).unwrap_or(usize::MAX).min(step));
        let n = if want == 0 { 0 } else { inner.read(&mut block[..want])? };
        if n == 0 {
            out.done = true;
            core.end(&mut out.buf).map_err(io_error)?;
            continue;
        }
        if let Some(l) = limit {
            *l -= n as u64;
        }
        out.first = out.first.saturating_sub(n);
        core.push(&block[..n], &mut out.buf).map_err(io_error)?;
    }
}

impl<R: Read> Read for OpeningReader<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        read_opened(&mut self.inner, &mut self.core, &mut self.block, &mut self.out, &mut None, dst)
    }
}

/// A `Read`er of a plaintext byte range of an object, from its stored body `inner` (seekable):
/// it reads the body's header, seeks to the first chunk of the range and reads exactly the
/// planned chunks ([`crate::ChunkSize::plan_range`]).
pub struct RangeReader<R> {
    inner: R,
    core: OpenCore,
    block: Vec<u8>,
    out: Output,
    remaining: Option<u64>,
}

impl<R> core::fmt::Debug for RangeReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RangeReader").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

impl<R: Read + Seek> RangeReader<R> {
    /// Opens plaintext bytes `range` of the object whose stored body is `inner`, with its `key`.
    ///
    /// # Errors
    /// `inner`'s errors; [`crate::Error::InvalidRange`] for an empty range or one outside the
    /// object, [`crate::Error::Authentication`] if the header is not this object's (as
    /// `std::io::Error`s, see [`crate::io::crate_error`]).
    pub fn new(mut inner: R, key: &ObjectKey, range: Range<u64>) -> io::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        inner.seek(SeekFrom::Start(0))?;
        inner.read_exact(&mut header).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => io_error(crate::Error::Truncated),
            _ => e,
        })?;
        let opener = key.chunk_opener(&header).and_then(|o| o.open_range(range)).map_err(io_error)?;
        let planned = opener.plan().ciphertext.clone();
        inner.seek(SeekFrom::Start(planned.start))?;
        Ok(Self {
            inner,
            core: OpenCore::range(opener),
            block: vec![0; READ_BLOCK],
            out: Output::default(),
            remaining: Some(planned.end - planned.start),
        })
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for RangeReader<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        read_opened(&mut self.inner, &mut self.core, &mut self.block, &mut self.out, &mut self.remaining, dst)
    }
}
