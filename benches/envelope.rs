//! Per-object fixed costs: sealing and opening an envelope in each mode, and decoding it.
//!
//! `cargo bench --bench envelope`. Throughput of the body itself is in `benches/stream.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use criterion::{Criterion, criterion_group, criterion_main};
use s3crypt::{
    CustomerKey, Encryptor, Envelope, Keyring, LocalKms, ObjectId, ObjectSealer, OsRng, RootKey, SealOptions,
    SseKms,
};
use std::hint::black_box;

fn modes() -> Vec<(&'static str, Box<dyn Encryptor>)> {
    // SSE-KMS after the KMS round trip (a local KMS; the round trip itself is the embedder's).
    let mut kms = LocalKms::new(OsRng);
    kms.create_key("alias/photos", RootKey::from_bytes([3; 32])).unwrap();
    let object = ObjectId::new("bucket", "photos/2026/cat.jpg");
    let kms_key = SseKms::new("alias/photos").unwrap().generate_key(&kms, &object).unwrap();
    vec![
        ("sse-s3", Box::new(Keyring::new("root-2026", 1, RootKey::from_bytes([1; 32])).unwrap())),
        ("sse-c", Box::new(CustomerKey::from_bytes([2; 32]))),
        ("sse-kms", Box::new(kms_key)),
    ]
}

fn envelope(c: &mut Criterion) {
    let object = ObjectId::new("bucket", "photos/2026/cat.jpg");
    let other = ObjectId::new("bucket", "photos/2026/cat-copy.jpg");
    for (name, enc) in modes() {
        let mut group = c.benchmark_group(format!("envelope/{name}"));
        group.bench_function("seal (new object: data key, body header, wrap)", |b| {
            b.iter(|| {
                let sealer = ObjectSealer::new(SealOptions::default(), &mut OsRng).unwrap();
                let mut body = Vec::with_capacity(128);
                black_box(sealer.finish(&mut body, enc.as_ref(), &object, &mut OsRng).unwrap())
            })
        });
        let sealer = ObjectSealer::new(SealOptions::default(), &mut OsRng).unwrap();
        let env = sealer.finish(&mut Vec::new(), enc.as_ref(), &object, &mut OsRng).unwrap();
        group.bench_function("open", |b| b.iter(|| black_box(env.open(enc.as_ref(), &object).unwrap())));
        let map = env.to_metadata();
        group.bench_function("decode metadata + open", |b| {
            b.iter(|| {
                Envelope::from_metadata(black_box(&map).iter().map(|(k, v)| (k, v)))
                    .unwrap()
                    .open(enc.as_ref(), &object)
                    .unwrap()
            })
        });
        let bin = env.to_binary();
        group.bench_function("decode binary + open", |b| {
            b.iter(|| Envelope::from_binary(black_box(&bin)).unwrap().open(enc.as_ref(), &object).unwrap())
        });
        group.bench_function("reseal (copy to a new name)", |b| {
            b.iter(|| {
                black_box(env.reseal((enc.as_ref(), &object), (enc.as_ref(), &other), &mut OsRng).unwrap())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, envelope);
criterion_main!(benches);
