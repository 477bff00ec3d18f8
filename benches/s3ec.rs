//! AWS S3 Encryption Client bodies against s3crypt's client-side objects at 64 MiB, both
//! directions: a V3 whole-object decrypt (buffered: the default, nothing released before the tag),
//! the delayed-authentication stream, and V3 sealing, against s3crypt's client-side GET
//! (`ClientGetPlan` → `ClientGetBody`, streaming, every chunk authenticated before release) and
//! `ClientSealer` (envelope first, then the body streamed), each as a ratio of one-shot AES-256-GCM
//! through the same backend on the same buffer in the same run, with memcpy as the physical limit.
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

use common::{Counter, OneShot, compare, machine};
use criterion::{Criterion, Throughput, criterion_group};
use s3crypt::{
    Backend, ChunkSize, ClientGetPlan, ClientKeyring, ClientSealer, EncryptionContext, Envelope, ObjectId,
    ReusableBuffer, RootKey, S3ecAesKey, S3ecEnvelope, S3ecOpener, S3ecOptions, S3ecSealer, SealOptions,
};
use std::hint::black_box;

const SIZE: usize = 64 << 20;

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

/// A client-side object of `SIZE` bytes under a raw client key: the key ring, the object's name,
/// its envelope and its stored body.
fn client_object(chunk_size: ChunkSize) -> (ClientKeyring, ObjectId<'static>, Envelope, Vec<u8>) {
    let ring =
        ClientKeyring::new("client-1", 1, RootKey::from_bytes([9; 32]), EncryptionContext::new()).unwrap();
    let object = ObjectId::new("bench", "object");
    let options = SealOptions { chunk_size, ..SealOptions::default() };
    let (mut sealer, envelope) =
        ClientSealer::new(options, SIZE as u64, &ring, &object, &mut Counter(2)).unwrap();
    let mut body = Vec::new();
    sealer.update(&vec![0x5a; SIZE], &mut body).unwrap();
    sealer.finish(&mut body).unwrap();
    (ring, object, envelope, body)
}

/// The response pieces a client reads a 64 MiB body in.
const PIECE: usize = 1 << 20;

