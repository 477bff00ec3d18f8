//! Bodies in constant memory, through s3crypt's body adapters.
//!
//! PUT: the s3s body stream goes through [`SealStream`] (one chunk at a time) and the sealed pieces
//! are gathered into writes of at most [`WRITE_STEP`] bytes. GET: on a blocking thread an
//! [`OpeningReader`] (whole object) or [`RangeReader`] (a range) reads the stored body from the
//! object's one file handle and sends plaintext pieces into a bounded channel.
//!
//! A GET body that fails to authenticate part-way ends with an error item: hyper then aborts the
//! response (the connection is closed before the announced `Content-Length`), so a client never
//! sees a cleanly ended response with bytes that did not authenticate.

use crate::crypto::{ObjectCipher, State};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use s3crypt::io::{OpeningReader, RangeReader, SealStream};
use s3crypt::{
    ETag, Envelope, Error, HEADER_LEN, MultipartBody, MultipartOpener, ObjectId, ObjectKey, OsRng,
    SealOptions,
};
use s3s::dto::StreamingBlob;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The error type of s3s body streams.
type StdError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Plaintext bytes per step on GET.
const READ_STEP: usize = 256 * 1024;
/// Sealed bytes gathered before a write on PUT.
const WRITE_STEP: usize = 1024 * 1024;

/// The plaintext body of a GET: a bounded channel fed by a blocking reader.
pub struct BodyStream {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
}

impl Stream for BodyStream {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(Ok(b))) = &polled {
            self.remaining = self.remaining.saturating_sub(b.len() as u64);
        }
        polled.map(|item| item.map(|r| r.map_err(|e| Box::new(e) as StdError)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl s3s::stream::ByteStream for BodyStream {
    fn remaining_length(&self) -> s3s::stream::RemainingLength {
        s3s::stream::RemainingLength::new_exact(usize::try_from(self.remaining).unwrap_or(usize::MAX))
    }
}

/// A stored body ready to stream: checked as far as can be before the response starts.
pub enum Source {
    /// The whole body: the header already matched the key (a 500 otherwise, before any byte).
    Whole(OpeningReader<io::Take<File>>),
    /// A range: the header matched and the reader is positioned at the first planned chunk.
    Range(RangeReader<File>),
    /// Stored in plaintext (`--no-encryption`): this range of it.
    Plain(File, Range<u64>),
    /// A multipart object (whole, one part or a range): the opener and the file it reads.
    Multipart(File, MultipartOpener),
}

/// Prepares a multipart object's plaintext: the whole body, part `part`, or `range`. The stored
/// body must be as long as the part table says.
pub fn prepare_multipart(
    file: File,
    body_len: u64,
    body: &MultipartBody,
    part: Option<u32>,
    range: Option<Range<u64>>,
) -> Result<Source, Error> {
    if body.stored_len() != body_len {
        return Err(if body.stored_len() > body_len { Error::Truncated } else { Error::TrailingData });
    }
    let opener = match (part, range) {
        (Some(n), _) => body.part_opener(n)?,
        (None, Some(r)) => body.range_opener(r)?,
        (None, None) => body.opener(),
    };
    Ok(Source::Multipart(file, opener))
}

/// Prepares the plaintext of `file` (stored body `body_len` bytes) for streaming: checks the
/// body's length against the authenticated one and its header against the key, so a damaged or
/// substituted body is answered with a 500 before the response starts.
pub fn prepare(
    mut file: File,
    body_len: u64,
    key: Option<&ObjectKey>,
    range: Option<Range<u64>>,
) -> Result<Source, Error> {
    let Some(key) = key else {
        let range = range.unwrap_or(0..body_len);
        return Ok(Source::Plain(file, range));
    };
    if key.body_len().ok() != Some(body_len) {
        return Err(if key.body_len().is_ok_and(|l| l > body_len) {
            Error::Truncated
        } else {
            Error::TrailingData
        });
    }
    let mut header = [0u8; HEADER_LEN];
    file.read_exact_at(&mut header, 0).map_err(|_| Error::Truncated)?;
    key.chunk_opener(&header)?;
    match range {
        Some(range) => {
            RangeReader::new(file, key, range).map(Source::Range).map_err(|_| Error::Authentication)
        }
        None => {
            file.seek(SeekFrom::Start(0)).map_err(|_| Error::Truncated)?;
            Ok(Source::Whole(OpeningReader::new(file.take(body_len), key)))
        }
    }
}

/// Streams `source` as `len` plaintext bytes.
pub fn stream(source: Source, len: u64) -> StreamingBlob {
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let result = match source {
            Source::Whole(r) => pump(r, &tx),
            Source::Range(r) => pump(r, &tx),
            Source::Multipart(f, opener) => pump_multipart(f, opener, &tx),
            Source::Plain(mut f, range) => {
                f.seek(SeekFrom::Start(range.start)).and_then(|_| pump(f.take(range.end - range.start), &tx))
            }
        };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    StreamingBlob::new(BodyStream { rx, remaining: len })
}

fn pump_multipart(
    mut file: File,
    mut opener: MultipartOpener,
    tx: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let stored = opener.stored_range();
    file.seek(SeekFrom::Start(stored.start))?;
    let mut left = stored.end - stored.start;
    let mut buf = vec![0u8; READ_STEP];
    let mut out = Vec::with_capacity(READ_STEP + 64 * 1024);
    while left > 0 {
        let n = usize::try_from(left).map_or(READ_STEP, |l| l.min(READ_STEP));
        file.read_exact(&mut buf[..n])?;
        opener.update(&buf[..n], &mut out).map_err(crypto_error)?;
        if !out.is_empty() {
            tx.blocking_send(Ok(Bytes::from(std::mem::take(&mut out))))
                .map_err(|_| io::Error::other("client went away"))?;
        }
        left -= n as u64;
    }
    opener.finish().map_err(crypto_error)
}

fn crypto_error(e: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("stored object failed to open: {e}"))
}

fn pump(mut reader: impl Read, tx: &mpsc::Sender<io::Result<Bytes>>) -> io::Result<()> {
    let mut buf = vec![0u8; READ_STEP];
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Ok(());
        }
        tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..filled])))
            .map_err(|_| io::Error::other("client went away"))?;
    }
}

