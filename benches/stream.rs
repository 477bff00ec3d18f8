//! Streaming seal and open beside the one-shot AES-256-GCM baseline on the same buffer, for every
//! backend built in, and the parallel path beside the sequential one (feature `parallel`).
//!
//! Every group holds its baseline, so the figure that matters is the ratio within a group.
//! `cargo bench --bench stream [--features parallel]`; `S3CRYPT_BENCH_QUICK=1` shortens the
//! runs. For ratios on a noisy machine, `benches/ratio.rs` interleaves the two sides.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::{Counter, OneShot};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use s3crypt::{Backend, ChunkSize, DataKey, Opener, ReusableBuffer, Sealer, StreamParams};
use std::hint::black_box;
use std::time::Duration;

const SIZES: [(usize, &str); 4] =
    [(1 << 10, "1KiB"), (64 << 10, "64KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];

fn group<'a>(
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
    let backends: Vec<_> = Backend::ALL.iter().map(|b| b.name()).collect();
    println!(
        "{}; backends {backends:?} (each group: memcpy, then per backend its one-shot and s3crypt)",
        common::machine()
    );
    let key = DataKey::from_bytes([7; 32]);
    for (size, label) in SIZES {
        let mut g = group(c, &format!("seal/{label}"), size);
        let input = vec![0x5a; size];
        let mut copy = vec![0; size];
        g.bench_function("memcpy (the memory limit)", |b| b.iter(|| copy.copy_from_slice(black_box(&input))));
        for &backend in Backend::ALL {
            let one_shot = OneShot::new(backend);
            let mut buf = input.clone();
            g.bench_function(BenchmarkId::new("one-shot (baseline)", backend.name()), |b| {
                b.iter(|| one_shot.seal(black_box(&mut buf)))
            });
            let params = StreamParams::new(ChunkSize::C2SP).with_backend(backend);
            let mut out = Vec::with_capacity(ChunkSize::C2SP.ciphertext_len(size as u64).unwrap() as usize);
            let mut rng = Counter(0);
            g.bench_function(BenchmarkId::new("stream 16KiB", backend.name()), |b| {
                b.iter(|| {
                    out.clear();
                    let mut s = Sealer::new(&key, params, b"bench", &mut rng).unwrap();
                    s.update(black_box(&input), &mut out).unwrap();
                    s.finish(&mut out).unwrap();
                })
            });
            let mut reused = ReusableBuffer::with_capacity(out.capacity());
            g.bench_function(BenchmarkId::new("stream 16KiB into ReusableBuffer", backend.name()), |b| {
                b.iter(|| {
                    reused.clear();
                    let mut s = Sealer::new(&key, params, b"bench", &mut rng).unwrap();
                    s.update(black_box(&input), &mut reused).unwrap();
                    s.finish(&mut reused).unwrap();
                })
            });
        }
        g.finish();
    }
}

fn open(c: &mut Criterion) {
    let key = DataKey::from_bytes([7; 32]);
    for (size, label) in SIZES {
        let mut g = group(c, &format!("open/{label}"), size);
        let input = vec![0x5a; size];
        for &backend in Backend::ALL {
            let one_shot = OneShot::new(backend);
            let mut ct = input.clone();
            let tag = one_shot.seal(&mut ct);
            let mut plain = vec![0; size];
            g.bench_function(BenchmarkId::new("one-shot (baseline)", backend.name()), |b| {
                b.iter(|| one_shot.open(black_box(&ct), &tag, &mut plain))
            });
            let params = StreamParams::new(ChunkSize::C2SP).with_backend(backend);
            let stored = s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap();
            let mut out = Vec::with_capacity(size);
            g.bench_function(BenchmarkId::new("stream 16KiB", backend.name()), |b| {
                b.iter(|| {
                    out.clear();
                    let mut o = Opener::new(&key, params, b"bench");
                    o.update(black_box(&stored), &mut out).unwrap();
                    o.finish(&mut out).unwrap();
                })
            });
            let mut reused = ReusableBuffer::with_capacity(size);
            g.bench_function(BenchmarkId::new("stream 16KiB into ReusableBuffer", backend.name()), |b| {
                b.iter(|| {
                    reused.clear();
                    let mut o = Opener::new(&key, params, b"bench");
                    o.update(black_box(&stored), &mut reused).unwrap();
                    o.finish(&mut reused).unwrap();
                })
            });
        }
        g.finish();
    }
}

#[cfg(feature = "parallel")]
fn parallel(c: &mut Criterion) {
    let key = DataKey::from_bytes([7; 32]);
    for (size, label) in [(1usize << 20, "1MiB"), (64 << 20, "64MiB")] {
        let mut g = group(c, &format!("parallel/{label}"), size);
        let input = vec![0x5a; size];
        for &backend in Backend::ALL {
            let params = StreamParams::new(ChunkSize::C2SP).with_backend(backend);
            let mut buf = input.clone();
            g.bench_function(BenchmarkId::new("seal in place, sequential", backend.name()), |b| {
                b.iter(|| {
                    let (mut s, _) =
                        s3crypt::ChunkSealer::new(&key, params, b"bench", &mut Counter(0)).unwrap();
                    let mut chunks = buf.chunks_exact_mut(ChunkSize::C2SP.bytes());
                    for chunk in &mut chunks {
                        black_box(s.seal_chunk(chunk).unwrap());
                    }
                    black_box(s.seal_final(chunks.into_remainder()).unwrap());
                })
            });
            g.bench_function(BenchmarkId::new("seal in place, parallel", backend.name()), |b| {
                b.iter(|| {
                    let (s, _) = s3crypt::ChunkSealer::new(&key, params, b"bench", &mut Counter(0)).unwrap();
                    black_box(s.seal_rest_parallel(&mut buf).unwrap())
                })
            });
            let stored = s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap();
            g.bench_function(BenchmarkId::new("open, sequential", backend.name()), |b| {
                b.iter(|| s3crypt::open(&key, params, b"bench", black_box(&stored)).unwrap())
            });
            g.bench_function(BenchmarkId::new("open, parallel", backend.name()), |b| {
                b.iter(|| s3crypt::open_parallel(&key, params, b"bench", black_box(&stored)).unwrap())
            });
        }
        g.finish();
    }
}

#[cfg(not(feature = "parallel"))]
fn parallel(_: &mut Criterion) {}

criterion_group!(benches, seal, open, parallel);
criterion_main!(benches);
