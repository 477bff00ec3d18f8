//! The body adapters' cost over the sans-I/O core they wrap, measured interleaved (as
//! `benches/ratio.rs` does, so drift on a shared machine cannot bias the ratio): the same 8 MiB
//! object sealed and opened through `ObjectSealer`/`Opener` in 64 KiB pieces, and through
//! `io::SealingWriter`/`io::OpeningReader` and `io::SealStream`/`io::OpenStream` with 64 KiB
//! writes, reads and stream items; memcpy of the same buffer for scale.
//!
//! `cargo bench --bench io_adapters --features io-std,io-stream` prints a Markdown table (GB/s =
//! 10^9 bytes/s, medians of the interleaved rounds). `S3CRYPT_BENCH_QUICK=1` runs fewer rounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use bytes::Bytes;
use futures_core::Stream;
use s3crypt::io::{OpenStream, OpeningReader, SealStream, SealingWriter};
use s3crypt::{Keyring, ObjectId, ObjectSealer, RootKey, SealOptions};
use std::hint::black_box;
use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

mod common;
use common::median;

const LEN: usize = 8 << 20;
const PIECE: usize = 64 << 10;

struct Rng(u64);
impl rand_core::TryRng for Rng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for c in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Rng {}

struct Pieces(Bytes);
impl Stream for Pieces {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.0.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.0.len().min(PIECE);
        Poll::Ready(Some(Ok(self.0.split_to(n))))
    }
}

fn drain<S: Stream<Item = Result<Bytes, E>> + Unpin, E: core::fmt::Debug>(mut s: S, out: &mut Vec<u8>) {
    let mut cx = Context::from_waker(Waker::noop());
    while let Poll::Ready(Some(item)) = Pin::new(&mut s).poll_next(&mut cx) {
        out.extend_from_slice(&item.unwrap());
    }
}

fn main() {
    let rounds = if std::env::var_os("S3CRYPT_BENCH_QUICK").is_some() { 7 } else { 25 };
    let cpu = common::machine();
    println!("CPU: {cpu}; {LEN} bytes, {PIECE}-byte pieces, {rounds} interleaved rounds\n");
    let keyring = Keyring::new("root", 1, RootKey::from_bytes([1; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let msg: Vec<u8> = (0..LEN).map(|i| i as u8).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    let mut sealer = ObjectSealer::new(SealOptions::default(), &mut rng).unwrap();
    let mut body = Vec::with_capacity(LEN + LEN / 100);
    for p in msg.chunks(PIECE) {
        sealer.update(p, &mut body).unwrap();
    }
    let envelope = sealer.finish(&mut body, &keyring, &object, &mut rng).unwrap();
    let key = envelope.open(&keyring, &object).unwrap();
    let body_bytes = Bytes::from(body.clone());
    let msg_bytes = Bytes::from(msg.clone());

    type Case<'a> = (&'a str, Box<dyn FnMut() + 'a>);
    let mut out = Vec::with_capacity(LEN + LEN / 100);
    let out = std::cell::RefCell::new(&mut out);
    let rng = std::cell::RefCell::new(&mut rng);
    let mut cases: Vec<Case<'_>> = vec![
        (
            "memcpy",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                o.extend_from_slice(black_box(&msg));
            }),
        ),
        (
            "seal: ObjectSealer",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                let mut r = rng.borrow_mut();
                let mut s = ObjectSealer::new(SealOptions::default(), &mut **r).unwrap();
                for p in msg.chunks(PIECE) {
                    s.update(p, &mut **o).unwrap();
                }
                black_box(s.finish(&mut **o, &keyring, &object, &mut **r).unwrap());
            }),
        ),
        (
            "seal: io::SealingWriter",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                let mut r = rng.borrow_mut();
                let mut w = SealingWriter::new(&mut **o, SealOptions::default(), &mut **r).unwrap();
                for p in msg.chunks(PIECE) {
                    w.write_all(p).unwrap();
                }
                black_box(w.finish(&keyring, &object, &mut **r).unwrap());
            }),
        ),
        (
            "seal: io::SealStream",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                let mut r = rng.borrow_mut();
                let mut s =
                    SealStream::new(Pieces(msg_bytes.clone()), SealOptions::default(), &mut **r).unwrap();
                drain(&mut s, &mut o);
                let (tail, env) = s.finish(&keyring, &object, &mut **r).unwrap();
                o.extend_from_slice(&tail);
                black_box(env);
            }),
        ),
        (
            "open: Opener",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                let mut op = key.opener();
                for p in body.chunks(PIECE) {
                    op.update(p, &mut **o).unwrap();
                }
                op.finish(&mut **o).unwrap();
            }),
        ),
        (
            "open: io::OpeningReader",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                let mut reader = OpeningReader::new(body.as_slice(), &key);
                let mut buf = vec![0u8; PIECE];
                loop {
                    match reader.read(&mut buf).unwrap() {
                        0 => break,
                        n => o.extend_from_slice(&buf[..n]),
                    }
                }
            }),
        ),
        (
            "open: io::OpenStream",
            Box::new(|| {
                let mut o = out.borrow_mut();
                o.clear();
                drain(OpenStream::new(Pieces(body_bytes.clone()), &key), &mut o);
            }),
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds + 2 {
        for (i, (_, f)) in cases.iter_mut().enumerate() {
            let t = Instant::now();
            f();
            if round >= 2 {
                times[i].push(t.elapsed().as_secs_f64());
            }
        }
    }
    // Ratios per round against the core of the same direction, then the median.
    let ratio =
        |i: usize, base: usize| median(times[i].iter().zip(&times[base]).map(|(c, b)| b / c).collect());
    println!("| path | GB/s | speed vs the core |");
    println!("|---|---|---|");
    for (i, (name, _)) in cases.iter().enumerate() {
        let gbs = LEN as f64 / median(times[i].clone()) / 1e9;
        let base = if name.starts_with("seal") {
            1
        } else if name.starts_with("open") {
            4
        } else {
            i
        };
        println!("| {name} | {gbs:.2} | {:.3} |", ratio(i, base));
    }
}