/// Why a PUT body could not be stored.
#[derive(Debug)]
pub enum ReceiveError {
    /// The client's stream failed (disconnect, bad signature chunk).
    Client(String),
    /// Sealing failed (an object beyond the format's size, the encryptor).
    Crypto(Error),
    /// The disk failed.
    Io(io::Error),
}

fn write(file: &mut File, out: &mut Vec<u8>) -> Result<(), ReceiveError> {
    tokio::task::block_in_place(|| file.write_all(out)).map_err(ReceiveError::Io)?;
    out.clear();
    Ok(())
}

/// Receives a PUT body and seals it into `file` through [`SealStream`]; returns the plaintext
/// length, the envelope sealed for `object` under `cipher` and the object's S3 ETag.
///
/// SSE-S3 computes the plaintext MD5 in the same pass: S3's ETag of a single-part SSE-S3 object is
/// that MD5, and clients compare it. SSE-C and SSE-KMS ETags are keyed values (no MD5 needed).
pub async fn receive_sealed(
    body: Option<StreamingBlob>,
    file: &mut File,
    cipher: &ObjectCipher,
    state: &State,
    object: &ObjectId<'_>,
) -> Result<(u64, Envelope, ETag), ReceiveError> {
    let body =
        body.unwrap_or_else(|| StreamingBlob::wrap(futures::stream::empty::<Result<Bytes, io::Error>>()));
    let options = SealOptions { md5: matches!(cipher, ObjectCipher::SseS3), ..SealOptions::default() };
    let mut sealed = SealStream::new(body, options, &mut OsRng).map_err(ReceiveError::Crypto)?;
    let mut out = Vec::with_capacity(WRITE_STEP + 64 * 1024);
    while let Some(piece) = sealed.next().await {
        let piece = piece.map_err(|e| match e {
            s3crypt::io::BodyError::Source(e) => ReceiveError::Client(e.to_string()),
            s3crypt::io::BodyError::Crypto(e) => ReceiveError::Crypto(e),
        })?;
        out.extend_from_slice(&piece);
        if out.len() >= WRITE_STEP {
            write(file, &mut out)?;
        }
    }
    let (tail, envelope, etag) =
        sealed.finish_with_etag(cipher.encryptor(state), object, &mut OsRng).map_err(ReceiveError::Crypto)?;
    out.extend_from_slice(&tail);
    write(file, &mut out)?;
    Ok((envelope.unverified_plaintext_len(), envelope, etag))
}

/// Receives a PUT body as is (`--no-encryption`); returns its length.
pub async fn receive_plain(body: Option<StreamingBlob>, file: &mut File) -> Result<u64, ReceiveError> {
    let mut total = 0u64;
    let mut out = Vec::with_capacity(WRITE_STEP + 64 * 1024);
    if let Some(mut body) = body {
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| ReceiveError::Client(e.to_string()))?;
            total += piece.len() as u64;
            out.extend_from_slice(&piece);
            if out.len() >= WRITE_STEP {
                write(file, &mut out)?;
            }
        }
    }
    write(file, &mut out)?;
    Ok(total)
}
