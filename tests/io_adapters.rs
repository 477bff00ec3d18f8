//! The body adapters: round trips at boundary sizes with tiny and odd reads and writes, and a
//! hostile case for each defence (truncate, append, flip) that must end in an error, never a
//! clean end of body.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]
#![cfg(any(feature = "io-std", feature = "io-stream", feature = "io-tokio"))]

mod common;

use common::{TestRng, pattern, seal_object};
use s3crypt::{Envelope, HEADER_LEN, Keyring, ObjectId, RootKey, SealOptions};

const CHUNK: usize = 16 * 1024;
/// Every boundary the chunking has: empty, one byte, around one chunk, around several.
const SIZES: [usize; 8] = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5, 5 * CHUNK - 1];

fn keyring() -> Keyring {
    Keyring::new("root", 1, RootKey::from_bytes([5; 32])).unwrap()
}

fn object() -> ObjectId<'static> {
    ObjectId::new("bucket", "key")
}

fn sealed(len: usize) -> (Vec<u8>, Envelope, Vec<u8>) {
    let msg = pattern(len);
    let (envelope, body) = seal_object(&keyring(), &object(), &msg, SealOptions::default(), len as u64 + 1);
    (msg, envelope, body)
}

/// Hostile variants of a body: each must fail to open.
fn hostile(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut cases = vec![
        ("empty".to_owned(), Vec::new()),
        ("header only".to_owned(), body[..HEADER_LEN].to_vec()),
        ("last byte cut".to_owned(), body[..body.len() - 1].to_vec()),
        ("one byte appended".to_owned(), [body, &[0][..]].concat()),
    ];
    if body.len() > HEADER_LEN + CHUNK + 16 {
        // The final chunk dropped: what remains ends on a full chunk, as no honest writer stops.
        let full = HEADER_LEN + (body.len() - HEADER_LEN - 1) / (CHUNK + 16) * (CHUNK + 16);
        cases.push(("final chunk dropped".to_owned(), body[..full].to_vec()));
    }
    for at in [HEADER_LEN / 2, HEADER_LEN, HEADER_LEN + 7, body.len() / 2, body.len() - 1] {
        let mut flipped = body.to_vec();
        flipped[at] ^= 0x20;
        cases.push((format!("bit flipped at {at}"), flipped));
    }
    cases
}

#[cfg(feature = "io-std")]
mod std_io {
    use super::*;
    use s3crypt::io::{OpeningReader, RangeReader, SealingWriter, crate_error};
    use s3crypt::{ChunkSize, Error};
    use std::io::{Cursor, Read, Write};

    /// A writer that takes at most 3 bytes per call and fails once, on its second call.
    struct Stingy {
        out: Vec<u8>,
        calls: usize,
    }
    impl Write for Stingy {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls == 2 {
                return Err(std::io::Error::other("transient"));
            }
            let n = buf.len().min(3);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A reader that returns at most `n` bytes per call.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
            let n = dst.len().min(self.1).min(self.0.len());
            dst[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn read_in(reader: &mut impl Read, step: usize) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0; step];
        loop {
            match reader.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn writer_and_reader_round_trip_at_every_boundary() {
        let mut rng = TestRng(9);
        for len in SIZES {
            let msg = pattern(len);
            for write_step in [1, 7, CHUNK - 1, CHUNK + 3, 1 << 20] {
                if write_step == 1 && len > 2 * CHUNK {
                    continue;
                }
                let mut writer = SealingWriter::new(Vec::new(), SealOptions::default(), &mut rng).unwrap();
                for piece in msg.chunks(write_step) {
                    writer.write_all(piece).unwrap();
                }
                let (body, envelope) = writer.finish(&keyring(), &object(), &mut rng).unwrap();
                assert_eq!(body.len() as u64, envelope.body_len().unwrap());
                let key = envelope.open(&keyring(), &object()).unwrap();
                for (read_step, trickle) in [(1, 5), (13, 1 << 20), (CHUNK + 1, 100)] {
                    if read_step == 1 && len > 2 * CHUNK {
                        continue;
                    }
                    let mut reader = OpeningReader::new(Trickle(&body, trickle), &key);
                    assert_eq!(
                        read_in(&mut reader, read_step).unwrap(),
                        msg,
                        "len {len} write {write_step} read {read_step}"
                    );
                    // After the end, still the end.
                    assert_eq!(reader.read(&mut [0; 4]).unwrap(), 0);
                }
            }
        }
    }

    #[test]
    fn writer_survives_a_stingy_failing_inner_writer() {
        let mut rng = TestRng(10);
        let msg = pattern(3 * CHUNK + 5);
        let mut writer =
            SealingWriter::new(Stingy { out: Vec::new(), calls: 0 }, SealOptions::default(), &mut rng)
                .unwrap();
        let mut rest = &msg[..];
        let mut failures = 0;
        while !rest.is_empty() {
            match writer.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(_) => failures += 1,
            }
        }
        // The failure happened (on the inner writer's second call) but lost and duplicated nothing:
        // it is reported at most once, by a call that took no input.
        assert!(failures <= 1);
        let (inner, envelope) = writer.finish(&keyring(), &object(), &mut rng).unwrap();
        let key = envelope.open(&keyring(), &object()).unwrap();
        let mut plain = Vec::new();
        OpeningReader::new(inner.out.as_slice(), &key).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, msg);
    }

