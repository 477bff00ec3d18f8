//! The streaming core: round trips with random split points, boundary sizes, the range planner
//! against a `u128` model, and a hostile case for every defence.
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

use bytes::BytesMut;
use common::model::check_plan;
use common::{TestRng, pattern};
use proptest::prelude::*;
use s3crypt::{
    Backend, ChunkOpener, ChunkSealer, ChunkSize, DataKey, Error, HEADER_LEN, Opener, OutputBuffer,
    ReusableBuffer, Sealer, StreamParams, TAG_LEN, open, seal,
};

const SIZES: [ChunkSize; 2] = [ChunkSize::C2SP, ChunkSize::KIB_64];
const CTX: &[u8] = b"bucket\0key\0part 1";

fn key() -> DataKey {
    DataKey::from_bytes([0x42; 32])
}

fn sealed(cs: ChunkSize, msg: &[u8]) -> Vec<u8> {
    seal(&key(), cs, CTX, msg, &mut TestRng(7)).unwrap()
}

/// Feeds `data` to `f` in pieces ending at the given split points.
/// The stream as the in-place `ChunkSealer` writes it (the reference for the one-pass paths).
fn chunk_sealed(params: StreamParams, msg: &[u8]) -> Vec<u8> {
    let (mut s, header) = ChunkSealer::new(&key(), params, CTX, &mut TestRng(7)).unwrap();
    let mut buf = msg.to_vec();
    let mut out = header.to_vec();
    let mut chunks = buf.chunks_exact_mut(params.chunk_size.bytes());
    for c in &mut chunks {
        let tag = s.seal_chunk(c).unwrap();
        out.extend_from_slice(c);
        out.extend_from_slice(&tag);
    }
    let last = chunks.into_remainder();
    let tag = s.seal_final(last).unwrap();
    out.extend_from_slice(last);
    out.extend_from_slice(&tag);
    out
}

fn pieces<'a>(data: &'a [u8], splits: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = splits.iter().map(|s| s % (data.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&data[at..c]); // empty pieces included on purpose
        at = c;
    }
    out.push(&data[at..]);
    out
}

/// Streams `stored` through an opener in the given pieces; returns what it released and the result.
fn stream_open(cs: ChunkSize, stored: &[u8], splits: &[usize]) -> (Vec<u8>, Result<(), Error>) {
    let mut opener = Opener::new(&key(), cs, CTX);
    let mut out = Vec::new();
    for p in pieces(stored, splits) {
        if let Err(e) = opener.update(p, &mut out) {
            return (out, Err(e));
        }
    }
    let r = opener.finish(&mut out);
    (out, r)
}

fn boundary_lengths(cs: ChunkSize) -> Vec<usize> {
    let c = cs.bytes();
    vec![0, 1, c - 1, c, c + 1, 2 * c - 1, 2 * c, 2 * c + 1, 7 * c + 13]
}

#[test]
fn boundary_sizes_round_trip_with_exact_lengths() {
    for cs in SIZES {
        for len in boundary_lengths(cs) {
            let msg = pattern(len);
            let stored = sealed(cs, &msg);
            assert_eq!(stored.len() as u64, cs.ciphertext_len(len as u64).unwrap(), "len {len}");
            assert_eq!(cs.plaintext_len(stored.len() as u64), Ok(len as u64));
            assert_eq!(open(&key(), cs, CTX, &stored).unwrap(), msg, "len {len}");
            let (got, r) = stream_open(cs, &stored, &[1, 57, 1000, 16400, 16401]);
            assert_eq!(r, Ok(()));
            assert_eq!(got, msg);
        }
    }
}

#[test]
fn chunk_sealer_in_place_matches_the_streaming_sealer() {
    for cs in SIZES {
        for len in boundary_lengths(cs) {
            let msg = pattern(len);
            let (mut sealer, header) = ChunkSealer::new(&key(), cs, CTX, &mut TestRng(7)).unwrap();
            let mut buf = msg.clone();
            let mut stored = header.to_vec();
            let mut chunks = buf.chunks_exact_mut(cs.bytes());
            for chunk in &mut chunks {
                let tag = sealer.seal_chunk(chunk).unwrap();
                stored.extend_from_slice(chunk);
                stored.extend_from_slice(&tag);
            }
            let last = chunks.into_remainder();
            let tag = sealer.seal_final(last).unwrap();
            stored.extend_from_slice(last);
            stored.extend_from_slice(&tag);
            assert_eq!(stored, sealed(cs, &msg), "len {len}");
        }
    }
}

