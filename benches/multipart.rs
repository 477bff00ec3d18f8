//! Multipart uploads: a 64 MiB upload in 8 MiB parts (sequential and part-parallel) against one
//! one-shot AES-256-GCM call over the same bytes and a memcpy; the cost of each part's MD5 (its
//! ETag); and completing and opening an object of 10,000 parts.
//!
//! `cargo bench --bench multipart` (add `--features aws-lc,parallel` for the aws-lc backend and the
//! part-parallel rows). On a shared machine, compare rows of one run, not runs.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::{Counter, OneShot};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use s3crypt::{
    Backend, ChecksumAlgorithm, Envelope, Keyring, ObjectId, ObjectSealer, Part, PartTable, RootKey,
    SealOptions, Upload,
};
use std::hint::black_box;
use std::time::Duration;

const OBJECT: usize = 64 << 20;
const PART: usize = 8 << 20;

fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.to_owned()))
        .unwrap_or_else(|| "model name: unknown".to_owned())
}

fn backends() -> Vec<Backend> {
    vec![
        Backend::RustCrypto,
        #[cfg(feature = "aws-lc")]
        Backend::AwsLc,
    ]
}

fn upload(c: &mut Criterion) {
    eprintln!("{}", cpu());
    let ring = Keyring::new("root-1", 1, RootKey::from_bytes([1; 32])).unwrap();
    let object = ObjectId::new("bucket", "big");
    let data = vec![0x5au8; OBJECT];
    for backend in backends() {
        let mut group = c.benchmark_group(format!("multipart/64MiB-in-8MiB-parts/{backend:?}"));
        group.throughput(Throughput::Bytes(OBJECT as u64));
        group.sample_size(10).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(1));
        let one_shot = OneShot::new(backend);
        let mut buf = data.clone();
        group.bench_function("baseline: one-shot AES-256-GCM, in place", |b| {
            b.iter(|| black_box(one_shot.seal(&mut buf)))
        });
        let mut copy = vec![0u8; OBJECT];
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                copy.copy_from_slice(&data);
                black_box(&copy);
            })
        });
        for md5 in [false, true] {
            let options = SealOptions { backend, md5, ..SealOptions::default() };
            let (up, _) = Upload::create(options, &ring, &object, &mut Counter(1)).unwrap();
            let mut out = Vec::with_capacity(OBJECT + OBJECT / 1000 + 1024);
            let name = if md5 { "8 parts, PartSealer, with MD5 (ETag)" } else { "8 parts, PartSealer" };
            group.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    for (i, part) in data.chunks(PART).enumerate() {
                        let mut sealer = up.part_sealer(i as u32 + 1, &mut Counter(9)).unwrap();
                        sealer.update(part, &mut out).unwrap();
                        black_box(sealer.finish(&mut out).unwrap());
                    }
                })
            });
            #[cfg(feature = "parallel")]
            {
                let name = if md5 {
                    "8 parts, seal_part_parallel, with MD5 (ETag)"
                } else {
                    "8 parts, seal_part_parallel"
                };
                group.bench_function(name, |b| {
                    b.iter(|| {
                        for (i, part) in data.chunks(PART).enumerate() {
                            black_box(up.seal_part_parallel(i as u32 + 1, part, &mut Counter(9)).unwrap());
                        }
                    })
                });
            }
        }
        group.finish();
    }
}

fn ten_thousand_parts(c: &mut Criterion) {
    let ring = Keyring::new("root-1", 1, RootKey::from_bytes([1; 32])).unwrap();
    let object = ObjectId::new("bucket", "many");
    let mut rng = Counter(1);
    let (up, state) = Upload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let parts: Vec<Part> = (1..=10_000u32)
        .map(|n| {
            let mut sealer = up.part_sealer(n, &mut rng).unwrap();
            let mut body = Vec::new();
            sealer.update(&[n as u8; 100], &mut body).unwrap();
            *sealer.finish(&mut body).unwrap().part()
        })
        .collect();
    let done = state.complete_upload(&ring, &object, &parts, &mut rng).unwrap();
    let (envelope, table) = (done.envelope.to_binary(), done.table.to_bytes());
    let mut group = c.benchmark_group("multipart/10000-parts");
    group.sample_size(20);
    group.bench_function("complete (check 10,000 part headers, build the table, seal)", |b| {
        b.iter(|| black_box(state.complete_upload(&ring, &object, &parts, &mut Counter(2)).unwrap()))
    });
    group.bench_function("open (decode envelope + open + decode table + check digest)", |b| {
        b.iter(|| {
            let key = Envelope::from_binary(black_box(&envelope)).unwrap().open(&ring, &object).unwrap();
            black_box(key.multipart(&PartTable::from_bytes(black_box(&table)).unwrap()).unwrap())
        })
    });
    group.finish();
}

/// Sealing an 8 MiB object alone, and with each sealed attribute computed in the same pass.
fn attributes(c: &mut Criterion) {
    let ring = Keyring::new("root-1", 1, RootKey::from_bytes([1; 32])).unwrap();
    let object = ObjectId::new("bucket", "attrs");
    let data = vec![0x5au8; PART];
    for backend in backends() {
        let mut group = c.benchmark_group(format!("attributes/8MiB/{backend:?}"));
        group.throughput(Throughput::Bytes(PART as u64));
        group.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
        let base = SealOptions { backend, ..SealOptions::default() };
        let rows: [(&str, SealOptions); 7] = [
            ("seal alone", base),
            ("seal + MD5", SealOptions { md5: true, ..base }),
            ("seal + CRC32", SealOptions { checksum: Some(ChecksumAlgorithm::Crc32), ..base }),
            ("seal + CRC32C", SealOptions { checksum: Some(ChecksumAlgorithm::Crc32c), ..base }),
            ("seal + CRC64NVME", SealOptions { checksum: Some(ChecksumAlgorithm::Crc64Nvme), ..base }),
            ("seal + SHA-1", SealOptions { checksum: Some(ChecksumAlgorithm::Sha1), ..base }),
            ("seal + SHA-256", SealOptions { checksum: Some(ChecksumAlgorithm::Sha256), ..base }),
        ];
        let mut out = Vec::with_capacity(PART + PART / 1000 + 1024);
        for (name, options) in rows {
            group.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    let mut sealer = ObjectSealer::new(options, &mut Counter(3)).unwrap();
                    sealer.update(&data, &mut out).unwrap();
                    black_box(sealer.finish(&mut out, &ring, &object, &mut Counter(4)).unwrap())
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, upload, ten_thousand_parts, attributes);
criterion_main!(benches);
