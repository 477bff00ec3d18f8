//! Every backend writes the same bytes: seal with one, open with any other, at boundary sizes.
//! (Build with `--features aws-lc` to have two; CI runs both feature sets.)
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use bytes::BytesMut;
use common::{TestRng, open_object, pattern, seal_object};
use s3crypt::{
    Backend, ChunkOpener, ChunkSealer, ChunkSize, DataKey, Error, HEADER_LEN, Keyring, ObjectId, Opener,
    OutputBuffer, ReusableBuffer, RootKey, SealOptions, Sealer, StreamParams, TAG_LEN,
};

fn key() -> DataKey {
    DataKey::from_bytes([0x5c; 32])
}

#[test]
fn cross_backend_round_trips_are_byte_identical() {
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
        let c = cs.bytes();
        for len in [0, 1, c - 1, c, c + 1, 3 * c, 3 * c + 17] {
            let msg = pattern(len);
            let sealed: Vec<Vec<u8>> = Backend::ALL
                .iter()
                .map(|&b| {
                    s3crypt::seal(
                        &key(),
                        StreamParams::new(cs).with_backend(b),
                        b"ctx",
                        &msg,
                        &mut TestRng(3),
                    )
                    .unwrap()
                })
                .collect();
            assert!(sealed.windows(2).all(|w| w[0] == w[1]), "len {len}: backends disagree");
            for &sealer in Backend::ALL {
                for &opener in Backend::ALL {
                    let stored = &sealed[Backend::ALL.iter().position(|&b| b == sealer).unwrap()];
                    let p = StreamParams::new(cs).with_backend(opener);
                    // Streaming, in uneven pieces.
                    let mut o = Opener::new(&key(), p, b"ctx");
                    let mut out = Vec::new();
                    for piece in stored.chunks(9973) {
                        o.update(piece, &mut out).unwrap();
                    }
                    o.finish(&mut out).unwrap();
                    assert_eq!(out, msg, "{sealer:?} -> {opener:?}, len {len}");
                    // Random access, in place, every chunk.
                    let co = ChunkOpener::new(&key(), p, b"ctx", &stored[..HEADER_LEN], len as u64).unwrap();
                    let mut body = stored[HEADER_LEN..].to_vec();
                    let plain: Vec<u8> = body
                        .chunks_mut(cs.sealed_len())
                        .enumerate()
                        .flat_map(|(i, ch)| co.open_chunk_in_place(i as u64, ch).unwrap().to_vec())
                        .collect();
                    assert_eq!(plain, msg);
                    // A tampered stream fails the same way everywhere.
                    let mut bad = stored.clone();
                    let at = bad.len() - 1;
                    bad[at] ^= 1;
                    assert_eq!(s3crypt::open(&key(), p, b"ctx", &bad), Err(Error::Authentication));
                }
            }
            // The in-place sealer agrees too.
            for &b in Backend::ALL {
                let (mut s, header) =
                    ChunkSealer::new(&key(), StreamParams::new(cs).with_backend(b), b"ctx", &mut TestRng(3))
                        .unwrap();
                let mut buf = msg.clone();
                let mut stored = header.to_vec();
                let mut chunks = buf.chunks_exact_mut(c);
                for ch in &mut chunks {
                    let tag = s.seal_chunk(ch).unwrap();
                    stored.extend_from_slice(ch);
                    stored.extend_from_slice(&tag);
                }
                let last = chunks.into_remainder();
                let tag = s.seal_final(last).unwrap();
                stored.extend_from_slice(last);
                stored.extend_from_slice(&tag);
                assert_eq!(stored, sealed[0], "{b:?} in place, len {len}");
            }
        }
    }
}

#[test]
fn default_backend_is_the_fastest_built() {
    #[cfg(feature = "aws-lc")]
    assert_eq!(Backend::default(), Backend::AwsLc);
    #[cfg(not(feature = "aws-lc"))]
    assert_eq!(Backend::default(), Backend::RustCrypto);
    assert_eq!(Backend::ALL.len(), if cfg!(feature = "aws-lc") { 2 } else { 1 });
}

/// The stream the in-place `ChunkSealer` writes: the reference the one-pass paths must match.
fn in_place_reference(p: StreamParams, msg: &[u8], seed: u64) -> Vec<u8> {
    let (mut s, header) = ChunkSealer::new(&key(), p, b"ctx", &mut TestRng(seed)).unwrap();
    let mut buf = msg.to_vec();
    let mut stored = header.to_vec();
    let mut chunks = buf.chunks_exact_mut(p.chunk_size.bytes());
    for ch in &mut chunks {
        let tag = s.seal_chunk(ch).unwrap();
        stored.extend_from_slice(ch);
        stored.extend_from_slice(&tag);
    }
    let last = chunks.into_remainder();
    let tag = s.seal_final(last).unwrap();
    stored.extend_from_slice(last);
    stored.extend_from_slice(&tag);
    stored
}