    #[test]
    fn hostile_bodies_end_in_an_error_never_a_clean_eof() {
        for len in [1, CHUNK, 3 * CHUNK + 5] {
            let (msg, envelope, body) = sealed(len);
            let key = envelope.open(&keyring(), &object()).unwrap();
            for (name, bad) in hostile(&body) {
                let mut reader = OpeningReader::new(Trickle(&bad, 1000), &key);
                let mut got = Vec::new();
                let mut buf = [0u8; 999];
                let err = loop {
                    match reader.read(&mut buf) {
                        Ok(0) => panic!("{name} (len {len}): clean EOF"),
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) => break e,
                    }
                };
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}");
                let inner = crate_error(&err).unwrap();
                assert!(
                    matches!(inner, Error::Authentication | Error::Truncated | Error::TrailingData),
                    "{name}: {inner:?}"
                );
                // Whatever was released is an authenticated prefix of the object.
                assert_eq!(got, msg[..got.len()], "{name}");
                // The error is sticky: no clean end after it.
                assert_eq!(crate_error(&reader.read(&mut buf).unwrap_err()), Some(inner), "{name}");
            }
        }
    }

    #[test]
    fn range_reader_reads_exactly_the_range() {
        let len = 5 * CHUNK - 1;
        let (msg, envelope, body) = sealed(len);
        let key = envelope.open(&keyring(), &object()).unwrap();
        let c = CHUNK as u64;
        let l = len as u64;
        for range in [0..1, l - 1..l, c - 1..c + 1, c..2 * c, 3..4 * c + 17, 0..l] {
            let plan = ChunkSize::C2SP.plan_range(l, range.clone()).unwrap();
            let mut reader = RangeReader::new(Cursor::new(&body), &key, range.clone()).unwrap();
            let got = read_in(&mut reader, 4099).unwrap();
            assert_eq!(got, msg[range.start as usize..range.end as usize], "{range:?}");
            // It read no further than the planned chunks.
            assert_eq!(reader.into_inner().position(), plan.ciphertext.end, "{range:?}");
        }
        // Out-of-object and empty ranges are refused up front.
        for range in [l..l + 1, 5..5] {
            let err = RangeReader::new(Cursor::new(&body), &key, range).unwrap_err();
            assert_eq!(crate_error(&err), Some(&Error::InvalidRange));
        }
    }

    #[test]
    fn range_reader_refuses_hostile_bodies() {
        let len = 3 * CHUNK + 5;
        let (_, envelope, body) = sealed(len);
        let key = envelope.open(&keyring(), &object()).unwrap();
        let range = CHUNK as u64 - 2..CHUNK as u64 + 2;
        // A flip inside the planned chunks, a flip in the header, a body cut inside the range.
        let mut flipped = body.clone();
        flipped[HEADER_LEN + CHUNK + 16 + 3] ^= 1;
        let mut bad_header = body.clone();
        bad_header[3] ^= 1;
        let cut = body[..HEADER_LEN + CHUNK + 16 + 100].to_vec();
        let short = body[..10].to_vec();
        for (name, bad) in [("flip", flipped), ("header", bad_header), ("cut", cut), ("short", short)] {
            let result = RangeReader::new(Cursor::new(&bad), &key, range.clone())
                .and_then(|mut r| read_in(&mut r, 100));
            let err = result.expect_err(name);
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}");
        }
    }
}

