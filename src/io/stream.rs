//! `futures::Stream<Item = Result<Bytes, E>>` adapters (hyper and s3s bodies).

use super::{OpenCore, READ_BLOCK, SealCore};
use crate::envelope::{Envelope, ObjectId};
use crate::error::Error;
use crate::object::{ObjectKey, SealOptions};
use crate::stream::{HEADER_LEN, RangeOpener};
use crate::wrap::Encryptor;
use bytes::{Bytes, BytesMut};
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;
use rand_core::TryCryptoRng;

/// An error of a body stream: the source stream's own, or the crate's (authentication failure,
/// truncation, …).
#[derive(Debug)]
pub enum BodyError<E> {
    /// The wrapped stream failed.
    Source(E),
    /// The body failed to seal or open.
    Crypto(Error),
}

impl<E: core::fmt::Display> core::fmt::Display for BodyError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Source(e) => write!(f, "body stream: {e}"),
            Self::Crypto(e) => write!(f, "{e}"),
        }
    }
}

/// Bounded on `Debug + Display` only, so that bodies whose error is
/// `Box<dyn Error + Send + Sync>` (s3s, hyper) give an error type hyper and s3s accept.
impl<E: core::fmt::Debug + core::fmt::Display> std::error::Error for BodyError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Source(_) => None,
            Self::Crypto(e) => Some(e),
        }
    }
}

/// Seals a stream of plaintext pieces into a stream of ciphertext pieces, one chunk at a time
/// (a large input piece is split, without copying, into chunk-sized steps).
///
/// When the input ends, the stream ends *without the final chunk*: call [`SealStream::finish`]
/// with the mode's key for the envelope and the last bytes of the body.
pub struct SealStream<S> {
    inner: S,
    core: SealCore,
    input: Bytes,
    ended: bool,
}

impl<S> core::fmt::Debug for SealStream<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealStream").field("ended", &self.ended).finish_non_exhaustive()
    }
}

impl<S> SealStream<S> {
    /// Seals the plaintext of `inner` as a new object with a fresh data key from `rng`.
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    pub fn new<R: TryCryptoRng + ?Sized>(inner: S, options: SealOptions, rng: &mut R) -> crate::Result<Self> {
        Ok(Self { inner, core: SealCore::new(options, rng)?, input: Bytes::new(), ended: false })
    }

    /// After the stream ended: seals the envelope for `object` under `encryptor` and returns it
    /// with the body's last bytes (the final chunk), to append to what the stream yielded.
    ///
    /// # Errors
    /// [`Error::InvalidChunkLength`] if the input has not ended (or `finish` was called before);
    /// whatever the encryptor reports.
    pub fn finish<R: TryCryptoRng + ?Sized>(
        &mut self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> crate::Result<(Bytes, Envelope)> {
        self.finish_with_etag(encryptor, object, rng).map(|(tail, envelope, _)| (tail, envelope))
    }

    /// [`SealStream::finish`], also returning the object's S3 ETag ([`crate::ETag`]: the plaintext
    /// MD5 for SSE-S3 when [`crate::SealOptions::md5`] is on, a keyed value otherwise).
    ///
    /// # Errors
    /// As [`SealStream::finish`].
    pub fn finish_with_etag<R: TryCryptoRng + ?Sized>(
        &mut self,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> crate::Result<(Bytes, Envelope, crate::ETag)> {
        if !self.ended || !self.input.is_empty() {
            return Err(Error::InvalidChunkLength);
        }
        let mut out = BytesMut::new();
        let (envelope, etag) = self.core.finish(&mut out, encryptor, object, rng)?;
        Ok((out.freeze(), envelope, etag))
    }
}

impl<S, E> Stream for SealStream<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, BodyError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if !this.input.is_empty() {
                // Room for one chunk of ciphertext (and the body's header), so appending never
                // reallocates.
                let mut out = BytesMut::with_capacity(this.core.step_capacity());
                let n = match this.core.push(&this.input, &mut out) {
                    Ok(n) => n,
                    Err(e) => return Poll::Ready(Some(Err(BodyError::Crypto(e)))),
                };
                let _ = this.input.split_to(n);
                if !out.is_empty() {
                    return Poll::Ready(Some(Ok(out.freeze())));
                }
                continue;
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.ended = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(BodyError::Source(e)))),
                Poll::Ready(Some(Ok(piece))) => this.input = piece,
            }
        }
    }
}

/// Opens a stream of stored body pieces into a stream of plaintext pieces. Only authenticated
/// plaintext is yielded; a tampered or truncated body ends with an error item, never a clean end
/// (a gateway aborts the response on it).
pub struct OpenStream<S> {
    inner: S,
    core: OpenCore,
    input: Bytes,
    done: bool,
    /// Position within the current default-size sealed chunk (`None` while in the body's header).
    offset: Option<usize>,
    /// Bytes of the body's header still to come.
    header: usize,
}

impl<S> core::fmt::Debug for OpenStream<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenStream").field("done", &self.done).finish_non_exhaustive()
    }
}

impl<S> OpenStream<S> {
    /// Opens the whole body streamed by `inner` with the object's `key`.
    pub fn new(inner: S, key: &ObjectKey) -> Self {
        Self {
            inner,
            core: OpenCore::whole(key),
            input: Bytes::new(),
            done: false,
            offset: None,
            header: HEADER_LEN,
        }
    }

    /// Opens a range: `inner` streams exactly the stored bytes of `opener`'s plan
    /// ([`RangeOpener::plan`]`.ciphertext`).
    pub fn range(inner: S, opener: RangeOpener) -> Self {
        Self {
            inner,
            core: OpenCore::range(opener),
            input: Bytes::new(),
            done: false,
            offset: Some(0),
            header: 0,
        }
    }
}

impl<S, E> Stream for OpenStream<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, BodyError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if !this.input.is_empty() {
                // Up to the next boundary of a default-size chunk per step: at most one chunk of
                // plaintext out, and whole chunks go to the opener in one piece when they can.
                let boundary = match this.offset {
                    None => this.header,
                    Some(o) => READ_BLOCK - o,
                };
                let step = this.input.split_to(this.input.len().min(boundary));
                match &mut this.offset {
                    None => {
                        this.header -= step.len();
                        if this.header == 0 {
                            this.offset = Some(0);
                        }
                    }
                    Some(o) => *o = (*o + step.len()) % READ_BLOCK,
                }
                // Plaintext is shorter than the ciphertext it comes from; only a chunk completed
                // from bytes buffered earlier can need more (one reallocation).
                let mut out = BytesMut::with_capacity(step.len());
                if let Err(e) = this.core.push(&step, &mut out) {
                    this.done = true;
                    return Poll::Ready(Some(Err(BodyError::Crypto(e))));
                }
                if !out.is_empty() {
                    return Poll::Ready(Some(Ok(out.freeze())));
                }
                continue;
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(BodyError::Source(e))));
                }
                Poll::Ready(Some(Ok(piece))) => this.input = piece,
                Poll::Ready(None) => {
                    this.done = true;
                    let mut out = BytesMut::new();
                    return match this.core.end(&mut out) {
                        Ok(()) if out.is_empty() => Poll::Ready(None),
                        Ok(()) => Poll::Ready(Some(Ok(out.freeze()))),
                        Err(e) => Poll::Ready(Some(Err(BodyError::Crypto(e)))),
                    };
                }
            }
        }
    }
}
