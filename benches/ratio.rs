//! Interleaved ratio measurement: streaming vs the one-shot AES-256-GCM baseline on the same buffer.
//!
//! Criterion (`benches/stream.rs`) measures one function after another, so on a shared, noisy
//! machine the speed can drift between the baseline and the stream. This harness alternates them
//! round by round and reports the median of the per-round ratios, which drift cannot bias.
//!
//! `cargo bench --bench ratio` prints a Markdown table (GB/s = 10^9 bytes/s, medians).
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
use s3crypt::{
    ChunkSealer, ChunkSize, DataKey, Keyring, ObjectId, ObjectSealer, Opener, RootKey, SealOptions, Sealer,
};
use std::hint::black_box;
use std::time::Instant;

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
        dst.fill(self.0 as u8);
        self.0 += 1;
        Ok(())
    }
}
impl s3crypt::TryCryptoRng for Counter {}

fn time(f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates `baseline` and `candidate`; returns (baseline GB/s, candidate GB/s, median ratio).
fn compare(
    bytes: usize,
    rounds: usize,
    baseline: &mut dyn FnMut(),
    candidate: &mut dyn FnMut(),
) -> (f64, f64, f64) {
    for _ in 0..3 {
        baseline();
        candidate();
    }
    let (mut b, mut c, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        let (tb, tc) = if i % 2 == 0 {
            let tb = time(baseline);
            (tb, time(candidate))
        } else {
            let tc = time(candidate);
            (time(baseline), tc)
        };
        b.push(bytes as f64 / tb / 1e9);
        c.push(bytes as f64 / tc / 1e9);
        r.push(tb / tc);
    }
    (median(b), median(c), median(r))
}

fn main() {
    let key = DataKey::from_bytes([7; 32]);
    let gcm = Aes256Gcm::new(&[7; 32].into());
    let ring = Keyring::new("bench", 1, RootKey::from_bytes([9; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    println!("| size | chunk | op | baseline GB/s | s3crypt GB/s | ratio |");
    println!("|---|---|---|---|---|---|");
    for (size, label, rounds) in [(1usize << 20, "1 MiB", 400), (64 << 20, "64 MiB", 30)] {
        let input = vec![0x5au8; size];
        for (cs, cs_label) in [(ChunkSize::C2SP, "16 KiB"), (ChunkSize::KIB_64, "64 KiB")] {
            let mut buf = input.clone();
            let mut out = Vec::with_capacity(cs.ciphertext_len(size as u64).unwrap() as usize);
            let mut rng = Counter(0);
            let (b, c, r) = compare(
                size,
                rounds,
                &mut || {
                    black_box(
                        gcm.encrypt_inout_detached(&[0; 12].into(), &[], buf.as_mut_slice().into()).unwrap(),
                    );
                },
                &mut || {
                    out.clear();
                    let mut s = Sealer::new(&key, cs, b"bench", &mut rng).unwrap();
                    s.update(black_box(&input), &mut out).unwrap();
                    s.finish(&mut out).unwrap();
                },
            );
            println!(
                "| {label} | {cs_label} | seal (`Sealer`, copies into the output) | {b:.2} | {c:.2} | {r:.3} |"
            );

            let mut inplace = input.clone();
            let (b, c, r) = compare(
                size,
                rounds,
                &mut || {
                    black_box(
                        gcm.encrypt_inout_detached(&[0; 12].into(), &[], buf.as_mut_slice().into()).unwrap(),
                    );
                },
                &mut || {
                    let (mut s, header) = ChunkSealer::new(&key, cs, b"bench", &mut rng).unwrap();
                    black_box(header);
                    let mut chunks = inplace.chunks_exact_mut(cs.bytes());
                    for chunk in &mut chunks {
                        black_box(s.seal_chunk(chunk).unwrap());
                    }
                    black_box(s.seal_final(chunks.into_remainder()).unwrap());
                },
            );
            println!("| {label} | {cs_label} | seal in place (`ChunkSealer`) | {b:.2} | {c:.2} | {r:.3} |");

            let mut ct = input.clone();
            let tag = gcm.encrypt_inout_detached(&[0; 12].into(), &[], ct.as_mut_slice().into()).unwrap();
            let mut plain = vec![0u8; size];
            let stored = s3crypt::seal(&key, cs, b"bench", &input, &mut Counter(0)).unwrap();
            let mut opened = Vec::with_capacity(size);
            let (b, c, r) = compare(
                size,
                rounds,
                &mut || {
                    let buf = InOutBuf::new(&ct, &mut plain).unwrap();
                    gcm.decrypt_inout_detached(&[0; 12].into(), &[], buf, &tag).unwrap();
                },
                &mut || {
                    opened.clear();
                    let mut o = Opener::new(&key, cs, b"bench");
                    o.update(black_box(&stored), &mut opened).unwrap();
                    o.finish(&mut opened).unwrap();
                },
            );
            println!(
                "| {label} | {cs_label} | open (`Opener`, into the output) | {b:.2} | {c:.2} | {r:.3} |"
            );

            if cs == ChunkSize::C2SP {
                let (b, c, r) = compare(
                    size,
                    rounds / 4,
                    &mut || {
                        black_box(
                            gcm.encrypt_inout_detached(&[0; 12].into(), &[], buf.as_mut_slice().into())
                                .unwrap(),
                        );
                    },
                    &mut || {
                        out.clear();
                        let options = SealOptions { chunk_size: cs, md5: true };
                        let mut s = ObjectSealer::new(options, &mut rng).unwrap();
                        s.update(black_box(&input), &mut out).unwrap();
                        black_box(s.finish(&mut out, &ring, &object, &mut rng).unwrap());
                    },
                );
                println!(
                    "| {label} | {cs_label} | seal + plaintext MD5 (`ObjectSealer`, `md5: true`) | {b:.2} | {c:.2} | {r:.3} |"
                );
            }
        }
    }
}