#[cfg(feature = "io-stream")]
mod stream {
    use super::*;
    use bytes::Bytes;
    use futures_core::Stream;
    use s3crypt::Error;
    use s3crypt::io::{BodyError, OpenStream, SealStream};
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// A stream of pieces that is `Pending` every other poll (waking itself), as a socket is.
    struct Pieces {
        items: std::collections::VecDeque<Result<Bytes, &'static str>>,
        stall: bool,
    }
    impl Pieces {
        fn new(data: &[u8], step: usize) -> Self {
            Self {
                items: data.chunks(step.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect(),
                stall: false,
            }
        }
    }
    impl Stream for Pieces {
        type Item = Result<Bytes, &'static str>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.stall = !self.stall;
            if self.stall {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.items.pop_front())
        }
    }

    /// Drains a stream on the current thread; the items, and whether it ended cleanly.
    fn drain<S: Stream + Unpin>(mut s: S) -> Vec<S::Item> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        loop {
            match Pin::new(&mut s).poll_next(&mut cx) {
                Poll::Pending => {}
                Poll::Ready(Some(item)) => out.push(item),
                Poll::Ready(None) => return out,
            }
        }
    }

    fn open_all(
        body: &[u8],
        step: usize,
        key: &s3crypt::ObjectKey,
    ) -> (Vec<u8>, Option<BodyError<&'static str>>) {
        let mut plain = Vec::new();
        let mut items = drain(OpenStream::new(Pieces::new(body, step), key)).into_iter();
        for item in items.by_ref() {
            match item {
                Ok(b) => {
                    assert!(b.len() <= CHUNK, "at most one chunk per item");
                    plain.extend_from_slice(&b);
                }
                Err(e) => {
                    assert!(items.next().is_none(), "nothing after an error");
                    return (plain, Some(e));
                }
            }
        }
        (plain, None)
    }

    #[test]
    fn seal_and_open_streams_round_trip() {
        let mut rng = TestRng(11);
        for len in SIZES {
            let msg = pattern(len);
            for step in [1, 1000, CHUNK, 1 << 20] {
                if step == 1 && len > CHUNK + 1 {
                    continue;
                }
                let mut sealer =
                    SealStream::new(Pieces::new(&msg, step), SealOptions::default(), &mut rng).unwrap();
                let mut body = Vec::new();
                {
                    let mut cx = Context::from_waker(Waker::noop());
                    loop {
                        match Pin::new(&mut sealer).poll_next(&mut cx) {
                            Poll::Pending => {}
                            Poll::Ready(Some(item)) => {
                                let piece = item.unwrap();
                                assert!(piece.len() <= CHUNK + 16 + HEADER_LEN);
                                body.extend_from_slice(&piece);
                            }
                            Poll::Ready(None) => break,
                        }
                    }
                }
                let (tail, envelope) = sealer.finish(&keyring(), &object(), &mut rng).unwrap();
                body.extend_from_slice(&tail);
                assert!(sealer.finish(&keyring(), &object(), &mut rng).is_err(), "finish twice");
                let key = envelope.open(&keyring(), &object()).unwrap();
                for open_step in [1, 777, 1 << 20] {
                    if open_step == 1 && len > CHUNK + 1 {
                        continue;
                    }
                    let (plain, err) = open_all(&body, open_step, &key);
                    assert!(err.is_none(), "{err:?}");
                    assert_eq!(plain, msg, "len {len} seal step {step} open step {open_step}");
                }
            }
        }
    }

    #[test]
    fn hostile_bodies_end_with_an_error_item() {
        for len in [1, CHUNK, 3 * CHUNK + 5] {
            let (msg, envelope, body) = sealed(len);
            let key = envelope.open(&keyring(), &object()).unwrap();
            for (name, bad) in hostile(&body) {
                for step in [100, 1 << 20] {
                    let (plain, err) = open_all(&bad, step, &key);
                    let Some(BodyError::Crypto(e)) = err else { panic!("{name}: ended cleanly") };
                    assert!(
                        matches!(e, Error::Authentication | Error::Truncated | Error::TrailingData),
                        "{name}: {e:?}"
                    );
                    assert_eq!(plain, msg[..plain.len()], "{name}");
                }
            }
        }
    }

    #[test]
    fn ranged_open_stream_and_source_errors() {
        let len = 3 * CHUNK + 5;
        let (msg, envelope, body) = sealed(len);
        let key = envelope.open(&keyring(), &object()).unwrap();
        let range = CHUNK as u64 - 1..2 * CHUNK as u64 + 1;
        let opener = key.chunk_opener(&body[..HEADER_LEN]).unwrap().open_range(range.clone()).unwrap();
        let fetch = opener.plan().ciphertext.clone();
        let stored = &body[fetch.start as usize..fetch.end as usize];
        let items = drain(OpenStream::range(Pieces::new(stored, 333), opener));
        let plain: Vec<u8> = items.into_iter().flat_map(|i| i.unwrap().to_vec()).collect();
        assert_eq!(plain, msg[range.start as usize..range.end as usize]);

        // A range whose bytes stop early ends in an error.
        let opener = key.chunk_opener(&body[..HEADER_LEN]).unwrap().open_range(range).unwrap();
        let items = drain(OpenStream::range(Pieces::new(&stored[..stored.len() - 1], 333), opener));
        assert!(matches!(items.last(), Some(Err(BodyError::Crypto(Error::Truncated)))));

        // The source's own error is passed on, and ends the stream.
        let mut source = Pieces::new(&body[..100], 50);
        source.items.push_back(Err("connection reset"));
        source.items.push_back(Ok(Bytes::from_static(b"more")));
        let items = drain(OpenStream::new(source, &key));
        assert!(matches!(items.last(), Some(Err(BodyError::Source("connection reset")))));

        // The error type of an s3s/hyper body (`Box<dyn Error + Send + Sync>`) makes a
        // `BodyError` that converts back into one, as those crates require of a body.
        type Boxed = Box<dyn std::error::Error + Send + Sync>;
        let e: BodyError<Boxed> = BodyError::Crypto(Error::Authentication);
        let boxed: Boxed = e.into();
        assert_eq!(boxed.to_string(), "authentication failed");
    }
}

