//! Interleaved ratio measurement: s3crypt against the one-shot AES-256-GCM baseline on the same
//! buffer, for every backend built in, plus the parallel path against the sequential one.
//!
//! Criterion (`benches/stream.rs`) measures one function after another, so on a shared, noisy
//! machine the speed can drift between the baseline and the candidate. This harness alternates them
//! round by round and reports the median of the per-round ratios, which drift cannot bias, and the
//! fixed cost per chunk implied by the in-place rows.
//!
//! `cargo bench --bench ratio [--features aws-lc,parallel]` prints Markdown tables
//! (GB/s = 10^9 bytes/s, medians). `S3CRYPT_BENCH_QUICK=1` runs fewer rounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use common::{Counter, OneShot};
use s3crypt::{
    Backend, ChunkSealer, ChunkSize, DataKey, Keyring, ObjectId, ObjectSealer, Opener, RootKey, SealOptions,
    Sealer, StreamParams,
};
use std::hint::black_box;

mod common;
use std::time::Instant;

fn time(f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates `baseline` and `candidate`; returns (baseline s, candidate s, median ratio of speeds).
fn compare(rounds: usize, baseline: &mut dyn FnMut(), candidate: &mut dyn FnMut()) -> (f64, f64, f64) {
    compare_after(rounds, &mut || {}, baseline, candidate)
}

/// As [`compare`], running the untimed `setup` before every timed call.
fn compare_after(
    rounds: usize,
    setup: &mut dyn FnMut(),
    baseline: &mut dyn FnMut(),
    candidate: &mut dyn FnMut(),
) -> (f64, f64, f64) {
    for _ in 0..3 {
        setup();
        baseline();
        setup();
        candidate();
    }
    let mut timed = |f: &mut dyn FnMut()| {
        setup();
        time(f)
    };
    let (mut b, mut c, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let (tb, tc) = if i % 2 == 0 {
            let tb = timed(baseline);
            (tb, timed(candidate))
        } else {
            let tc = timed(candidate);
            (timed(baseline), tc)
        };
        b.push(tb);
        c.push(tc);
        r.push(tb / tc);
    }
    (median(b), median(c), median(r))
}

fn main() {
    let quick = std::env::var_os("S3CRYPT_BENCH_QUICK").is_some();
    let key = DataKey::from_bytes([7; 32]);
    let ring = Keyring::new("bench", 1, RootKey::from_bytes([9; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let sizes = [(1usize << 20, "1 MiB", 300), (64 << 20, "64 MiB", 20)];
    println!("| backend | size | chunk | s3crypt path | baseline GB/s | s3crypt GB/s | ratio |");
    println!("|---|---|---|---|---|---|---|");
    let mut per_chunk = Vec::new();
    for &backend in Backend::ALL {
        let one_shot = OneShot::new(backend);
        for (size, label, rounds) in sizes {
            let rounds = if quick { rounds / 5 } else { rounds };
            let input = vec![0x5au8; size];
            let mut buf = input.clone();
            let mut ct = input.clone();
            let tag = one_shot.seal(&mut ct);
            let mut plain = vec![0u8; size];
            let gbps = |s: f64| size as f64 / s / 1e9;
            for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
                let params = StreamParams::new(cs).with_backend(backend);
                let row = |path: &str, (b, c, r): (f64, f64, f64)| {
                    println!(
                        "| {} | {label} | {} KiB | {path} | {:.2} | {:.2} | {r:.3} |",
                        backend.name(),
                        cs.bytes() >> 10,
                        gbps(b),
                        gbps(c)
                    );
                };
                let mut rng = Counter(0);
                let mut inplace = input.clone();
                let timing = compare(
                    rounds,
                    &mut || {
                        black_box(one_shot.seal(&mut buf));
                    },
                    &mut || {
                        let (mut s, header) = ChunkSealer::new(&key, params, b"bench", &mut rng).unwrap();
                        black_box(header);
                        let mut chunks = inplace.chunks_exact_mut(cs.bytes());
                        for chunk in &mut chunks {
                            black_box(s.seal_chunk(chunk).unwrap());
                        }
                        black_box(s.seal_final(chunks.into_remainder()).unwrap());
                    },
                );
                row("seal in place (`ChunkSealer`)", timing);
                let chunks = (size / cs.bytes() + 1) as f64;
                per_chunk.push((backend, label, cs, (timing.1 - timing.0) / chunks * 1e9));

                let mut out = Vec::with_capacity(cs.ciphertext_len(size as u64).unwrap() as usize);
                row(
                    "seal, streaming (`Sealer`: copies into the output)",
                    compare(
                        rounds,
                        &mut || {
                            black_box(one_shot.seal(&mut buf));
                        },
                        &mut || {
                            out.clear();
                            let mut s = Sealer::new(&key, params, b"bench", &mut rng).unwrap();
                            s.update(black_box(&input), &mut out).unwrap();
                            s.finish(&mut out).unwrap();
                        },
                    ),
                );

                let stored = s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap();
                let mut opened = Vec::with_capacity(size);
                row(
                    "open, streaming (`Opener`: into the output)",
                    compare(rounds, &mut || one_shot.open(&ct, &tag, &mut plain), &mut || {
                        opened.clear();
                        let mut o = Opener::new(&key, params, b"bench");
                        o.update(black_box(&stored), &mut opened).unwrap();
                        o.finish(&mut opened).unwrap();
                    }),
                );

                if cs == ChunkSize::C2SP {
                    let options =
                        SealOptions { chunk_size: cs, md5: true, backend, ..SealOptions::default() };
                    row(
                        "seal + plaintext MD5 (`ObjectSealer`, `md5: true`)",
                        compare(
                            rounds.div_ceil(4),
                            &mut || {
                                black_box(one_shot.seal(&mut buf));
                            },
                            &mut || {
                                out.clear();
                                let mut s = ObjectSealer::new(options, &mut rng).unwrap();
                                s.update(black_box(&input), &mut out).unwrap();
                                black_box(s.finish(&mut out, &ring, &object, &mut rng).unwrap());
                            },
                        ),
                    );
                }
            }
        }
    }

    println!("\nFixed cost per chunk, in place: (chunked time - one-shot time) / chunks\n");
    println!("| backend | size | chunk | ns per chunk |");
    println!("|---|---|---|---|");
    for (backend, label, cs, ns) in per_chunk {
        println!("| {} | {label} | {} KiB | {ns:.0} |", backend.name(), cs.bytes() >> 10);
    }

    #[cfg(feature = "parallel")]
    {
        let threads = rayon::current_num_threads();
        println!(
            "\nParallel (`seal_parallel`/`open_parallel`, {threads} threads) against the sequential one-call path\n"
        );
        println!("| backend | size | op | sequential GB/s | parallel GB/s | speed-up |");
        println!("|---|---|---|---|---|---|");
        for &backend in Backend::ALL {
            let params = StreamParams::new(ChunkSize::C2SP).with_backend(backend);
            let cs = ChunkSize::C2SP.bytes();
            for (size, label, rounds) in sizes {
                let rounds = if quick { rounds / 5 } else { rounds };
                let input = vec![0x5au8; size];
                let gbps = |s: f64| size as f64 / s / 1e9;
                let row = |op: &str, (b, c, r): (f64, f64, f64)| {
                    println!(
                        "| {} | {label} | {op} | {:.2} | {:.2} | {r:.2}× |",
                        backend.name(),
                        gbps(b),
                        gbps(c)
                    );
                };
                let buf = std::cell::RefCell::new(input.clone());
                let mut rng = Counter(0);
                row(
                    "seal in place (`ChunkSealer` / `seal_rest_parallel`)",
                    compare(
                        rounds,
                        &mut || {
                            let (mut s, _) = ChunkSealer::new(&key, params, b"bench", &mut rng).unwrap();
                            let mut buf = buf.borrow_mut();
                            let mut chunks = buf.chunks_exact_mut(cs);
                            for chunk in &mut chunks {
                                black_box(s.seal_chunk(chunk).unwrap());
                            }
                            black_box(s.seal_final(chunks.into_remainder()).unwrap());
                        },
                        &mut || {
                            let (s, _) = ChunkSealer::new(&key, params, b"bench", &mut Counter(0)).unwrap();
                            black_box(s.seal_rest_parallel(&mut buf.borrow_mut()).unwrap());
                        },
                    ),
                );
                let stored = s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap();
                let opener = s3crypt::ChunkOpener::new(
                    &key,
                    params,
                    b"bench",
                    &stored[..s3crypt::HEADER_LEN],
                    size as u64,
                )
                .unwrap();
                let body = std::cell::RefCell::new(stored[s3crypt::HEADER_LEN..].to_vec());
                row(
                    "open in place (`open_chunk_in_place` / `open_in_place_parallel`)",
                    compare_after(
                        rounds,
                        &mut || body.borrow_mut().copy_from_slice(&stored[s3crypt::HEADER_LEN..]),
                        &mut || {
                            for (i, slot) in body.borrow_mut().chunks_mut(cs + 16).enumerate() {
                                black_box(opener.open_chunk_in_place(i as u64, slot).unwrap());
                            }
                        },
                        &mut || opener.open_in_place_parallel(&mut body.borrow_mut()).unwrap(),
                    ),
                );
                row(
                    "seal, whole buffer (`seal` / `seal_parallel`, allocating)",
                    compare(
                        rounds,
                        &mut || {
                            black_box(
                                s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap(),
                            );
                        },
                        &mut || {
                            black_box(
                                s3crypt::seal_parallel(&key, params, b"bench", &input, &mut Counter(0))
                                    .unwrap(),
                            );
                        },
                    ),
                );
                row(
                    "open, whole buffer (`open` / `open_parallel`, allocating)",
                    compare(
                        rounds,
                        &mut || {
                            black_box(s3crypt::open(&key, params, b"bench", &stored).unwrap());
                        },
                        &mut || {
                            black_box(s3crypt::open_parallel(&key, params, b"bench", &stored).unwrap());
                        },
                    ),
                );
            }
        }
    }
}
