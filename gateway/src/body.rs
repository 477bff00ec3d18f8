//! Bodies in constant memory: PUT seals each received frame as it arrives; GET reads the stored
//! body in pieces on a blocking thread and opens it chunk by chunk into a bounded channel.
//!
//! A GET body that fails to authenticate part-way ends with an error item: hyper then aborts the
//! response (the connection is closed before the announced `Content-Length`), so a client never
//! sees a cleanly ended response with bytes that did not authenticate.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use s3crypt::{Error, HEADER_LEN, ObjectKey, ObjectSealer, RangeOpener};
use s3s::dto::StreamingBlob;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The error type of s3s body streams.
type StdError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Stored bytes read per step on GET.
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

/// How to turn the stored bytes into the response.
pub enum Decrypt {
    /// The whole body, opened as one stream.
    Whole(ObjectKey),
    /// A plaintext range.
    Range(ObjectKey, Range<u64>),
    /// Stored in plaintext (`--no-encryption`): this range of it.
    Plain(Range<u64>),
}

fn auth_error(e: &Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("stored object failed to open: {e}"))
}

/// Streams the plaintext of `file` (whose stored body is `body_len` bytes) as `len` bytes.
pub fn stream(file: File, body_len: u64, decrypt: Decrypt, len: u64) -> StreamingBlob {
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = produce(file, body_len, decrypt, &tx) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    StreamingBlob::new(BodyStream { rx, remaining: len })
}

fn send(tx: &mpsc::Sender<io::Result<Bytes>>, out: &mut Vec<u8>) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let bytes = Bytes::from(std::mem::take(out));
    tx.blocking_send(Ok(bytes)).map_err(|_| io::Error::other("client went away"))
}

fn produce(
    mut file: File,
    body_len: u64,
    decrypt: Decrypt,
    tx: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let mut buf = vec![0u8; READ_STEP];
    match decrypt {
        Decrypt::Plain(range) => {
            file.seek(SeekFrom::Start(range.start))?;
            let mut left = range.end - range.start;
            while left > 0 {
                let n = usize::try_from(left).map_or(READ_STEP, |l| l.min(READ_STEP));
                file.read_exact(&mut buf[..n])?;
                tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                    .map_err(|_| io::Error::other("client went away"))?;
                left -= n as u64;
            }
            Ok(())
        }
        Decrypt::Whole(key) => {
            let mut opener = key.opener();
            let mut left = body_len;
            let mut out = Vec::with_capacity(READ_STEP);
            while left > 0 {
                let n = usize::try_from(left).map_or(READ_STEP, |l| l.min(READ_STEP));
                file.read_exact(&mut buf[..n])?;
                opener.update(&buf[..n], &mut out).map_err(|e| auth_error(&e))?;
                send(tx, &mut out)?;
                left -= n as u64;
            }
            opener.finish(&mut out).map_err(|e| auth_error(&e))?;
            send(tx, &mut out)
        }
        Decrypt::Range(key, range) => {
            let mut header = [0u8; HEADER_LEN];
            file.read_exact(&mut header)?;
            let chunks = key.chunk_opener(&header).map_err(|e| auth_error(&e))?;
            let mut opener: RangeOpener = chunks.open_range(range).map_err(|e| auth_error(&e))?;
            let stored = opener.plan().ciphertext.clone();
            if stored.end > body_len {
                return Err(auth_error(&Error::Truncated));
            }
            file.seek(SeekFrom::Start(stored.start))?;
            let mut left = stored.end - stored.start;
            let mut out = Vec::with_capacity(READ_STEP);
            while left > 0 {
                let n = usize::try_from(left).map_or(READ_STEP, |l| l.min(READ_STEP));
                file.read_exact(&mut buf[..n])?;
                opener.update(&buf[..n], &mut out).map_err(|e| auth_error(&e))?;
                send(tx, &mut out)?;
                left -= n as u64;
            }
            opener.finish().map_err(|e| auth_error(&e))
        }
    }
}

/// Receives a PUT body frame by frame, sealing each (or storing it as is without a sealer) into
/// `file`; returns the plaintext length. Memory: one frame plus at most [`WRITE_STEP`] sealed bytes.
pub async fn receive(
    body: Option<StreamingBlob>,
    file: &mut File,
    sealer: Option<&mut ObjectSealer>,
) -> Result<u64, ReceiveError> {
    let mut out = Vec::with_capacity(WRITE_STEP + READ_STEP);
    let mut total = 0u64;
    let mut sealer = sealer;
    if let Some(mut body) = body {
        while let Some(frame) = body.next().await {
            let frame = frame.map_err(|e| ReceiveError::Client(e.to_string()))?;
            total += frame.len() as u64;
            match sealer.as_deref_mut() {
                Some(s) => s.update(&frame, &mut out).map_err(ReceiveError::Crypto)?,
                None => out.extend_from_slice(&frame),
            }
            if out.len() >= WRITE_STEP {
                tokio::task::block_in_place(|| file.write_all(&out)).map_err(ReceiveError::Io)?;
                out.clear();
            }
        }
    }
    tokio::task::block_in_place(|| file.write_all(&out)).map_err(ReceiveError::Io)?;
    Ok(total)
}

/// Why a PUT body could not be stored.
#[derive(Debug)]
pub enum ReceiveError {
    /// The client's stream failed (disconnect, bad signature chunk).
    Client(String),
    /// Sealing failed (an object beyond the format's size).
    Crypto(Error),
    /// The disk failed.
    Io(io::Error),
}
