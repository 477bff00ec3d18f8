//! Every backend writes the same bytes: seal with one, open with any other, at boundary sizes.
//! (Build with `--features aws-lc` to have two; CI runs both feature sets.)
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::{TestRng, pattern};
use s3crypt::{Backend, ChunkOpener, ChunkSealer, ChunkSize, DataKey, HEADER_LEN, Opener, StreamParams};

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
                    assert_eq!(s3crypt::open(&key(), p, b"ctx", &bad), Err(s3crypt::Error::Authentication));
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
