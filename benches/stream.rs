//! Streaming seal and open beside the one-shot AES-256-GCM baseline on the same buffer.
//!
//! Every group holds the baseline, so the figure that matters is the ratio within a group.
//! `cargo bench --bench stream` runs everything; `S3CRYPT_BENCH_QUICK=1` shortens the runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use s3crypt::{ChunkSize, DataKey, Opener, Sealer};
use std::hint::black_box;
use std::time::Duration;

const SIZES: [(usize, &str); 4] =
    [(1 << 10, "1KiB"), (64 << 10, "64KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];
const CHUNKS: [(ChunkSize, &str); 2] = [(ChunkSize::C2SP, "16KiB"), (ChunkSize::KIB_64, "64KiB")];

/// Deterministic stand-in for a generator in benches (the salt's quality does not affect speed).
struct Counter(u64);
impl s3crypt::TryRng for Counter {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 += 1;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.iter_mut().for_each(|b| *b = self.0 as u8);
        self.0 += 1;
        Ok(())
    }
}
impl s3crypt::TryCryptoRng for Counter {}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
    size: usize,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let quick = std::env::var_os("S3CRYPT_BENCH_QUICK").is_some();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(size as u64));
    if size >= 64 << 20 {
        group.sample_size(10);
    }
    group.warm_up_time(Duration::from_millis(if quick { 200 } else { 1000 }));
    group.measurement_time(Duration::from_secs(if quick { 1 } else { 4 }));
    group
}

fn seal(c: &mut Criterion) {
    let key = DataKey::from_bytes([7; 32]);
    let gcm = Aes256Gcm::new(&[7; 32].into());
    for (size, label) in SIZES {
        let mut group = configure(c, &format!("seal/{label}"), size);
        let input = vec![0x5a; size];
        let mut buf = input.clone();
        group.bench_function("aes-gcm one-shot (baseline)", |b| {
            b.iter(|| gcm.encrypt_inout_detached(&[0; 12].into(), &[], buf.as_mut_slice().into()).unwrap())
        });
        for (cs, cs_label) in CHUNKS {
            let mut out = Vec::with_capacity(cs.ciphertext_len(size as u64).unwrap() as usize);
            let mut rng = Counter(0);
            group.bench_function(BenchmarkId::new("stream", cs_label), |b| {
                b.iter(|| {
                    out.clear();
                    let mut s = Sealer::new(&key, cs, b"bench", &mut rng).unwrap();
                    s.update(black_box(&input), &mut out).unwrap();
                    s.finish(&mut out).unwrap();
                })
            });
        }
        group.finish();
    }
}

fn open(c: &mut Criterion) {
    let key = DataKey::from_bytes([7; 32]);
    let gcm = Aes256Gcm::new(&[7; 32].into());
    for (size, label) in SIZES {
        let mut group = configure(c, &format!("open/{label}"), size);
        let input = vec![0x5a; size];
        let mut ct = input.clone();
        let tag = gcm.encrypt_inout_detached(&[0; 12].into(), &[], ct.as_mut_slice().into()).unwrap();
        let mut out = vec![0; size];
        group.bench_function("aes-gcm one-shot (baseline)", |b| {
            b.iter(|| {
                let buf = InOutBuf::new(&ct, &mut out).unwrap();
                gcm.decrypt_inout_detached(&[0; 12].into(), &[], buf, &tag).unwrap()
            })
        });
        for (cs, cs_label) in CHUNKS {
            let stored = s3crypt::seal(&key, cs, b"bench", &input, &mut Counter(0)).unwrap();
            let mut out = Vec::with_capacity(size);
            group.bench_function(BenchmarkId::new("stream", cs_label), |b| {
                b.iter(|| {
                    out.clear();
                    let mut o = Opener::new(&key, cs, b"bench");
                    o.update(black_box(&stored), &mut out).unwrap();
                    o.finish(&mut out).unwrap();
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, seal, open);
criterion_main!(benches);