/// Feeds `msg` to a `Sealer` in pieces of `piece` bytes (0: all at once) into `out`.
fn seal_pieces<B: OutputBuffer>(p: StreamParams, msg: &[u8], piece: usize, seed: u64, out: &mut B) {
    let mut s = Sealer::new(&key(), p, b"ctx", &mut TestRng(seed)).unwrap();
    if piece == 0 {
        s.update(msg, out).unwrap();
    } else {
        for part in msg.chunks(piece) {
            s.update(part, out).unwrap();
        }
    }
    s.finish(out).unwrap();
}

/// The one-pass `Sealer` (input → output slot, no staging copy) writes exactly the bytes of the
/// in-place `ChunkSealer`, into every kind of output buffer, for every backend, whether the input
/// arrives whole, in pieces that straddle chunks, or a byte at a time at the edges; and a
/// `ReusableBuffer` holding stale bytes of a longer stream is overwritten exactly.
#[test]
fn one_pass_sealer_matches_the_in_place_sealer_in_every_buffer() {
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
        let c = cs.bytes();
        let mut reused = ReusableBuffer::new();
        seal_pieces(StreamParams::new(cs), &pattern(5 * c), 0, 9, &mut reused); // stale contents
        for len in [0, 1, c - 1, c, c + 1, 3 * c, 3 * c + 17] {
            let msg = pattern(len);
            for &b in Backend::ALL {
                let p = StreamParams::new(cs).with_backend(b);
                let reference = in_place_reference(p, &msg, 4);
                for piece in [0, 1, 9973, c, c + 1] {
                    if piece == 1 && len > c + 1 {
                        continue; // byte-at-a-time only where it stays cheap
                    }
                    let mut v = Vec::new();
                    seal_pieces(p, &msg, piece, 4, &mut v);
                    assert_eq!(v, reference, "{b:?} Vec, len {len}, piece {piece}");
                    let mut m = BytesMut::new();
                    seal_pieces(p, &msg, piece, 4, &mut m);
                    assert_eq!(&m[..], &reference[..], "{b:?} BytesMut, len {len}, piece {piece}");
                    reused.clear();
                    seal_pieces(p, &msg, piece, 4, &mut reused);
                    assert_eq!(&reused[..], &reference[..], "{b:?} ReusableBuffer, len {len}, piece {piece}");
                }
            }
        }
    }
}

/// Opening into a reused buffer full of stale bytes yields exactly the plaintext; a chunk that
/// fails leaves only the authenticated prefix, for every backend.
#[test]
fn opener_into_a_reused_buffer_yields_exactly_the_plaintext() {
    let cs = ChunkSize::C2SP;
    let c = cs.bytes();
    let mut plain = ReusableBuffer::with_capacity(16);
    plain.extend_from_slice(&[0xee; 10 * 16384]);
    for &b in Backend::ALL {
        let p = StreamParams::new(cs).with_backend(b);
        for len in [0, 1, c, 2 * c + 5] {
            let msg = pattern(len);
            let stored = s3crypt::seal(&key(), p, b"ctx", &msg, &mut TestRng(5)).unwrap();
            plain.clear();
            let mut o = Opener::new(&key(), p, b"ctx");
            for piece in stored.chunks(7001) {
                o.update(piece, &mut plain).unwrap();
            }
            o.finish(&mut plain).unwrap();
            assert_eq!(&plain[..], &msg[..], "{b:?} len {len}");
        }
        // Chunk 1 of 3 is corrupt: chunk 0's plaintext stays, nothing of chunk 1 does.
        let msg = pattern(2 * c + 5);
        let mut stored = s3crypt::seal(&key(), p, b"ctx", &msg, &mut TestRng(5)).unwrap();
        stored[HEADER_LEN + cs.sealed_len() + 3] ^= 1;
        plain.clear();
        let mut o = Opener::new(&key(), p, b"ctx");
        assert_eq!(o.update(&stored, &mut plain), Err(Error::Authentication));
        assert_eq!(&plain[..], &msg[..c], "{b:?}: only the authenticated chunk");
    }
}