#[cfg(feature = "io-tokio")]
mod tokio_io {
    use super::*;
    use s3crypt::io::{AsyncOpeningReader, AsyncSealingWriter, crate_error};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn async_writer_and_reader_round_trip() {
        let mut rng = TestRng(12);
        for len in SIZES {
            let msg = pattern(len);
            for step in [7, CHUNK + 1, 1 << 20] {
                let mut writer =
                    AsyncSealingWriter::new(Vec::new(), SealOptions::default(), &mut rng).unwrap();
                for piece in msg.chunks(step) {
                    writer.write_all(piece).await.unwrap();
                }
                let (body, envelope) = writer.finish(&keyring(), &object(), &mut rng).await.unwrap();
                let key = envelope.open(&keyring(), &object()).unwrap();
                let mut reader = AsyncOpeningReader::new(body.as_slice(), &key);
                let mut plain = Vec::new();
                let mut buf = [0u8; 4097];
                loop {
                    match reader.read(&mut buf).await.unwrap() {
                        0 => break,
                        n => plain.extend_from_slice(&buf[..n]),
                    }
                }
                assert_eq!(plain, msg, "len {len} step {step}");
            }
        }
    }

    /// Through a 61-byte pipe, both adapters meet `Pending` on nearly every call: the sealing
    /// writer's pending ciphertext and the reader's partial blocks.
    #[tokio::test]
    async fn async_adapters_through_a_tiny_pipe() {
        for len in [0, 1, CHUNK + 1, 3 * CHUNK + 5] {
            let msg = pattern(len);
            let (to_sealer, from_sealer) = tokio::io::duplex(61);
            let producer = {
                let msg = msg.clone();
                tokio::spawn(async move {
                    let mut rng = TestRng(13);
                    let mut writer =
                        AsyncSealingWriter::new(to_sealer, SealOptions::default(), &mut rng).unwrap();
                    for piece in msg.chunks(1000) {
                        writer.write_all(piece).await.unwrap();
                    }
                    let (mut inner, envelope) = writer.finish(&keyring(), &object(), &mut rng).await.unwrap();
                    inner.shutdown().await.unwrap();
                    envelope
                })
            };
            let mut body = Vec::new();
            let mut from_sealer = from_sealer;
            from_sealer.read_to_end(&mut body).await.unwrap();
            let envelope = producer.await.unwrap();
            assert_eq!(body.len() as u64, envelope.body_len().unwrap());

            let key = envelope.open(&keyring(), &object()).unwrap();
            let (mut to_reader, from_storage) = tokio::io::duplex(61);
            let feeder = tokio::spawn(async move {
                to_reader.write_all(&body).await.unwrap();
                to_reader.shutdown().await.unwrap();
            });
            let mut reader = AsyncOpeningReader::new(from_storage, &key);
            let mut plain = Vec::new();
            let mut buf = [0u8; 3];
            loop {
                match reader.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => plain.extend_from_slice(&buf[..n]),
                }
            }
            feeder.await.unwrap();
            assert_eq!(plain, msg, "len {len}");
        }
    }

    #[tokio::test]
    async fn async_reader_refuses_hostile_bodies() {
        for len in [1, CHUNK, 3 * CHUNK + 5] {
            let (msg, envelope, body) = sealed(len);
            let key = envelope.open(&keyring(), &object()).unwrap();
            for (name, bad) in hostile(&body) {
                let mut reader = AsyncOpeningReader::new(bad.as_slice(), &key);
                let mut plain = Vec::new();
                let err = reader.read_to_end(&mut plain).await.expect_err(&name);
                assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{name}");
                let inner = crate_error(&err).unwrap().clone();
                assert_eq!(plain, msg[..plain.len()], "{name}");
                assert_eq!(crate_error(&reader.read(&mut [0; 8]).await.unwrap_err()), Some(&inner), "{name}");
            }
        }
        // A range.
        let (msg, envelope, body) = sealed(3 * CHUNK + 5);
        let key = envelope.open(&keyring(), &object()).unwrap();
        let opener = key.chunk_opener(&body[..HEADER_LEN]).unwrap().open_range(5..CHUNK as u64 * 2).unwrap();
        let fetch = opener.plan().ciphertext.clone();
        let mut reader = AsyncOpeningReader::range(&body[fetch.start as usize..fetch.end as usize], opener);
        let mut plain = Vec::new();
        reader.read_to_end(&mut plain).await.unwrap();
        assert_eq!(plain, msg[5..CHUNK * 2]);
    }
}