#[test]
fn chunk_sealer_enforces_chunk_lengths() {
    let cs = ChunkSize::C2SP;
    let (mut sealer, _) = ChunkSealer::new(&key(), cs, CTX, &mut TestRng(1)).unwrap();
    for bad in [0, 1, cs.bytes() - 1, cs.bytes() + 1] {
        assert_eq!(sealer.seal_chunk(&mut vec![0; bad]), Err(Error::InvalidChunkLength));
    }
    assert_eq!(sealer.chunks_sealed(), 0, "a refused chunk uses no nonce");
    let (sealer, _) = ChunkSealer::new(&key(), cs, CTX, &mut TestRng(1)).unwrap();
    assert_eq!(sealer.seal_final(&mut vec![0; cs.bytes()]), Err(Error::InvalidChunkLength));
}

#[test]
fn bytes_mut_output() {
    let msg = pattern(50_000);
    let mut sealer = Sealer::new(&key(), ChunkSize::C2SP, CTX, &mut TestRng(7)).unwrap();
    let mut out = BytesMut::new();
    sealer.update(&msg, &mut out).unwrap();
    sealer.finish(&mut out).unwrap();
    assert_eq!(&out[..], &sealed(ChunkSize::C2SP, &msg)[..]);
    let mut opener = Opener::new(&key(), ChunkSize::C2SP, CTX);
    let mut plain = BytesMut::new();
    opener.update(&out, &mut plain).unwrap();
    opener.finish(&mut plain).unwrap();
    assert_eq!(&plain[..], &msg[..]);
}

#[test]
fn salts_are_fresh_per_stream() {
    let a = seal(&key(), ChunkSize::C2SP, CTX, b"same", &mut TestRng(1)).unwrap();
    let b = seal(&key(), ChunkSize::C2SP, CTX, b"same", &mut TestRng(2)).unwrap();
    assert_ne!(a[..24], b[..24]);
    assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..], "same key and message, different ciphertext");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_with_random_splits(
        len in 0usize..150_000,
        seal_splits in proptest::collection::vec(any::<usize>(), 0..12),
        open_splits in proptest::collection::vec(any::<usize>(), 0..12),
        big in any::<bool>(),
    ) {
        let cs = if big { ChunkSize::KIB_64 } else { ChunkSize::C2SP };
        let msg = pattern(len);
        let mut sealer = Sealer::new(&key(), cs, CTX, &mut TestRng(7)).unwrap();
        let mut stored = Vec::new();
        for p in pieces(&msg, &seal_splits) {
            sealer.update(p, &mut stored).unwrap();
        }
        prop_assert_eq!(sealer.plaintext_len(), len as u64);
        sealer.finish(&mut stored).unwrap();
        prop_assert_eq!(&stored, &sealed(cs, &msg), "splitting the input never changes the output");
        let (got, r) = stream_open(cs, &stored, &open_splits);
        prop_assert_eq!(r, Ok(()));
        prop_assert_eq!(got, msg);
    }

    /// The one-pass paths into a reused buffer that holds stale bytes (of a longer stream, so
    /// every slot is handed out dirty) write exactly the bytes of the in-place `ChunkSealer`, and
    /// open back to exactly the plaintext, under every backend and any split of the input.
    #[test]
    fn reused_buffers_round_trip_with_random_splits(
        len in 0usize..120_000,
        seal_splits in proptest::collection::vec(any::<usize>(), 0..12),
        open_splits in proptest::collection::vec(any::<usize>(), 0..12),
        big in any::<bool>(),
        backend in proptest::sample::select(Backend::ALL),
    ) {
        let cs = if big { ChunkSize::KIB_64 } else { ChunkSize::C2SP };
        let params = StreamParams::new(cs).with_backend(backend);
        let msg = pattern(len);
        let expected = chunk_sealed(params, &msg);
        let mut stored = ReusableBuffer::new();
        stored.extend_from_slice(&[0xee; 260_000]);
        stored.clear();
        let mut sealer = Sealer::new(&key(), params, CTX, &mut TestRng(7)).unwrap();
        for p in pieces(&msg, &seal_splits) {
            sealer.update(p, &mut stored).unwrap();
        }
        sealer.finish(&mut stored).unwrap();
        prop_assert_eq!(&stored[..], &expected[..]);
        let mut plain = ReusableBuffer::new();
        plain.extend_from_slice(&[0xdd; 130_000]);
        plain.clear();
        let mut opener = Opener::new(&key(), params, CTX);
        for p in pieces(&expected, &open_splits) {
            opener.update(p, &mut plain).unwrap();
        }
        opener.finish(&mut plain).unwrap();
        prop_assert_eq!(&plain[..], &msg[..]);
    }

    #[test]
    fn ranges_return_exactly_the_requested_bytes(
        len in 1usize..120_000,
        a in any::<usize>(),
        b in any::<usize>(),
        splits in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let cs = ChunkSize::C2SP;
        let msg = pattern(len);
        let stored = sealed(cs, &msg);
        let (start, end) = { let (x, y) = (a % len, b % len); (x.min(y), x.max(y) + 1) };
        let opener = ChunkOpener::new(&key(), cs, CTX, &stored[..HEADER_LEN], len as u64).unwrap();
        let mut reader = opener.open_range(start as u64..end as u64).unwrap();
        let plan = reader.plan().clone();
        let fetched = &stored[plan.ciphertext.start as usize..plan.ciphertext.end as usize];
        let mut out = Vec::new();
        for p in pieces(fetched, &splits) {
            reader.update(p, &mut out).unwrap();
        }
        reader.finish().unwrap();
        prop_assert_eq!(&out[..], &msg[start..end]);
    }

    #[test]
    fn plan_matches_a_u128_model(len in any::<u64>(), a in any::<u64>(), b in any::<u64>(), log2 in 14u8..=20) {
        check_plan(ChunkSize::from_log2(log2).unwrap(), len, a, b);
    }
}