/// `ObjectKey` opens with whichever backend it is given, and reads what any backend sealed.
#[test]
fn object_keys_open_with_every_backend() {
    let ring = Keyring::new("k", 1, RootKey::from_bytes([3; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let msg = pattern(40_000);
    for &sealing in Backend::ALL {
        let options = SealOptions { backend: sealing, ..SealOptions::default() };
        let (envelope, body) = seal_object(&ring, &object, &msg, options, 11);
        assert_eq!(open_object(&ring, &object, &envelope, &body).unwrap(), msg);
        for &opening in Backend::ALL {
            let key = envelope.open(&ring, &object).unwrap().with_backend(opening);
            assert_eq!(key.backend(), opening);
            let mut plain = Vec::new();
            let mut o = key.opener();
            o.update(&body, &mut plain).unwrap();
            o.finish(&mut plain).unwrap();
            assert_eq!(plain, msg, "{sealing:?} -> {opening:?}");
            let co = key.chunk_opener(&body[..HEADER_LEN]).unwrap();
            let mut first = body[HEADER_LEN..HEADER_LEN + ChunkSize::C2SP.sealed_len()].to_vec();
            assert_eq!(co.open_chunk_in_place(0, &mut first).unwrap(), &msg[..ChunkSize::C2SP.bytes()]);
        }
    }
}

/// The plaintext MD5 is the same whether it is computed beside the sealing (large pieces, on
/// another core with `parallel`) or in line (small pieces), and equals the MD5 of the plaintext.
#[test]
fn md5_beside_sealing_equals_md5_in_line() {
    use md5::Digest;
    let ring = Keyring::new("k", 1, RootKey::from_bytes([3; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let msg = pattern(3 << 20);
    let expected: [u8; 16] = md5::Md5::digest(&msg).into();
    let options = SealOptions { md5: true, ..SealOptions::default() };
    for piece in [7919, 1 << 20, msg.len()] {
        let mut rng = TestRng(8);
        let mut sealer = s3crypt::ObjectSealer::new(options, &mut rng).unwrap();
        let mut body = ReusableBuffer::new();
        for part in msg.chunks(piece) {
            sealer.update(part, &mut body).unwrap();
        }
        let envelope = sealer.finish(&mut body, &ring, &object, &mut rng).unwrap();
        assert_eq!(open_object(&ring, &object, &envelope, &body).unwrap(), msg);
        let key = envelope.open(&ring, &object).unwrap();
        assert_eq!(key.plaintext_md5(), Some(expected), "pieces of {piece}");
    }
}

/// The whole-buffer `seal` writes exactly the bytes of the in-place `ChunkSealer` and `open` returns
/// exactly the plaintext, for every backend and at every boundary length (an empty final chunk
/// included); a stream sealed by one backend opens with the other; and a flipped bit in the final
/// tag, a dropped final chunk or a stray byte fails without releasing anything.
#[test]
fn whole_buffer_seal_and_open_match_the_chunk_apis() {
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
        let c = cs.bytes();
        for len in [0, 1, c - 1, c, c + 1, 2 * c, 3 * c + 17] {
            let msg = pattern(len);
            for &b in Backend::ALL {
                let p = StreamParams::new(cs).with_backend(b);
                let stored = s3crypt::seal(&key(), p, b"ctx", &msg, &mut TestRng(4)).unwrap();
                assert_eq!(stored, in_place_reference(p, &msg, 4), "{b:?} seal, len {len}");
                assert_eq!(stored.capacity(), stored.len(), "sealed output reserved exactly");
                for &other in Backend::ALL {
                    let q = StreamParams::new(cs).with_backend(other);
                    let opened = s3crypt::open(&key(), q, b"ctx", &stored).unwrap();
                    assert_eq!(opened, msg, "{b:?} → {other:?} open, len {len}");
                    assert_eq!(opened.capacity(), opened.len(), "opened output reserved exactly");
                }
                let mut bad = stored.clone();
                *bad.last_mut().unwrap() ^= 1;
                assert!(matches!(s3crypt::open(&key(), p, b"ctx", &bad), Err(Error::Authentication)));
                let mut longer = stored.clone();
                longer.push(0);
                assert!(s3crypt::open(&key(), p, b"ctx", &longer).is_err(), "stray byte, len {len}");
                if len >= c {
                    // Drop the final chunk: the last full chunk would have to be the final one.
                    let cut = &stored[..stored.len() - (len % c + TAG_LEN)];
                    assert!(s3crypt::open(&key(), p, b"ctx", cut).is_err(), "dropped final, len {len}");
                }
            }
        }
    }
}
