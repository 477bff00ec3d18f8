//! Interleaved ratio measurement: s3crypt against the one-shot AES-256-GCM baseline on the same
//! buffer, for every backend built in, plus the parallel path against the sequential one.
//!
//! Criterion (`benches/stream.rs`) measures one function after another, so on a shared, noisy
//! machine the speed can drift between the baseline and the candidate. This harness alternates them
//! round by round and reports the median of the per-round ratios, which drift cannot bias, and the
//! fixed cost per chunk implied by the in-place rows.
//!
//! Each table names the CPU, the core count and the backend, and starts with the physical limits
//! measured in the same run: a `memcpy` of the same size and the one-shot call out of place. Per
//! chunk size, rows "backend alone" make the calls s3crypt makes, one per chunk, with nothing
//! around them: the bound each s3crypt path can reach at that size. A last table fits the backend's
//! own cost per call as `fixed + bytes / throughput`.
//!
//! `cargo bench --bench ratio [--features parallel]` prints Markdown tables (GB/s = 10^9 bytes/s,
//! medians) for both backends (the default features build aws-lc beside the pure-Rust one).
//! `S3CRYPT_BENCH_QUICK=1` runs fewer rounds; `S3CRYPT_BENCH_ONLY=rustcrypto` (or `aws-lc`) one
//! backend.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use common::{Counter, OneShot, compare, compare_after, machine};
use s3crypt::{
    Backend, ChunkOpener, ChunkSealer, ChunkSize, DataKey, HEADER_LEN, Keyring, ObjectId, ObjectSealer,
    Opener, ReusableBuffer, RootKey, SealOptions, Sealer, StreamParams,
};
use std::hint::black_box;

mod common;