#[test]
fn plan_edges_against_the_model() {
    const TIB5: u64 = 5 << 40;
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64, ChunkSize::MIB_1] {
        let c = cs.bytes() as u64;
        let max = cs.max_plaintext_len();
        let lens = [0, 1, c - 1, c, c + 1, TIB5 - 1, TIB5, TIB5 + 1, max - 1, max, max + 1, u64::MAX];
        for len in lens {
            for (a, b) in [
                (0, 1),
                (0, len),
                (len.saturating_sub(1), len),
                (c - 1, c + 1),
                (c, 2 * c),
                (TIB5 - c - 1, TIB5),
                (len / 2, len),
                (0, u64::MAX),
                (len, len),
            ] {
                check_plan(cs, len, a, b);
            }
        }
        assert_eq!(cs.ciphertext_len(max + 1), Err(Error::TooLong));
        assert_eq!(cs.chunk_count(u64::MAX), Err(Error::TooLong));
        assert!(cs.plaintext_len(u64::MAX).unwrap_or(0) <= max);
    }
    // 5 TiB at 16 KiB: 335,544,320 full chunks, an empty final chunk.
    assert_eq!(ChunkSize::C2SP.chunk_count(TIB5), Ok((TIB5 >> 14) + 1));
    assert_eq!(ChunkSize::C2SP.ciphertext_len(TIB5), Ok(56 + TIB5 + 16 * ((TIB5 >> 14) + 1)));
}

#[test]
fn impossible_stored_lengths_are_truncations() {
    let cs = ChunkSize::C2SP;
    for len in [0, 1, 55, 56, 57, 71, 56 + 16400, 56 + 16400 + 15] {
        assert_eq!(cs.plaintext_len(len), Err(Error::Truncated), "{len}");
    }
    assert_eq!(cs.plaintext_len(72), Ok(0));
    assert_eq!(cs.plaintext_len(56 + 16400 + 16), Ok(16384));
}

// ---- Hostile cases: every defence has a test that an attack trips. ----

