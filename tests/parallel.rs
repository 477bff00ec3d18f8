//! Parallel sealing and opening (feature `parallel`): byte-identical to the sequential path, and
//! as strict about tampering.
#![cfg(feature = "parallel")]
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::{TestRng, pattern};
use s3crypt::{
    Backend, ChunkSize, DataKey, Error, HEADER_LEN, Keyring, ObjectId, ObjectSealer, RootKey, SealOptions,
    StreamParams, open, open_parallel, seal, seal_parallel,
};

fn key() -> DataKey {
    DataKey::from_bytes([9; 32])
}

#[test]
fn parallel_output_is_byte_identical_at_boundary_sizes() {
    for &backend in Backend::ALL {
        for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
            let c = cs.bytes();
            let p = StreamParams::new(cs).with_backend(backend);
            for len in [0, 1, c - 1, c, c + 1, 5 * c, 64 * c + 3, 100 * c] {
                let msg = pattern(len);
                let sequential = seal(&key(), p, b"ctx", &msg, &mut TestRng(4)).unwrap();
                let parallel = seal_parallel(&key(), p, b"ctx", &msg, &mut TestRng(4)).unwrap();
                assert!(sequential == parallel, "{backend:?} {len}");
                assert_eq!(open_parallel(&key(), p, b"ctx", &parallel).unwrap(), msg);
                assert_eq!(open(&key(), p, b"ctx", &parallel).unwrap(), msg);
            }
        }
    }
}

#[test]
fn parallel_open_rejects_what_sequential_open_rejects() {
    let cs = ChunkSize::C2SP;
    let s = cs.sealed_len();
    let msg = pattern(40 * cs.bytes() + 100);
    let stored = seal(&key(), cs, b"ctx", &msg, &mut TestRng(5)).unwrap();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for at in [0, HEADER_LEN + 3, HEADER_LEN + 17 * s + 9, stored.len() - 1] {
        let mut bad = stored.clone();
        bad[at] ^= 0x40;
        cases.push(bad);
    }
    cases.push(stored[..HEADER_LEN + 40 * s].to_vec()); // final chunk dropped
    cases.push([&stored[..], &[0u8; 16]].concat()); // appended
    let mut swapped = stored.clone();
    swapped[HEADER_LEN..HEADER_LEN + 2 * s].rotate_left(s);
    cases.push(swapped);
    for bad in cases {
        let seq = open(&key(), cs, b"ctx", &bad);
        let par = open_parallel(&key(), cs, b"ctx", &bad);
        assert!(seq.is_err());
        assert_eq!(par, seq, "the same error either way");
    }
    assert_eq!(open_parallel(&key(), cs, b"other", &stored), Err(Error::Authentication));
}

#[test]
fn objects_seal_and_open_in_parallel() {
    let ring = Keyring::new("root", 1, RootKey::from_bytes([3; 32])).unwrap();
    let object = ObjectId::new("bucket", "part-0001");
    let msg = pattern(3 << 20);
    let options = SealOptions { md5: true, ..SealOptions::default() };
    let (envelope, body) =
        ObjectSealer::seal_parallel(options, &msg, &ring, &object, &mut TestRng(6)).unwrap();
    let key = envelope.open(&ring, &object).unwrap();
    assert_eq!(key.open_parallel(&body).unwrap(), msg);
    use md5::Digest;
    assert_eq!(key.plaintext_md5(), Some(md5::Md5::digest(&msg).into()));
    // The streaming opener reads the parallel body, and vice versa.
    let mut opener = key.opener();
    let mut out = Vec::new();
    opener.update(&body, &mut out).unwrap();
    opener.finish(&mut out).unwrap();
    assert_eq!(out, msg);
}

#[test]
fn in_place_parallel_matches_the_sequential_chunk_api() {
    use s3crypt::{ChunkOpener, ChunkSealer};
    for &backend in Backend::ALL {
        let cs = ChunkSize::C2SP;
        let c = cs.bytes();
        let p = StreamParams::new(cs).with_backend(backend);
        for len in [0, 1, c, 3 * c + 5, 50 * c] {
            let msg = pattern(len);
            let reference = seal(&key(), p, b"ctx", &msg, &mut TestRng(8)).unwrap();
            // Seal two chunks sequentially (when there are), the rest in parallel.
            let (mut sealer, header) = ChunkSealer::new(&key(), p, b"ctx", &mut TestRng(8)).unwrap();
            let mut buf = msg.clone();
            let head_chunks = (len / c).min(2);
            let (head, rest) = buf.split_at_mut(head_chunks * c);
            let mut tags: Vec<[u8; 16]> =
                head.chunks_exact_mut(c).map(|ch| sealer.seal_chunk(ch).unwrap()).collect();
            tags.extend(sealer.seal_rest_parallel(rest).unwrap());
            let mut stored = header.to_vec();
            for (i, tag) in tags.iter().enumerate() {
                stored.extend_from_slice(&buf[i * c..((i + 1) * c).min(len)]);
                stored.extend_from_slice(tag);
            }
            assert!(stored == reference, "{backend:?} {len}");

            // Open the body in place, in parallel; the plaintext sits at the start of each slot.
            let opener = ChunkOpener::new(&key(), p, b"ctx", &stored[..HEADER_LEN], len as u64).unwrap();
            let mut body = stored[HEADER_LEN..].to_vec();
            opener.open_in_place_parallel(&mut body).unwrap();
            let plain: Vec<u8> = cs
                .plaintext_ranges(len as u64)
                .unwrap()
                .flat_map(|r| body[r.start as usize..r.end as usize].to_vec())
                .collect();
            assert_eq!(plain, msg);
            // Tampered: refused, and the buffer is wiped.
            let mut body = stored[HEADER_LEN..].to_vec();
            let at = body.len() / 2;
            body[at] ^= 1;
            assert_eq!(opener.open_in_place_parallel(&mut body), Err(Error::Authentication));
            assert!(body.iter().all(|&b| b == 0));
            assert_eq!(opener.open_in_place_parallel(&mut body[1..]), Err(Error::Truncated));
        }
    }
}