fn main() {
    let quick = std::env::var_os("S3CRYPT_BENCH_QUICK").is_some();
    let only = std::env::var("S3CRYPT_BENCH_ONLY").ok();
    let key = DataKey::from_bytes([7; 32]);
    let ring = Keyring::new("bench", 1, RootKey::from_bytes([9; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let sizes = [(1usize << 20, "1 MiB", 300), (64 << 20, "64 MiB", 20)];
    let mut per_chunk = Vec::new();
    for &backend in Backend::ALL {
        if only.as_deref().is_some_and(|o| o != backend.name()) {
            continue;
        }
        println!(
            "\n{} — backend {}; baseline: one-shot AES-256-GCM of the whole buffer, same backend\n",
            machine(),
            backend.name()
        );
        println!("| backend | size | chunk | s3crypt path | baseline GB/s | s3crypt GB/s | ratio |");
        println!("|---|---|---|---|---|---|---|");
        let one_shot = OneShot::new(backend);
        for (size, label, rounds) in sizes {
            let rounds = if quick { rounds / 5 } else { rounds };
            let input = vec![0x5au8; size];
            let mut buf = input.clone();
            let mut ct = input.clone();
            let tag = one_shot.seal(&mut ct);
            let mut plain = vec![0u8; size];
            let mut sealed_out = vec![0u8; size + 16];
            let mut plain_chunks = vec![0u8; size];
            let gbps = |s: f64| size as f64 / s / 1e9;
            let row = |chunk: &str, path: &str, (b, c, r): (f64, f64, f64)| {
                println!(
                    "| {} | {label} | {chunk} | {path} | {:.2} | {:.2} | {r:.3} |",
                    backend.name(),
                    gbps(b),
                    gbps(c)
                );
            };
            // The physical limits, in the same run: a copy of the same size, and the one-shot
            // out of place (reading one buffer, writing another, as the streaming paths must).
            let mut copy = vec![0u8; size];
            row(
                "–",
                "memcpy of the same size (the memory limit)",
                compare(
                    rounds,
                    &mut || {
                        black_box(one_shot.seal(&mut buf));
                    },
                    &mut || copy.copy_from_slice(black_box(&input)),
                ),
            );
            row(
                "–",
                "one-shot seal out of place (input → output)",
                compare(
                    rounds,
                    &mut || {
                        black_box(one_shot.seal(&mut buf));
                    },
                    &mut || one_shot.seal_to(black_box(&input), &mut sealed_out),
                ),
            );
            row(
                "–",
                "one-shot open (into a second buffer)",
                compare(
                    rounds,
                    &mut || {
                        black_box(one_shot.seal(&mut buf));
                    },
                    &mut || one_shot.open(&ct, &tag, &mut plain),
                ),
            );
            for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
                let params = StreamParams::new(cs).with_backend(backend);
                let chunk = format!("{} KiB", cs.bytes() >> 10);
                let row = |path: &str, t| row(&chunk, path, t);
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
                let ours = (timing.1 - timing.0) / chunks * 1e9;

                // The backend alone, one call per chunk and nothing of s3crypt's: the bound each
                // s3crypt path can reach at this chunk size (in place for the chunk APIs, out of
                // place for the streaming ones).
                let mut raw = input.clone();
                let timing = compare(
                    rounds,
                    &mut || {
                        black_box(one_shot.seal(&mut buf));
                    },
                    &mut || {
                        for chunk in raw.chunks_mut(cs.bytes()) {
                            black_box(one_shot.seal(chunk));
                        }
                    },
                );
                row("backend alone: one seal call per chunk, in place (no s3crypt)", timing);
                let raw_calls = size.div_ceil(cs.bytes()) as f64;
                per_chunk.push((backend, label, cs, (timing.1 - timing.0) / raw_calls * 1e9, ours));
                let mut layout = vec![0u8; size + size.div_ceil(cs.bytes()) * 16];
                row(
                    "backend alone: one seal call per chunk, out of place (the bound for `Sealer`)",
                    compare(
                        rounds,
                        &mut || {
                            black_box(one_shot.seal(&mut buf));
                        },
                        &mut || {
                            for (chunk, slot) in
                                input.chunks(cs.bytes()).zip(layout.chunks_mut(cs.sealed_len()))
                            {
                                one_shot.seal_to(black_box(chunk), slot);
                            }
                        },
                    ),
                );
                let tags: Vec<[u8; 16]> =
                    layout.chunks(cs.sealed_len()).map(|s| s[cs.bytes()..].try_into().unwrap()).collect();
                row(
                    "backend alone: one open call per chunk, out of place (the bound for `Opener`)",
                    compare(rounds, &mut || one_shot.open(&ct, &tag, &mut plain), &mut || {
                        for ((slot, tag), out) in
                            layout.chunks(cs.sealed_len()).zip(&tags).zip(plain_chunks.chunks_mut(cs.bytes()))
                        {
                            one_shot.open(black_box(&slot[..cs.bytes()]), tag, out);
                        }
                    }),
                );

                let sealed_len = cs.ciphertext_len(size as u64).unwrap() as usize;
                let mut out = Vec::with_capacity(sealed_len);
                row(
                    "seal, streaming (`Sealer`) into a reused `Vec`",
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
                let mut reused = ReusableBuffer::with_capacity(sealed_len);
                row(
                    "seal, streaming (`Sealer`) into a `ReusableBuffer`",
                    compare(
                        rounds,
                        &mut || {
                            black_box(one_shot.seal(&mut buf));
                        },
                        &mut || {
                            reused.clear();
                            let mut s = Sealer::new(&key, params, b"bench", &mut rng).unwrap();
                            s.update(black_box(&input), &mut reused).unwrap();
                            s.finish(&mut reused).unwrap();
                        },
                    ),
                );

                let stored = s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap();
                let mut opened = Vec::with_capacity(size);
                row(
                    "open, streaming (`Opener`) into a reused `Vec`",
                    compare(rounds, &mut || one_shot.open(&ct, &tag, &mut plain), &mut || {
                        opened.clear();
                        let mut o = Opener::new(&key, params, b"bench");
                        o.update(black_box(&stored), &mut opened).unwrap();
                        o.finish(&mut opened).unwrap();
                    }),
                );
                let mut opened = ReusableBuffer::with_capacity(size);
                row(
                    "open, streaming (`Opener`) into a `ReusableBuffer`",
                    compare(rounds, &mut || one_shot.open(&ct, &tag, &mut plain), &mut || {
                        opened.clear();
                        let mut o = Opener::new(&key, params, b"bench");
                        o.update(black_box(&stored), &mut opened).unwrap();
                        o.finish(&mut opened).unwrap();
                    }),
                );
                let opener =
                    ChunkOpener::new(&key, params, b"bench", &stored[..HEADER_LEN], size as u64).unwrap();
                let body = std::cell::RefCell::new(stored[HEADER_LEN..].to_vec());
                row(
                    "open in place (`ChunkOpener`; body restored, untimed, before each round)",
                    compare_after(
                        rounds,
                        &mut || body.borrow_mut().copy_from_slice(&stored[HEADER_LEN..]),
                        &mut || {
                            black_box(one_shot.seal(&mut buf));
                        },
                        &mut || {
                            for (i, slot) in body.borrow_mut().chunks_mut(cs.sealed_len()).enumerate() {
                                black_box(opener.open_chunk_in_place(i as u64, slot).unwrap());
                            }
                        },
                    ),
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
                                reused.clear();
                                let mut s = ObjectSealer::new(options, &mut rng).unwrap();
                                s.update(black_box(&input), &mut reused).unwrap();
                                black_box(s.finish(&mut reused, &ring, &object, &mut rng).unwrap());
                            },
                        ),
                    );
                }
            }
        }
    }

    println!(
        "\nFixed cost per chunk, in place: (chunked time - one-shot time) / chunks; the backend's own \
         per call, and s3crypt's `ChunkSealer` per chunk (which adds the stream's key derivation, \
         spread over its chunks)\n"
    );
    println!("| backend | size | chunk | backend alone, ns per call | `ChunkSealer`, ns per chunk |");
    println!("|---|---|---|---|---|");
    for (backend, label, cs, raw, ours) in per_chunk {
        println!("| {} | {label} | {} KiB | {raw:.0} | {ours:.0} |", backend.name(), cs.bytes() >> 10);
    }

    // The backend's cost per call as a line: a 1 MiB buffer (in cache) sealed in calls of each
    // size, best of many rounds, fitted as time per call = fixed + bytes / throughput over the
    // sizes above 16 blocks (where aws-lc's AVX-512 kernel runs its full set-up).
    println!(
        "\nThe backend's own cost per call: 1 MiB sealed in place in calls of each size, best of 50 rounds\n"
    );
    println!("| backend | call size | ns per call | GB/s |");
    println!("|---|---|---|---|");
    let mut fits = Vec::new();
    for &backend in Backend::ALL {
        if only.as_deref().is_some_and(|o| o != backend.name()) {
            continue;
        }
        let one_shot = OneShot::new(backend);
        let size = 1usize << 20;
        let mut buf = vec![0x5au8; size];
        let mut points = Vec::new();
        for log2 in [10, 12, 14, 16, 18, 20] {
            let call = 1usize << log2;
            let best = (0..50)
                .map(|_| {
                    common::time(&mut || {
                        for chunk in buf.chunks_mut(call) {
                            black_box(one_shot.seal(chunk));
                        }
                    })
                })
                .fold(f64::MAX, f64::min);
            let per_call = best / (size / call) as f64 * 1e9;
            println!(
                "| {} | {} KiB | {per_call:.0} | {:.2} |",
                backend.name(),
                call >> 10,
                size as f64 / best / 1e9
            );
            if call > 256 {
                points.push((call as f64, per_call));
            }
        }
        // ns = fixed + bytes / throughput, fitted as ns per byte = 1 / throughput + fixed / bytes
        // (least squares in 1/bytes: each size's relative error weighs the same).
        let points: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (1.0 / x, y / x)).collect();
        let n = points.len() as f64;
        let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
        let (mx, my) = (sx / n, sy / n);
        let sxy: f64 = points.iter().map(|&(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = points.iter().map(|&(x, _)| (x - mx) * (x - mx)).sum();
        let fixed = sxy / sxx;
        let per_byte = my - fixed * mx;
        fits.push((backend, fixed, 1.0 / per_byte));
    }
    println!("\n| backend | fixed cost per call (fit), ns | throughput beyond it, GB/s |");
    println!("|---|---|---|");
    for (backend, fixed, gbps) in fits {
        println!("| {} | {fixed:.0} | {gbps:.2} |", backend.name());
    }

    #[cfg(feature = "parallel")]
    {
        let threads = rayon::current_num_threads();
        println!(
            "\n{} — parallel (`seal_parallel`/`open_parallel`, {threads} threads) against the sequential one-call path\n",
            machine()
        );
        println!("| backend | size | op | sequential GB/s | parallel GB/s | speed-up |");
        println!("|---|---|---|---|---|---|");
        for &backend in Backend::ALL {
            if only.as_deref().is_some_and(|o| o != backend.name()) {
                continue;
            }
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
                let options =
                    SealOptions { chunk_size: ChunkSize::C2SP, md5: true, backend, ..SealOptions::default() };
                let md5_out = std::cell::RefCell::new(ReusableBuffer::with_capacity(2 * size));
                let md5_rng = std::cell::RefCell::new(Counter(0));
                let seal_md5 = |piece: usize| {
                    let (mut out, mut rng) = (md5_out.borrow_mut(), md5_rng.borrow_mut());
                    out.clear();
                    let mut s = ObjectSealer::new(options, &mut *rng).unwrap();
                    for part in input.chunks(piece) {
                        s.update(black_box(part), &mut *out).unwrap();
                    }
                    black_box(s.finish(&mut *out, &ring, &object, &mut *rng).unwrap());
                };
                row(
                    "seal + MD5 (`ObjectSealer`): in line (128 KiB pieces) / beside (one piece)",
                    compare(rounds.div_ceil(4), &mut || seal_md5(s3crypt::MD5_BESIDE_MIN / 2), &mut || {
                        seal_md5(size)
                    }),
                );
                let stored = s3crypt::seal(&key, params, b"bench", &input, &mut Counter(0)).unwrap();
                let opener =
                    ChunkOpener::new(&key, params, b"bench", &stored[..HEADER_LEN], size as u64).unwrap();
                let body = std::cell::RefCell::new(stored[HEADER_LEN..].to_vec());
                row(
                    "open in place (`open_chunk_in_place` / `open_in_place_parallel`)",
                    compare_after(
                        rounds,
                        &mut || body.borrow_mut().copy_from_slice(&stored[HEADER_LEN..]),
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
