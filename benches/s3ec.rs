//! AWS S3 Encryption Client bodies at 64 MiB: a V3 whole-object decrypt (buffered: the default,
//! nothing released before the tag), the delayed-authentication stream, against one-shot
//! AES-256-GCM and memcpy of the same buffer in the same run, and s3crypt's own streaming open.
//!
//! `cargo bench --bench s3ec` prints the CPU, then interleaved ratios (median of per-round ratios,
//! which drift on a shared machine cannot bias; `S3CRYPT_BENCH_QUICK=1` runs fewer rounds), then
//! criterion's throughput figures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

mod common;

use common::{Counter, OneShot, compare};
use criterion::{Criterion, Throughput, criterion_group};
use s3crypt::{
    Backend, ChunkSize, DataKey, EncryptionContext, S3ecAesKey, S3ecEnvelope, S3ecOpener, S3ecOptions,
    S3ecSealer, StreamParams,
};
use std::hint::black_box;

const SIZE: usize = 64 << 20;

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// A V3 object of `SIZE` bytes, its envelope and an opener with a buffer limit that fits it.
fn v3_object() -> (S3ecEnvelope, Vec<u8>, S3ecOptions, S3ecAesKey) {
    let key = S3ecAesKey::from_bytes([7; 32]);
    let options = S3ecOptions::new().with_buffer_limit(SIZE as u64).enable_delayed_authentication(true);
    let sealer = S3ecSealer::aes(&key, EncryptionContext::new(), &options, &mut Counter(1)).unwrap();
    let (envelope, body) = sealer.seal(&vec![0x5a; SIZE]).unwrap();
    (envelope, body, options, key)
}

fn opener(envelope: &S3ecEnvelope, key: &S3ecAesKey, options: &S3ecOptions) -> S3ecOpener {
    envelope.opener(&envelope.unwrap_aes(key).unwrap(), options).unwrap()
}

fn ratios() {
    let rounds = if std::env::var_os("S3CRYPT_BENCH_QUICK").is_some() { 5 } else { 21 };
    let (envelope, body, options, key) = v3_object();
    let one_shot = OneShot::new(Backend::RustCrypto);
    let mut ct = vec![0x5au8; SIZE];
    let tag = one_shot.seal(&mut ct);
    let mut plain = vec![0u8; SIZE];
    let src = vec![0x5au8; SIZE];
    let mut dst = vec![0u8; SIZE];
    let data_key = DataKey::from_bytes([7; 32]);
    let params = StreamParams::new(ChunkSize::KIB_64);
    let stored = s3crypt::seal(&data_key, params, b"bench", &src, &mut Counter(0)).unwrap();
    let gbps = |s: f64| SIZE as f64 / s / 1e9;
    println!("CPU: {}", cpu_model());
    println!("| 64 MiB | baseline | baseline GB/s | candidate GB/s | candidate / baseline speed |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, base: &str, (b, c, r): (f64, f64, f64)| {
        println!("| {name} | {base} | {:.2} | {:.2} | {r:.3} |", gbps(b), gbps(c));
    };
    let mut one_shot_open = || one_shot.open(black_box(&ct), &tag, &mut plain);
    row(
        "S3EC V3 buffered open (`S3ecOpener::open`, allocates)",
        "one-shot AES-256-GCM open",
        compare(rounds, &mut one_shot_open, &mut || {
            black_box(opener(&envelope, &key, &options).open(black_box(&body)).unwrap());
        }),
    );
    let mut reused = Vec::with_capacity(SIZE);
    row(
        "S3EC V3 buffered open into a reused buffer (`S3ecOpener::open_into`)",
        "one-shot AES-256-GCM open",
        compare(rounds, &mut one_shot_open, &mut || {
            opener(&envelope, &key, &options).open_into(black_box(&body), &mut reused).unwrap();
        }),
    );
    let mut out = Vec::with_capacity(SIZE);
    row(
        "S3EC V3 delayed-auth stream (`S3ecDelayedBody`, 1 MiB pieces)",
        "one-shot AES-256-GCM open",
        compare(rounds, &mut one_shot_open, &mut || {
            out.clear();
            let mut d = opener(&envelope, &key, &options).delayed().unwrap();
            for piece in body.chunks(1 << 20) {
                d.update(piece, &mut out).unwrap();
            }
            d.finish().unwrap();
        }),
    );
    let mut native = Vec::with_capacity(SIZE);
    row(
        "s3crypt native streaming open into a reused buffer (`Opener`, 64 KiB chunks)",
        "one-shot AES-256-GCM open",
        compare(rounds, &mut one_shot_open, &mut || {
            native.clear();
            let mut o = s3crypt::Opener::new(&data_key, params, b"bench");
            o.update(black_box(&stored), &mut native).unwrap();
            o.finish(&mut native).unwrap();
        }),
    );
    row(
        "s3crypt native `open` (64 KiB chunks, allocates)",
        "one-shot AES-256-GCM open",
        compare(rounds, &mut one_shot_open, &mut || {
            black_box(s3crypt::open(&data_key, params, b"bench", black_box(&stored)).unwrap());
        }),
    );
    row(
        "one-shot AES-256-GCM open",
        "memcpy",
        compare(
            rounds,
            &mut || {
                dst.copy_from_slice(black_box(&src));
                black_box(&dst);
            },
            &mut one_shot_open,
        ),
    );
}

fn s3ec(c: &mut Criterion) {
    let (envelope, body, options, key) = v3_object();
    let one_shot = OneShot::new(Backend::RustCrypto);
    let mut ct = vec![0x5au8; SIZE];
    let tag = one_shot.seal(&mut ct);
    let mut plain = vec![0u8; SIZE];
    let src = vec![0x5au8; SIZE];
    let mut dst = vec![0u8; SIZE];
    let mut group = c.benchmark_group("s3ec/64MiB");
    group.throughput(Throughput::Bytes(SIZE as u64)).sample_size(10);
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst);
        })
    });
    group.bench_function("baseline: one-shot AES-256-GCM open", |b| {
        b.iter(|| one_shot.open(black_box(&ct), &tag, &mut plain))
    });
    group.bench_function("S3EC V3 buffered open", |b| {
        b.iter(|| black_box(opener(&envelope, &key, &options).open(black_box(&body)).unwrap()))
    });
    let mut reused = Vec::with_capacity(SIZE);
    group.bench_function("S3EC V3 buffered open into a reused buffer", |b| {
        b.iter(|| opener(&envelope, &key, &options).open_into(black_box(&body), &mut reused).unwrap())
    });
    let mut out = Vec::with_capacity(SIZE);
    group.bench_function("S3EC V3 delayed-auth stream", |b| {
        b.iter(|| {
            out.clear();
            let mut d = opener(&envelope, &key, &options).delayed().unwrap();
            for piece in body.chunks(1 << 20) {
                d.update(piece, &mut out).unwrap();
            }
            d.finish().unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, s3ec);

fn main() {
    ratios();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