/// Opening must fail, release nothing unauthenticated, and (for the streaming opener, fed every
/// piece size) release no more than `valid_prefix` bytes, which must match the message.
fn assert_rejected(cs: ChunkSize, stored: &[u8], msg: &[u8], valid_prefix: usize) {
    assert!(open(&key(), cs, CTX, stored).is_err());
    for splits in [vec![], vec![1, 2, 3], vec![HEADER_LEN, HEADER_LEN + cs.sealed_len()]] {
        let (got, r) = stream_open(cs, stored, &splits);
        assert!(r.is_err());
        assert!(got.len() <= valid_prefix, "released {} > {valid_prefix}", got.len());
        assert_eq!(got[..], msg[..got.len()]);
    }
}

#[test]
fn truncation_at_every_chunk_boundary_and_inside_chunks() {
    for cs in SIZES {
        let c = cs.bytes();
        let msg = pattern(3 * c + 100);
        let stored = sealed(cs, &msg);
        for k in 0..=3 {
            let boundary = HEADER_LEN + k * cs.sealed_len();
            // Exactly at a boundary: every chunk before it is valid, the final one is missing.
            let cut = &stored[..boundary];
            assert!(matches!(open(&key(), cs, CTX, cut), Err(Error::Truncated)));
            assert_rejected(cs, cut, &msg, k * c);
            for off in [1, TAG_LEN - 1, TAG_LEN, TAG_LEN + 1, c / 2] {
                if boundary + off < stored.len() {
                    assert_rejected(cs, &stored[..boundary + off], &msg, k * c);
                }
            }
        }
        for cut in [0, 1, HEADER_LEN - 1] {
            assert_eq!(open(&key(), cs, CTX, &stored[..cut]), Err(Error::Truncated));
            assert_rejected(cs, &stored[..cut], &msg, 0);
        }
        // Dropping the final chunk's last byte.
        assert_rejected(cs, &stored[..stored.len() - 1], &msg, 3 * c);
    }
}

#[test]
fn appended_data_is_rejected() {
    for cs in SIZES {
        let c = cs.bytes();
        for len in [0, 100, c, 2 * c + 5] {
            let msg = pattern(len);
            let stored = sealed(cs, &msg);
            let full = len / c * c;
            // Garbage, a tag's worth, and a whole copy of the first chunk appended.
            for extra in [vec![0u8; 1], vec![0; TAG_LEN], vec![0xff; 20]] {
                assert_rejected(cs, &[stored.clone(), extra].concat(), &msg, full);
            }
            let first = stored[HEADER_LEN..(HEADER_LEN + cs.sealed_len()).min(stored.len())].to_vec();
            assert_rejected(cs, &[stored.clone(), first].concat(), &msg, full);
            // A whole second stream under the same key appended.
            let other = sealed(cs, b"more");
            assert_rejected(cs, &[stored.clone(), other[HEADER_LEN..].to_vec()].concat(), &msg, full);
        }
    }
}

#[test]
fn reordered_duplicated_and_spliced_chunks_are_rejected() {
    let cs = ChunkSize::C2SP;
    let c = cs.bytes();
    let s = cs.sealed_len();
    let msg = pattern(3 * c + 10);
    let stored = sealed(cs, &msg);
    let chunk = |i: usize| stored[HEADER_LEN + i * s..(HEADER_LEN + (i + 1) * s).min(stored.len())].to_vec();
    let header = stored[..HEADER_LEN].to_vec();

    let swapped = [header.clone(), chunk(1), chunk(0), chunk(2), chunk(3)].concat();
    assert_rejected(cs, &swapped, &msg, 0);
    let duplicated = [header.clone(), chunk(0), chunk(0), chunk(2), chunk(3)].concat();
    assert_rejected(cs, &duplicated, &msg, c);
    let dropped = [header.clone(), chunk(0), chunk(2), chunk(3)].concat();
    assert_rejected(cs, &dropped, &msg, c);

    // A chunk from another stream under the same key and context, at the same index.
    let other = sealed_with_rng(cs, &msg, 99);
    let foreign = other[HEADER_LEN + s..HEADER_LEN + 2 * s].to_vec();
    let spliced = [header.clone(), chunk(0), foreign, chunk(2), chunk(3)].concat();
    assert_rejected(cs, &spliced, &msg, c);
    // Another stream's header in front of this body.
    let rehead = [other[..HEADER_LEN].to_vec(), stored[HEADER_LEN..].to_vec()].concat();
    assert_rejected(cs, &rehead, &msg, 0);
}