fn ratios() {
    let rounds = if std::env::var_os("S3CRYPT_BENCH_QUICK").is_some() { 5 } else { 21 };
    let (envelope, body, options, key) = v3_object();
    let gbps = |s: f64| SIZE as f64 / s / 1e9;
    println!("CPU: {}", machine());
    println!("| 64 MiB | backend | baseline | baseline GB/s | candidate GB/s | candidate / baseline speed |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, backend: Backend, base: &str, (b, c, r): (f64, f64, f64)| {
        println!("| {name} | {backend:?} | {base} | {:.2} | {:.2} | {r:.3} |", gbps(b), gbps(c));
    };
    let src = vec![0x5au8; SIZE];
    let mut dst = vec![0u8; SIZE];
    let mut backends = vec![Backend::RustCrypto];
    if Backend::default() != Backend::RustCrypto {
        backends.push(Backend::default());
    }
    for &backend in &backends {
        let one_shot = OneShot::new(backend);
        let mut ct = vec![0x5au8; SIZE];
        let tag = one_shot.seal(&mut ct);
        let mut plain = vec![0u8; SIZE];
        let mut one_shot_open = || one_shot.open(black_box(&ct), &tag, &mut plain);
        row(
            "one-shot AES-256-GCM open (the baseline) against memcpy (the memory limit)",
            backend,
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
        if backend == Backend::RustCrypto {
            // S3EC bodies always go through RustCrypto (`aes-gcm`; `aes` + `ctr` + `ghash` streams).
            row(
                "S3EC V3 GET, buffered (`S3ecOpener::open`, allocates)",
                backend,
                "one-shot open",
                compare(rounds, &mut one_shot_open, &mut || {
                    black_box(opener(&envelope, &key, &options).open(black_box(&body)).unwrap());
                }),
            );
            let mut reused = Vec::with_capacity(SIZE);
            row(
                "S3EC V3 GET, buffered into a reused buffer (`S3ecOpener::open_into`)",
                backend,
                "one-shot open",
                compare(rounds, &mut one_shot_open, &mut || {
                    opener(&envelope, &key, &options).open_into(black_box(&body), &mut reused).unwrap();
                }),
            );
            let mut out = Vec::with_capacity(SIZE);
            row(
                "S3EC V3 GET, delayed-auth stream (`S3ecDelayedBody`, unauthenticated until the end)",
                backend,
                "one-shot open",
                compare(rounds, &mut one_shot_open, &mut || {
                    out.clear();
                    let mut d = opener(&envelope, &key, &options).delayed().unwrap();
                    for piece in body.chunks(PIECE) {
                        d.update(piece, &mut out).unwrap();
                    }
                    d.finish().unwrap();
                }),
            );
        }
        for chunk_size in [ChunkSize::C2SP, ChunkSize::KIB_64] {
            let (ring, object, client_envelope, client_body) = client_object(chunk_size);
            let mut out = ReusableBuffer::with_capacity(SIZE);
            let kib = chunk_size.bytes() >> 10;
            row(
                &format!(
                    "s3crypt client-side GET body, streaming (`ObjectKey::opener`, {kib} KiB chunks, \
                     1 MiB pieces, into a `ReusableBuffer`)"
                ),
                backend,
                "one-shot open",
                compare(rounds, &mut one_shot_open, &mut || {
                    out.clear();
                    let key = client_envelope.open(&ring, &object).unwrap().with_backend(backend);
                    let mut o = key.opener();
                    for piece in client_body.chunks(PIECE) {
                        o.update(black_box(piece), &mut out).unwrap();
                    }
                    o.finish(&mut out).unwrap();
                }),
            );
            if backend == Backend::default() {
                row(
                    &format!(
                        "s3crypt client-side GET through the plan (`ClientGetPlan::whole` → `ClientGetBody`, \
                         {kib} KiB chunks, into a `ReusableBuffer`)"
                    ),
                    backend,
                    "one-shot open",
                    compare(rounds, &mut one_shot_open, &mut || {
                        out.clear();
                        let mut get =
                            ClientGetPlan::whole().open(&client_envelope, None, &ring, &object).unwrap();
                        for piece in client_body.chunks(PIECE) {
                            get.update(black_box(piece), &mut out).unwrap();
                        }
                        get.finish(&mut out).unwrap();
                    }),
                );
            }
        }
        let mut in_place = vec![0x5au8; SIZE];
        let mut one_shot_seal = || {
            black_box(one_shot.seal(black_box(&mut in_place)));
        };
        if backend == Backend::RustCrypto {
            row(
                "S3EC V3 PUT (`S3ecSealer::seal`, allocates)",
                backend,
                "one-shot seal",
                compare(rounds, &mut one_shot_seal, &mut || {
                    let sealer =
                        S3ecSealer::aes(&key, EncryptionContext::new(), &options, &mut Counter(1)).unwrap();
                    black_box(sealer.seal(black_box(&src)).unwrap());
                }),
            );
            let mut out = Vec::with_capacity(SIZE + 16);
            row(
                "S3EC V3 PUT, streaming into a reused buffer (`S3ecSealer::update`)",
                backend,
                "one-shot seal",
                compare(rounds, &mut one_shot_seal, &mut || {
                    out.clear();
                    let mut sealer =
                        S3ecSealer::aes(&key, EncryptionContext::new(), &options, &mut Counter(1)).unwrap();
                    for piece in src.chunks(PIECE) {
                        sealer.update(black_box(piece), &mut out).unwrap();
                    }
                    black_box(sealer.finish(&mut out));
                }),
            );
        }
        let ring = ClientKeyring::new("client-1", 1, RootKey::from_bytes([9; 32]), EncryptionContext::new())
            .unwrap();
        let object = ObjectId::new("bench", "object");
        for chunk_size in [ChunkSize::C2SP, ChunkSize::KIB_64] {
            let mut out = ReusableBuffer::with_capacity(SIZE + SIZE / 256);
            let kib = chunk_size.bytes() >> 10;
            let seal_options = SealOptions { chunk_size, backend, ..SealOptions::default() };
            row(
                &format!(
                    "s3crypt client-side PUT, streaming (`ClientSealer`, envelope first, {kib} KiB chunks, \
                     1 MiB pieces, into a `ReusableBuffer`)"
                ),
                backend,
                "one-shot seal",
                compare(rounds, &mut one_shot_seal, &mut || {
                    out.clear();
                    let (mut sealer, envelope) =
                        ClientSealer::new(seal_options, SIZE as u64, &ring, &object, &mut Counter(2))
                            .unwrap();
                    for piece in src.chunks(PIECE) {
                        sealer.update(black_box(piece), &mut out).unwrap();
                    }
                    sealer.finish(&mut out).unwrap();
                    black_box(envelope);
                }),
            );
        }
    }
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