#[cfg(feature = "io-std")]
mod std_io_props {
    use super::*;
    use proptest::prelude::*;
    use s3crypt::ChunkSize;
    use s3crypt::io::{OpeningReader, RangeReader, SealingWriter};
    use std::io::{Cursor, Read, Write};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Random lengths, random write and read sizes, chunk sizes of 16 and 64 KiB: what is
        /// written reads back, whole and by any range.
        #[test]
        fn random_splits_round_trip(
            len in 0usize..200_000,
            writes in proptest::collection::vec(1usize..70_000, 1..8),
            reads in proptest::collection::vec(1usize..70_000, 1..8),
            large in any::<bool>(),
            seed in any::<u64>(),
            a in any::<u64>(),
            b in any::<u64>(),
        ) {
            let mut rng = TestRng(seed | 1);
            let options = SealOptions {
                chunk_size: if large { ChunkSize::from_bytes(65536).unwrap() } else { ChunkSize::C2SP },
                ..SealOptions::default()
            };
            let msg = pattern(len);
            let mut writer = SealingWriter::new(Vec::new(), options, &mut rng).unwrap();
            let mut rest = &msg[..];
            for step in writes.iter().cycle() {
                if rest.is_empty() { break; }
                let n = writer.write(&rest[..rest.len().min(*step)]).unwrap();
                rest = &rest[n..];
            }
            let (body, envelope) = writer.finish(&keyring(), &object(), &mut rng).unwrap();
            let key = envelope.open(&keyring(), &object()).unwrap();
            let mut reader = OpeningReader::new(body.as_slice(), &key);
            let mut plain = Vec::new();
            for step in reads.iter().cycle() {
                let mut buf = vec![0; *step];
                match reader.read(&mut buf).unwrap() {
                    0 => break,
                    n => plain.extend_from_slice(&buf[..n]),
                }
            }
            prop_assert_eq!(&plain, &msg);
            if len > 0 {
                let (x, y) = ((a % len as u64), (b % len as u64));
                let range = x.min(y)..x.max(y) + 1;
                let mut got = Vec::new();
                RangeReader::new(Cursor::new(&body), &key, range.clone()).unwrap().read_to_end(&mut got).unwrap();
                prop_assert_eq!(&got[..], &msg[range.start as usize..range.end as usize]);
            }
        }
    }
}