fn sealed_with_rng(cs: ChunkSize, msg: &[u8], seed: u64) -> Vec<u8> {
    seal(&key(), cs, CTX, msg, &mut TestRng(seed)).unwrap()
}

#[test]
fn every_header_bit_is_authenticated() {
    let cs = ChunkSize::C2SP;
    let msg = pattern(100);
    let stored = sealed(cs, &msg);
    for bit in 0..HEADER_LEN * 8 {
        let mut bad = stored.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(open(&key(), cs, CTX, &bad), Err(Error::Authentication), "bit {bit}");
        let r = ChunkOpener::new(&key(), cs, CTX, &bad[..HEADER_LEN], 100);
        assert_eq!(r.map(|_| ()), Err(Error::Authentication));
    }
}

#[test]
fn body_bit_flips_are_rejected() {
    let cs = ChunkSize::C2SP;
    let msg = pattern(c2() + 300);
    let stored = sealed(cs, &msg);
    // Every bit of the short final chunk and of its tag, and a spread of bits in the first chunk.
    let last = HEADER_LEN + cs.sealed_len();
    let bits: Vec<usize> =
        (last * 8..stored.len() * 8).chain((HEADER_LEN * 8..last * 8).step_by(997)).collect();
    for bit in bits {
        let mut bad = stored.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let prefix = if bit >= last * 8 { c2() } else { 0 };
        assert_rejected(cs, &bad, &msg, prefix);
    }
}

fn c2() -> usize {
    ChunkSize::C2SP.bytes()
}

#[test]
fn wrong_key_context_or_chunk_size_fail_at_the_header() {
    let msg = pattern(40_000);
    let stored = sealed(ChunkSize::C2SP, &msg);
    let other_key = DataKey::from_bytes([0x43; 32]);
    assert_eq!(open(&other_key, ChunkSize::C2SP, CTX, &stored), Err(Error::Authentication));
    assert_eq!(open(&key(), ChunkSize::C2SP, b"bucket\0key\0part 2", &stored), Err(Error::Authentication));
    assert_eq!(open(&key(), ChunkSize::C2SP, b"", &stored), Err(Error::Authentication));
    // The chunk size is bound into the keys: a 64 KiB stream does not open as 16 KiB, nor back.
    let big = sealed(ChunkSize::KIB_64, &msg);
    let as_small = ChunkSize::C2SP.plaintext_len(big.len() as u64).unwrap_or(0);
    let r = ChunkOpener::new(&key(), ChunkSize::C2SP, CTX, &big[..HEADER_LEN], as_small);
    assert_eq!(r.map(|_| ()), Err(Error::Authentication));
    assert!(open(&key(), ChunkSize::KIB_64, CTX, &stored).is_err());
    let (got, r) = stream_open(ChunkSize::C2SP, &big, &[]);
    assert!(r.is_err() && got.is_empty());
}

