//! Body adapters: thin layers over the sans-I/O sealer and openers for the I/O types gateways
//! use, each behind its own feature. They perform no I/O of their own (they read and write only
//! the reader, writer or stream they wrap), keep at most one chunk of data in hand, and turn a
//! mid-stream authentication failure or truncation into an error, never into a clean end.
//!
//! - `io-std`: `SealingWriter` (`std::io::Write`), `OpeningReader` and `RangeReader`
//!   (`std::io::Read`).
//! - `io-stream`: `SealStream` and `OpenStream` over `futures::Stream<Item = Result<Bytes, E>>`
//!   (hyper and s3s bodies).
//! - `io-tokio`: `AsyncSealingWriter` (`tokio::io::AsyncWrite`) and `AsyncOpeningReader`
//!   (`tokio::io::AsyncRead`).
//!
//! Sealing is finished explicitly, with the mode's key: the final chunk is written only with the
//! envelope, as [`crate::ObjectSealer::finish`] does, so a body whose writer was dropped early can
//! never be mistaken for a complete object (it has no envelope and no final chunk).

#![cfg_attr(not(any(feature = "io-std", feature = "io-stream", feature = "io-tokio")), allow(dead_code))]

#[cfg(feature = "io-std")]
mod std_io;
#[cfg(feature = "io-stream")]
mod stream;
#[cfg(feature = "io-tokio")]
mod tokio_io;

#[cfg(feature = "io-std")]
pub use std_io::{OpeningReader, RangeReader, SealingWriter};
#[cfg(feature = "io-stream")]
pub use stream::{BodyError, OpenStream, SealStream};
#[cfg(feature = "io-tokio")]
pub use tokio_io::{AsyncOpeningReader, AsyncSealingWriter};

use crate::buffer::OutputBuffer;
use crate::envelope::{Envelope, ObjectId};
use crate::error::{Error, Result};
use crate::object::{ETag, ObjectKey, ObjectSealer, SealOptions};
use crate::stream::{ChunkSize, Opener, RangeOpener};
use crate::wrap::Encryptor;
use rand_core::TryCryptoRng;

/// Stored bytes read per step when opening: one sealed chunk of the default size, so a step
/// completes at most one chunk of any size — and, after the body's header is read on its own,
/// exactly one default-size chunk, which the opener then decrypts straight from the read buffer.
pub(crate) const READ_BLOCK: usize = ChunkSize::C2SP.sealed_len();

/// A sealer that accepts at most one chunk of plaintext per step.
pub(crate) struct SealCore {
    sealer: Option<ObjectSealer>,
    step: usize,
}

impl SealCore {
    pub(crate) fn new<R: TryCryptoRng + ?Sized>(options: SealOptions, rng: &mut R) -> Result<Self> {
        Ok(Self { sealer: Some(ObjectSealer::new(options, rng)?), step: options.chunk_size.bytes() })
    }

    /// The most ciphertext one [`SealCore::push`] appends: a chunk, its tag and the body's header.
    pub(crate) fn step_capacity(&self) -> usize {
        self.step + crate::stream::TAG_LEN + crate::stream::HEADER_LEN
    }

    /// Seals up to one chunk of `input` into `out`; returns how many bytes it took.
    pub(crate) fn push<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<usize> {
        let sealer = self.sealer.as_mut().ok_or(Error::InvalidChunkLength)?;
        let n = input.len().min(self.step);
        sealer.update(&input[..n], out)?;
        Ok(n)
    }

    /// Seals the envelope and the final chunk into `out`; returns the envelope and the object's
    /// S3 ETag ([`ObjectSealer::finish_with_etag`]).
    pub(crate) fn finish<B: OutputBuffer + ?Sized, R: TryCryptoRng + ?Sized>(
        &mut self,
        out: &mut B,
        encryptor: &dyn Encryptor,
        object: &ObjectId<'_>,
        rng: &mut R,
    ) -> Result<(Envelope, ETag)> {
        let sealer = self.sealer.take().ok_or(Error::InvalidChunkLength)?;
        sealer.finish_with_etag(out, encryptor, object, rng)
    }
}

/// A whole-body or ranged opener with "end of input" handled the same way for both.
pub(crate) enum OpenCore {
    Whole(Option<Opener>),
    Range(Option<RangeOpener>),
}

impl OpenCore {
    pub(crate) fn whole(key: &ObjectKey) -> Self {
        Self::Whole(Some(key.opener()))
    }

    pub(crate) fn range(opener: RangeOpener) -> Self {
        Self::Range(Some(opener))
    }

    /// Consumes stored bytes, appending authenticated plaintext to `out`.
    pub(crate) fn push<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        match self {
            Self::Whole(Some(o)) => o.update(input, out),
            Self::Range(Some(o)) => o.update(input, out),
            _ => Err(Error::TrailingData),
        }
    }

    /// The end of the stored bytes: the rest of the plaintext, or why the body is not complete.
    pub(crate) fn end<B: OutputBuffer + ?Sized>(&mut self, out: &mut B) -> Result<()> {
        match self {
            Self::Whole(o) => o.take().ok_or(Error::TrailingData)?.finish(out),
            Self::Range(o) => o.take().ok_or(Error::TrailingData)?.finish(),
        }
    }
}

/// An adapter error as a `std::io::Error`: authentication failures and truncation are
/// `InvalidData`, the rest `Other`; the crate's [`Error`] is the source (see [`crate_error`]).
#[cfg(any(feature = "io-std", feature = "io-tokio"))]
pub(crate) fn io_error(e: Error) -> std::io::Error {
    let kind = match e {
        Error::Authentication | Error::Truncated | Error::TrailingData | Error::WrongKey => {
            std::io::ErrorKind::InvalidData
        }
        _ => std::io::ErrorKind::Other,
    };
    std::io::Error::new(kind, e)
}

/// The crate's error inside an `std::io::Error` an adapter returned, if it came from s3crypt.
#[cfg(any(feature = "io-std", feature = "io-tokio"))]
pub fn crate_error(e: &std::io::Error) -> Option<&Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Error>())
}
