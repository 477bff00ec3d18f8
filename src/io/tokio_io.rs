//! `tokio::io` adapters.

use super::{OpenCore, READ_BLOCK, SealCore, io_error};
use crate::envelope::{Envelope, ObjectId};
use crate::object::{ObjectKey, SealOptions};
use crate::wrap::Encryptor;
use core::pin::Pin;
use core::task::{Context, Poll};
use rand_core::TryCryptoRng;
use std::io;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

/// An `AsyncWrite`r that seals what is written to it into `inner`;
/// [`AsyncSealingWriter::finish`] seals the envelope and writes the final chunk.
///
/// Each `poll_write` takes at most one chunk, and only once the ciphertext of the previous one
/// has been written through.
pub struct AsyncSealingWriter<W> {
    inner: W,
    core: SealCore,
    pending: Vec<u8>,
    written: usize,
}

impl<W> core::fmt::Debug for AsyncSealingWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncSealingWriter")
            .field("pending", &(self.pending.len() - self.written))
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> AsyncSealingWriter<W> {
    /// Starts sealing a new object into `inner` with a fresh data key from `rng`.
    ///
    /// # Errors
    /// [`crate::Error::Rng`] if the generator fails.
    pub fn new<R: TryCryptoRng + ?Sized>(inner: W, options: SealOptions, rng: &mut R) -> crate::Result<Self> {
        Ok(Self { inner, core: SealCore::new(options, rng)?, pending: Vec::new(), written: 0 })
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Seals the envelope for `object` under `encryptor` (now, before any await), then writes the
    /// final chunk and flushes; the future gives back the writer and the envelope to store beside
    /// the body. The future holds neither `encryptor` nor `rng`, so it is `Send` whenever `W` is:
    /// it can run in a spawned task.
    ///
    /// # Errors
    /// `inner`'s errors; the sealer's ([`crate::io::crate_error`] recovers them).
    pub fn finish<R: TryCryptoRng + ?Sized>(
        self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> impl Future<Output = io::Result<(W, Envelope)>> + use<W, R> {
        let sealed = self.finish_with_etag(encryptor, object, rng);
        async move { sealed.await.map(|(inner, envelope, _)| (inner, envelope)) }
    }

    /// [`AsyncSealingWriter::finish`], also giving the object's S3 ETag ([`crate::ETag`]: the
    /// plaintext MD5 for SSE-S3 when [`crate::SealOptions::md5`] is on, a keyed value otherwise).
    ///
    /// # Errors
    /// As [`AsyncSealingWriter::finish`].
    pub fn finish_with_etag<R: TryCryptoRng + ?Sized>(
        mut self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> impl Future<Output = io::Result<(W, Envelope, crate::ETag)>> + use<W, R> {
        let mut tail = Vec::new();
        let sealed = self.core.finish(&mut tail, encryptor, object, rng).map_err(io_error);
        async move {
            let (envelope, etag) = sealed?;
            core::future::poll_fn(|cx| self.poll_drain(cx)).await?;
            self.inner.write_all(&tail).await?;
            self.inner.flush().await?;
            Ok((self.inner, envelope, etag))
        }
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AsyncSealingWriter<W> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        if !this.pending.is_empty() {
            return Poll::Pending;
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = this.core.push(buf, &mut this.pending).map_err(io_error)?;
        // The input is taken, so this call must report it taken: its ciphertext is written now
        // or on the next call, which also reports an error of `inner`.
        let _ = this.poll_drain(cx);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    /// Shuts down the inner writer *without* the final chunk: only [`AsyncSealingWriter::finish`]
    /// completes a body.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_shutdown(cx),
            other => other,
        }
    }
}

/// An `AsyncRead`er of an object's plaintext from its stored body `inner`: only authenticated
/// bytes are returned, and a tampered or truncated body ends in an `InvalidData` error, never a
/// clean end of file.
pub struct AsyncOpeningReader<R> {
    inner: R,
    core: OpenCore,
    block: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
    /// The error the body ended with: returned again on every later read.
    failed: Option<crate::Error>,
    /// Bytes to read on their own first (the body's header), so later reads align with chunks.
    first: usize,
}

impl<R> core::fmt::Debug for AsyncOpeningReader<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncOpeningReader").field("done", &self.done).finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> AsyncOpeningReader<R> {
    /// Opens the whole body read from `inner` with the object's `key`.
    pub fn new(inner: R, key: &ObjectKey) -> Self {
        Self::with_core(inner, OpenCore::whole(key), crate::HEADER_LEN)
    }

    /// Opens a range: `inner` yields exactly the stored bytes of `opener`'s plan
    /// ([`crate::RangeOpener::plan`]`.ciphertext`, e.g. a file seeked there and `take`n).
    pub fn range(inner: R, opener: crate::RangeOpener) -> Self {
        Self::with_core(inner, OpenCore::range(opener), 0)
    }

    fn with_core(inner: R, core: OpenCore, first: usize) -> Self {
        Self {
            inner,
            core,
            block: vec![0; READ_BLOCK],
            out: Vec::new(),
            pos: 0,
            done: false,
            failed: None,
            first,
        }
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncOpeningReader<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = &this.failed {
            return Poll::Ready(Err(io_error(e.clone())));
        }
        loop {
            if this.pos < this.out.len() {
                let n = dst.remaining().min(this.out.len() - this.pos);
                dst.put_slice(&this.out[this.pos..this.pos + n]);
                this.pos += n;
                return Poll::Ready(Ok(()));
            }
            this.out.clear();
            this.pos = 0;
            if this.done || dst.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let step = if this.first > 0 { this.first } else { this.block.len() };
            let mut block = ReadBuf::new(&mut this.block[..step]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut block) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            let n = block.filled().len();
            this.first = this.first.saturating_sub(n);
            let step = if n == 0 {
                this.core.end(&mut this.out)
            } else {
                this.core.push(&this.block[..n], &mut this.out)
            };
            this.done |= n == 0;
            if let Err(e) = step {
                this.failed = Some(e.clone());
                return Poll::Ready(Err(io_error(e)));
            }
        }
    }
}