#[test]
fn random_access_checks_lengths_and_touches_only_planned_chunks() {
    let cs = ChunkSize::C2SP;
    let c = cs.bytes();
    let s = cs.sealed_len();
    let msg = pattern(4 * c + 7);
    let mut stored = sealed(cs, &msg);
    let opener = ChunkOpener::new(&key(), cs, CTX, &stored[..HEADER_LEN], msg.len() as u64).unwrap();

    // A claimed length that disagrees with the stream fails at the final chunk.
    let liar = ChunkOpener::new(&key(), cs, CTX, &stored[..HEADER_LEN], msg.len() as u64 - 1).unwrap();
    let mut last = stored[HEADER_LEN + 4 * s..].to_vec();
    assert_eq!(liar.open_chunk_in_place(4, &mut last).map(|_| ()), Err(Error::Truncated));
    let mut last = stored[HEADER_LEN + 4 * s..stored.len() - 1].to_vec();
    assert_eq!(liar.open_chunk_in_place(4, &mut last).map(|_| ()), Err(Error::Authentication));
    assert!(last.iter().all(|&b| b == 0), "a failed chunk is wiped");
    // A chunk at the wrong index.
    let mut one = stored[HEADER_LEN + s..HEADER_LEN + 2 * s].to_vec();
    assert_eq!(opener.open_chunk_in_place(2, &mut one).map(|_| ()), Err(Error::Authentication));
    assert_eq!(opener.open_chunk_in_place(5, &mut one).map(|_| ()), Err(Error::InvalidRange));

    // Corrupt chunk 3: a range over chunks 1-2 still opens, one that touches chunk 3 does not.
    stored[HEADER_LEN + 3 * s + 5] ^= 1;
    let read = |opener: ChunkOpener, range: core::ops::Range<u64>| {
        let mut r = opener.open_range(range).unwrap();
        let p = r.plan().clone();
        let mut out = Vec::new();
        let res = r.update(&stored[p.ciphertext.start as usize..p.ciphertext.end as usize], &mut out);
        (res, out, r.into_inner())
    };
    let (res, out, opener) = read(opener, c as u64 + 10..3 * c as u64);
    assert_eq!(res, Ok(()));
    assert_eq!(out, msg[c + 10..3 * c]);
    let (res, out, opener) = read(opener, 2 * c as u64..3 * c as u64 + 1);
    assert_eq!(res, Err(Error::Authentication));
    assert_eq!(out, msg[2 * c..3 * c], "chunks before the bad one were released, nothing after");

    // Feeding more than the plan, or less, is reported.
    let mut r = opener.open_range(0..10).unwrap();
    let end = r.plan().ciphertext.end as usize;
    assert_eq!(r.update(&stored[HEADER_LEN..end + 1], &mut Vec::new()), Err(Error::TrailingData));
    let opener = ChunkOpener::new(&key(), cs, CTX, &stored[..HEADER_LEN], msg.len() as u64).unwrap();
    let mut r = opener.open_range(0..10).unwrap();
    r.update(&stored[HEADER_LEN..HEADER_LEN + 100], &mut Vec::new()).unwrap();
    assert_eq!(r.finish(), Err(Error::Truncated));
}

#[test]
fn a_failed_opener_stays_failed() {
    let cs = ChunkSize::C2SP;
    let msg = pattern(3 * c2());
    let mut stored = sealed(cs, &msg);
    stored[HEADER_LEN + 10] ^= 1;
    let mut opener = Opener::new(&key(), cs, CTX);
    let mut out = Vec::new();
    assert_eq!(opener.update(&stored, &mut out), Err(Error::Authentication));
    // Even a perfectly valid continuation is refused.
    let good = sealed(cs, &msg);
    assert_eq!(opener.update(&good[HEADER_LEN + cs.sealed_len()..], &mut out), Err(Error::Authentication));
    assert_eq!(opener.finish(&mut out), Err(Error::Authentication));
    assert!(out.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The whole-buffer `open` and the streaming `Opener` (two code paths since `open` writes
    /// into an exact-size buffer itself) accept exactly the same stored bytes: the intact stream,
    /// with the same plaintext, and no stream that was cut, extended, had a range removed or a bit
    /// flipped anywhere.
    #[test]
    fn whole_buffer_open_and_the_opener_reject_the_same_mutations(
        len in 0usize..70_000,
        kind in 0u8..4,
        at in any::<usize>(),
        n in 1usize..40_000,
        bit in 0u8..8,
        big in any::<bool>(),
    ) {
        let cs = if big { ChunkSize::KIB_64 } else { ChunkSize::C2SP };
        let msg = pattern(len);
        let stored = sealed(cs, &msg);
        prop_assert_eq!(open(&key(), cs, CTX, &stored), Ok(msg.clone()));
        prop_assert_eq!(stream_open(cs, &stored, &[]), (msg, Ok(())));
        let at = at % stored.len();
        let mut bad = stored.clone();
        match kind {
            0 => bad.truncate(at),
            1 => bad.extend(core::iter::repeat_n(0u8, n)),
            2 => drop(bad.drain(at..(at + n).min(stored.len()))),
            _ => bad[at] ^= 1 << bit,
        }
        prop_assert!(open(&key(), cs, CTX, &bad).is_err(), "open accepted mutation {}", kind);
        let (_, streamed) = stream_open(cs, &bad, &[at, at + 1]);
        prop_assert!(streamed.is_err(), "Opener accepted mutation {}", kind);
    }
}