/// Gateways move bodies between tasks and threads: every adapter is `Send` when what it wraps is.
#[test]
fn adapters_are_send() {
    fn send<T: Send + 'static>() {}
    #[cfg(feature = "io-std")]
    {
        send::<s3crypt::io::SealingWriter<std::fs::File>>();
        send::<s3crypt::io::OpeningReader<std::fs::File>>();
        send::<s3crypt::io::RangeReader<std::fs::File>>();
    }
    #[cfg(feature = "io-stream")]
    {
        type Body =
            std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>>;
        send::<s3crypt::io::SealStream<Body>>();
        send::<s3crypt::io::OpenStream<Body>>();
    }
    #[cfg(feature = "io-tokio")]
    {
        send::<s3crypt::io::AsyncSealingWriter<tokio::io::DuplexStream>>();
        send::<s3crypt::io::AsyncOpeningReader<tokio::io::DuplexStream>>();
    }
}

#[cfg(feature = "io-std")]
#[test]
fn sealing_writers_return_the_s3_etag() {
    use s3crypt::CustomerKey;
    use s3crypt::io::SealingWriter;
    use std::io::Write;
    let data = pattern(70_000);
    // SSE-S3 with the MD5 computed: S3's ETag is the plaintext MD5 (RFC 1321, via md-5 here).
    let md5: [u8; 16] = <md5::Md5 as md5::Digest>::digest(&data).into();
    let options = SealOptions { md5: true, ..SealOptions::default() };
    let mut writer = SealingWriter::new(Vec::new(), options, &mut TestRng(1)).unwrap();
    writer.write_all(&data).unwrap();
    let (body, envelope, etag) = writer.finish_with_etag(&keyring(), &object(), &mut TestRng(2)).unwrap();
    assert_eq!(etag.digest(), md5);
    assert_eq!(common::open_object(&keyring(), &object(), &envelope, &body).unwrap(), data);
    // SSE-C: a keyed value, not the MD5, stable for the same data key.
    let customer = CustomerKey::from_bytes([5; 32]);
    let mut writer = SealingWriter::new(Vec::new(), options, &mut TestRng(1)).unwrap();
    writer.write_all(&data).unwrap();
    let (_, _, keyed) = writer.finish_with_etag(&customer, &object(), &mut TestRng(2)).unwrap();
    assert_ne!(keyed.digest(), md5);
    let mut writer = SealingWriter::new(Vec::new(), options, &mut TestRng(1)).unwrap();
    writer.write_all(&data).unwrap();
    let (_, _, again) = writer.finish_with_etag(&customer, &object(), &mut TestRng(3)).unwrap();
    assert_eq!(again, keyed, "same data key (same seed), same bytes: same ETag");
}
