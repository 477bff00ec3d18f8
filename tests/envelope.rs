//! Envelopes and the two local modes: round trips through both encodings at boundary sizes,
//! re-sealing (copy, rename, rotation, conversion) without touching the body, and a hostile case
//! for every defence.
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

use common::{TestRng, pattern};
use s3crypt::{
    ChunkSize, CustomerKey, Encryptor, Envelope, Error, FormatError, HEADER_LEN, Keyring, ObjectId, RootKey,
    Scheme, SealOptions,
};

fn keyring() -> Keyring {
    Keyring::new("root-a", 1, RootKey::from_bytes([0xa1; 32])).unwrap()
}

fn customer() -> CustomerKey {
    CustomerKey::from_bytes([0xc1; 32])
}

use common::seal_object as put;

/// Opens `body` through `envelope`; checks the whole body and a ranged read.
fn get(
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    envelope: &Envelope,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    let plain = common::open_object(enc, object, envelope, body)?;
    let key = envelope.open(enc, object)?;
    assert_eq!(plain.len() as u64, envelope.unverified_plaintext_len());
    assert_eq!(plain.len() as u64, key.plaintext_len());
    assert_eq!(body.len() as u64, key.body_len()?);
    assert_eq!(body.len() as u64, envelope.body_len()?);
    if !plain.is_empty() {
        let len = plain.len() as u64;
        let range = len / 3..len;
        let mut reader = key.chunk_opener(&body[..HEADER_LEN])?.open_range(range.clone())?;
        let fetch = reader.plan().ciphertext.clone();
        let mut part = Vec::new();
        reader.update(&body[fetch.start as usize..fetch.end as usize], &mut part)?;
        reader.finish()?;
        assert_eq!(part, plain[range.start as usize..]);
    }
    Ok(plain)
}

fn lengths(cs: ChunkSize) -> [usize; 7] {
    let c = cs.bytes();
    [0, 1, c - 1, c, c + 1, 3 * c, 5 * c + 77]
}

#[test]
fn both_modes_round_trip_through_both_encodings_at_boundary_sizes() {
    let object = ObjectId::new("bucket", "dir/key.bin");
    let (ring, ck) = (keyring(), customer());
    for enc in [&ring as &dyn Encryptor, &ck] {
        for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
            for len in lengths(cs) {
                let msg = pattern(len);
                let (envelope, body) = put(
                    enc,
                    &object,
                    &msg,
                    SealOptions { chunk_size: cs, ..SealOptions::default() },
                    len as u64,
                );
                assert_eq!(envelope.scheme(), enc.scheme());
                assert_eq!(envelope.chunk_size(), cs);

                let map = envelope.to_metadata();
                let from_map = Envelope::from_metadata(map.clone()).unwrap();
                assert_eq!(from_map, envelope);
                assert_eq!(from_map.to_metadata(), map, "map -> value -> map is exact");

                let bin = envelope.to_binary();
                let from_bin = Envelope::from_binary(&bin).unwrap();
                assert_eq!(from_bin, envelope);
                assert_eq!(from_bin.to_binary(), bin, "binary -> value -> binary is exact");

                assert_eq!(get(enc, &object, &from_map, &body).unwrap(), msg);
                assert_eq!(get(enc, &object, &from_bin, &body).unwrap(), msg);
            }
        }
    }
}

#[test]
fn metadata_is_header_safe_and_within_budget() {
    let object = ObjectId::new("b", "k");
    for enc in [&keyring() as &dyn Encryptor, &customer()] {
        let (envelope, _) = put(enc, &object, b"x", SealOptions { md5: true, ..SealOptions::default() }, 1);
        let map = envelope.to_metadata();
        for (name, value) in &map {
            assert!(name.starts_with(s3crypt::METADATA_PREFIX));
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "{name}"
            );
            assert!(value.bytes().all(|b| b.is_ascii_graphic()), "{name}: {value}");
        }
        assert!(envelope.metadata_len() < 2048);
        // Wire form (x-amz-meta-…, any case) decodes the same, other metadata is ignored.
        let wire: Vec<(String, String)> = map
            .iter()
            .map(|(k, v)| (format!("X-Amz-Meta-{}", k.to_uppercase()), v.clone()))
            .chain([
                ("x-amz-meta-owner".into(), "alice".into()),
                ("content-type".into(), "text/plain".into()),
            ])
            .collect();
        assert_eq!(Envelope::from_metadata(wire).unwrap(), envelope);
    }
}

#[test]
fn plaintext_md5_is_sealed_not_stored() {
    let object = ObjectId::new("b", "k");
    let msg = pattern(100_000);
    let (envelope, body) =
        put(&keyring(), &object, &msg, SealOptions { md5: true, ..SealOptions::default() }, 3);
    let md5: [u8; 16] = md5::Md5::digest(&msg).into();
    let key = envelope.open(&keyring(), &object).unwrap();
    assert_eq!(key.plaintext_md5(), Some(md5));
    // Neither encoding carries it in the clear.
    let hay = format!("{:?}", envelope.to_metadata());
    let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(&md5);
    assert!(!hay.contains(&b64));
    assert!(!envelope.to_binary().windows(16).any(|w| w == md5));
    // Without the option there is none.
    let (plain, _) = put(&keyring(), &object, &msg, SealOptions::default(), 3);
    assert_eq!(plain.open(&keyring(), &object).unwrap().plaintext_md5(), None);
    let _ = body;
}
use md5::Digest;

#[test]
fn sse_s3_root_key_rotation() {
    let object = ObjectId::new("b", "k");
    let mut ring = keyring();
    let msg = pattern(40_000);
    let (old, body) = put(&ring, &object, &msg, SealOptions::default(), 5);
    assert_eq!((old.key_id(), old.key_version()), ("root-a", 1));

    ring.add("root-b", 7, RootKey::from_bytes([0xb7; 32])).unwrap();
    assert_eq!(
        ring.add("root-b", 7, RootKey::from_bytes([0; 32])),
        Err(Error::DuplicateKey { key_id: "root-b".into(), version: 7 })
    );
    ring.activate("root-b", 7).unwrap();
    assert!(ring.needs_rotation(&old));
    // Old objects still open; new ones go under the active key.
    assert_eq!(get(&ring, &object, &old, &body).unwrap(), msg);
    let rotated = ring.rotate(&old, &object, &mut TestRng(6)).unwrap();
    assert_eq!((rotated.key_id(), rotated.key_version()), ("root-b", 7));
    assert!(!ring.needs_rotation(&rotated));
    assert_eq!(get(&ring, &object, &rotated, &body).unwrap(), msg, "same body, new envelope");

    // A keyring without the old key opens the rotated envelope but not the old one.
    let only_b = Keyring::new("root-b", 7, RootKey::from_bytes([0xb7; 32])).unwrap();
    assert_eq!(get(&only_b, &object, &rotated, &body).unwrap(), msg);
    assert_eq!(
        get(&only_b, &object, &old, &body),
        Err(Error::UnknownKey { key_id: "root-a".into(), version: 1 })
    );
    assert_eq!(ring.activate("nope", 1), Err(Error::UnknownKey { key_id: "nope".into(), version: 1 }));
}

#[test]
fn sse_c_key_rotation_and_wrong_key() {
    let object = ObjectId::new("b", "k");
    let (old_key, new_key) = (customer(), CustomerKey::from_bytes([0xc2; 32]));
    let msg = pattern(20_000);
    let (envelope, body) = put(&old_key, &object, &msg, SealOptions::default(), 8);
    assert_eq!(envelope.key_id(), "");
    assert_eq!(get(&new_key, &object, &envelope, &body), Err(Error::WrongKey));
    let rotated = envelope.reseal((&old_key, &object), (&new_key, &object), &mut TestRng(9)).unwrap();
    assert_eq!(get(&new_key, &object, &rotated, &body).unwrap(), msg);
    assert_eq!(get(&old_key, &object, &rotated, &body), Err(Error::WrongKey));
    assert_eq!(
        envelope.reseal((&new_key, &object), (&new_key, &object), &mut TestRng(9)),
        Err(Error::WrongKey),
        "rotation needs the current key"
    );
}

#[test]
fn copy_rename_and_conversion_rewrite_only_the_envelope() {
    let (src, dst) = (ObjectId::new("src-bucket", "a.txt"), ObjectId::new("dst-bucket", "b.txt"));
    let (ring, ck) = (keyring(), customer());
    let msg = pattern(70_000);
    let (envelope, body) = put(&ring, &src, &msg, SealOptions::default(), 10);
    let mut rng = TestRng(11);
    // Rename within SSE-S3.
    let moved = envelope.reseal((&ring, &src), (&ring, &dst), &mut rng).unwrap();
    assert_eq!(get(&ring, &dst, &moved, &body).unwrap(), msg);
    assert_eq!(get(&ring, &src, &moved, &body), Err(Error::Authentication));
    // SSE-S3 -> SSE-C -> SSE-S3, body untouched throughout.
    let to_c = envelope.reseal((&ring, &src), (&ck, &dst), &mut rng).unwrap();
    assert_eq!(to_c.scheme(), Scheme::SseC);
    assert_eq!(get(&ck, &dst, &to_c, &body).unwrap(), msg);
    let back = to_c.reseal((&ck, &dst), (&ring, &src), &mut rng).unwrap();
    assert_eq!(get(&ring, &src, &back, &body).unwrap(), msg);
    assert_ne!(back.to_binary(), envelope.to_binary(), "a fresh salt every time");
}

// ---- hostile cases ----

#[test]
fn an_envelope_moved_to_another_name_does_not_open() {
    let ring = keyring();
    let object = ObjectId::new("bucket", "key");
    let (envelope, body) = put(&ring, &object, b"secret", SealOptions::default(), 12);
    for other in [
        ObjectId::new("bucket", "key2"),
        ObjectId::new("bucket2", "key"),
        ObjectId::new("bucke", "tkey"),
        ObjectId::new("bucket/", "key"),
        ObjectId::new("", "bucketkey"),
        ObjectId::new("bucket", "key\0"),
    ] {
        assert_eq!(get(&ring, &other, &envelope, &body), Err(Error::Authentication), "{other:?}");
    }
    // Length-prefixed, not joined: "a/b"+"c" is not "a"+"b/c".
    let (e, b) = put(&ring, &ObjectId::new("a/b", "c"), b"x", SealOptions::default(), 13);
    assert_eq!(get(&ring, &ObjectId::new("a", "b/c"), &e, &b), Err(Error::Authentication));
    assert_eq!(get(&ring, &ObjectId::new("a/b", "c"), &e, &b).unwrap(), b"x");
}

#[test]
fn envelopes_and_bodies_swapped_between_objects_do_not_open() {
    let ring = keyring();
    let (a, b) = (ObjectId::new("bucket", "a"), ObjectId::new("bucket", "b"));
    let (ea, ba) = put(&ring, &a, &pattern(30_000), SealOptions::default(), 14);
    let (eb, bb) = put(&ring, &b, &pattern(30_000), SealOptions::default(), 15);
    assert_eq!(get(&ring, &a, &eb, &ba), Err(Error::Authentication), "b's envelope on a");
    assert_eq!(get(&ring, &a, &ea, &bb), Err(Error::Authentication), "b's body under a's envelope");
    let key = ea.open(&ring, &a).unwrap();
    assert_eq!(key.chunk_opener(&bb[..HEADER_LEN]).map(|_| ()), Err(Error::Authentication));
}

#[test]
fn every_bit_of_the_binary_envelope_is_protected() {
    let ring = keyring();
    let object = ObjectId::new("bucket", "key");
    let (envelope, body) =
        put(&ring, &object, &pattern(1000), SealOptions { md5: true, ..SealOptions::default() }, 16);
    let bin = envelope.to_binary();
    for bit in 0..bin.len() * 8 {
        let mut bad = bin.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let result = Envelope::from_binary(&bad).and_then(|e| get(&ring, &object, &e, &body));
        match result {
            Err(
                Error::Format(_)
                | Error::Authentication
                | Error::WrongKey
                | Error::UnknownKey { .. }
                | Error::SchemeMismatch { .. }
                | Error::Truncated,
            ) => {}
            other => panic!("bit {bit}: {other:?}"),
        }
    }
}

#[test]
fn every_metadata_value_is_protected() {
    let (ring, ck) = (keyring(), customer());
    let object = ObjectId::new("bucket", "key");
    for enc in [&ring as &dyn Encryptor, &ck] {
        let (envelope, body) = put(enc, &object, &pattern(5000), SealOptions::default(), 17);
        let map = envelope.to_metadata();
        for i in 0..map.len() {
            for pos in 0..map[i].1.len() {
                let mut bad = map.clone();
                let mut v = bad[i].1.clone().into_bytes();
                v[pos] = if v[pos] == b'A' { b'B' } else { b'A' };
                bad[i].1 = String::from_utf8(v).unwrap();
                let r = Envelope::from_metadata(bad).and_then(|e| get(enc, &object, &e, &body));
                assert!(r.is_err(), "{} position {pos}", map[i].0);
            }
        }
    }
}

#[test]
fn downgrades_are_refused() {
    let ring = keyring();
    let object = ObjectId::new("b", "k");
    let (envelope, body) = put(&ring, &object, b"data", SealOptions::default(), 18);
    // Version.
    let mut bin = envelope.to_binary();
    bin[4] = 0;
    assert_eq!(Envelope::from_binary(&bin), Err(Error::Format(FormatError::UnsupportedVersion("0".into()))));
    let map: Vec<_> = envelope
        .to_metadata()
        .into_iter()
        .map(
            |(k, v)| {
                if k.ends_with("version") && !k.contains("key") { (k, "0".to_string()) } else { (k, v) }
            },
        )
        .collect();
    assert_eq!(Envelope::from_metadata(map), Err(Error::Format(FormatError::UnsupportedVersion("0".into()))));
    // Suite: only one exists, any other code is refused.
    let mut bin = envelope.to_binary();
    let at = bin.windows(4).position(|w| w == [2, 0, 1, 1]).unwrap(); // tag 2, len 1, suite 1
    bin[at + 3] = 0;
    assert!(matches!(Envelope::from_binary(&bin), Err(Error::Format(FormatError::InvalidValue(_)))));
    // Chunk size: a valid other size decodes, but the wrap authenticates the original.
    let mut bin = envelope.to_binary();
    let at = bin.windows(4).position(|w| w == [3, 0, 1, 14]).unwrap();
    bin[at + 3] = 16;
    let e = Envelope::from_binary(&bin).unwrap();
    assert_eq!(get(&ring, &object, &e, &body), Err(Error::Authentication));
    // Scheme: SSE-S3 relabelled SSE-C is malformed (an SSE-C envelope names no key and records
    // version 0); with the version zeroed too, it needs a customer key and none opens it.
    let relabel = |version: &str| -> Vec<(String, String)> {
        envelope
            .to_metadata()
            .into_iter()
            .filter(|(k, _)| !k.ends_with("key-id"))
            .map(|(k, v)| match k.as_str() {
                "s3crypt-scheme" => (k, "sse-c".to_string()),
                "s3crypt-key-version" => (k, version.to_string()),
                _ => (k, v),
            })
            .collect()
    };
    assert_eq!(
        Envelope::from_metadata(relabel("1")),
        Err(Error::Format(FormatError::InvalidValue(s3crypt::Field::KeyVersion)))
    );
    let e = Envelope::from_metadata(relabel("0")).unwrap();
    assert!(matches!(get(&ring, &object, &e, &body), Err(Error::SchemeMismatch { .. })));
    assert_eq!(get(&customer(), &object, &e, &body), Err(Error::WrongKey));
}

#[test]
fn wrong_and_unknown_keys() {
    let object = ObjectId::new("b", "k");
    let (envelope, body) = put(&keyring(), &object, b"data", SealOptions::default(), 19);
    let same_name_other_key = Keyring::new("root-a", 1, RootKey::from_bytes([0xee; 32])).unwrap();
    assert_eq!(get(&same_name_other_key, &object, &envelope, &body), Err(Error::WrongKey));
    let other_version = Keyring::new("root-a", 2, RootKey::from_bytes([0xa1; 32])).unwrap();
    assert_eq!(
        get(&other_version, &object, &envelope, &body),
        Err(Error::UnknownKey { key_id: "root-a".into(), version: 1 })
    );
    assert!(matches!(
        get(&customer(), &object, &envelope, &body),
        Err(Error::SchemeMismatch { envelope: Scheme::SseS3, presented: Scheme::SseC })
    ));
    let (c_env, c_body) = put(&customer(), &object, b"data", SealOptions::default(), 20);
    assert!(matches!(
        get(&keyring(), &object, &c_env, &c_body),
        Err(Error::SchemeMismatch { envelope: Scheme::SseC, presented: Scheme::SseS3 })
    ));
}

#[test]
fn invalid_key_ids_are_refused_at_the_keyring() {
    for bad in ["", "with space", "tab\t", "é", &"x".repeat(256)] {
        assert_eq!(
            Keyring::new(bad, 1, RootKey::from_bytes([1; 32])).map(|_| ()),
            Err(Error::InvalidKeyId),
            "{bad:?}"
        );
    }
    assert!(Keyring::new(&"x".repeat(255), 1, RootKey::from_bytes([1; 32])).is_ok());
}

#[test]
fn secrets_never_print() {
    let ring = keyring();
    let shown = format!("{ring:?} {:?} {:?}", customer(), RootKey::from_bytes([0xa1; 32]));
    assert!(!shown.contains("a1a1") && !shown.contains("161, 161") && !shown.contains("c1c1"));
    let (envelope, _) = put(&ring, &ObjectId::new("b", "k"), b"x", SealOptions::default(), 21);
    let key = envelope.open(&ring, &ObjectId::new("b", "k")).unwrap();
    let shown = format!("{envelope:?} {key:?}");
    assert!(shown.contains("root-a") && !shown.contains("wrapped") && !shown.contains("salt"));
}

// --- Hardening (issue 8) ---------------------------------------------------------------------------

#[test]
fn a_body_of_another_length_under_the_same_key_does_not_open() {
    // Two objects sealed from the same seed share a data key and a stream salt (a repeating
    // generator; with multipart parts sharing a key this is dropping trailing parts). A body must
    // still hold exactly the length its envelope authenticates.
    let ring = keyring();
    let object = ObjectId::new("bkt", "k");
    let c = ChunkSize::C2SP.bytes();
    for (short, long) in [(10, 3 * c), (0, c), (c, 2 * c), (c - 1, c), (2 * c + 5, 2 * c + 6)] {
        let (short_envelope, short_body) = put(&ring, &object, &pattern(short), SealOptions::default(), 7);
        let (long_envelope, long_body) = put(&ring, &object, &pattern(long), SealOptions::default(), 7);
        assert_eq!(short_body[..HEADER_LEN], long_body[..HEADER_LEN], "same key and salt");
        // The long body under the short envelope: too long; the short body under the long one: cut.
        let r = common::open_object(&ring, &object, &short_envelope, &long_body).map(|p| p.len());
        assert!(matches!(r, Err(Error::TrailingData | Error::Truncated)), "{short}/{long}: {r:?}");
        let r = common::open_object(&ring, &object, &long_envelope, &short_body).map(|p| p.len());
        assert!(matches!(r, Err(Error::Truncated | Error::TrailingData)), "{short}/{long}: {r:?}");
        // Nothing of the long body is released under the short envelope past its length.
        let key = short_envelope.open(&ring, &object).unwrap();
        let mut opener = key.opener();
        let mut plain = Vec::new();
        let streamed = opener.update(&long_body, &mut plain);
        assert!(plain.len() <= short, "{short}/{long}: released {}", plain.len());
        if streamed.is_ok() {
            assert!(opener.finish(&mut plain).is_err());
        }
        // Random access: the final chunk opened at the envelope's length does not authenticate.
        let key = short_envelope.open(&ring, &object).unwrap();
        let chunks = key.chunk_opener(&long_body[..HEADER_LEN]).unwrap();
        let last = chunks.chunk_count() - 1;
        let at = HEADER_LEN + last as usize * ChunkSize::C2SP.sealed_len();
        let mut sealed = long_body[at..(at + short % c + 16).min(long_body.len())].to_vec();
        assert!(chunks.open_chunk_in_place(last, &mut sealed).is_err());
        // The genuine pairs open.
        assert_eq!(
            common::open_object(&ring, &object, &short_envelope, &short_body).unwrap(),
            pattern(short)
        );
        assert_eq!(common::open_object(&ring, &object, &long_envelope, &long_body).unwrap(), pattern(long));
    }
}

#[cfg(feature = "parallel")]
#[test]
fn open_parallel_checks_the_body_length_against_the_envelope() {
    let ring = keyring();
    let object = ObjectId::new("bkt", "k");
    let c = ChunkSize::C2SP.bytes();
    let (short_envelope, short_body) = put(&ring, &object, &pattern(10), SealOptions::default(), 8);
    let (long_envelope, long_body) = put(&ring, &object, &pattern(3 * c), SealOptions::default(), 8);
    let short_key = short_envelope.open(&ring, &object).unwrap();
    let long_key = long_envelope.open(&ring, &object).unwrap();
    assert_eq!(short_key.open_parallel(&long_body), Err(Error::TrailingData));
    assert_eq!(long_key.open_parallel(&short_body), Err(Error::Truncated));
    assert_eq!(long_key.open_parallel(&long_body).unwrap(), pattern(3 * c));
}

#[test]
fn the_stored_length_is_authenticated_only_once_opened() {
    let ring = keyring();
    let object = ObjectId::new("bkt", "k");
    let (envelope, _) = put(&ring, &object, &pattern(1000), SealOptions::default(), 9);
    let edited: Vec<(String, String)> = envelope
        .to_metadata()
        .into_iter()
        .map(|(k, v)| if k == "s3crypt-length" { (k, "999".to_owned()) } else { (k, v) })
        .collect();
    let edited = Envelope::from_metadata(edited).unwrap();
    // Decoding trusts storage: the accessor says so in its name.
    assert_eq!(edited.unverified_plaintext_len(), 999);
    // Opening does not: the length is part of the wrap's associated data.
    assert_eq!(edited.open(&ring, &object).unwrap_err(), Error::Authentication);
    assert_eq!(envelope.open(&ring, &object).unwrap().plaintext_len(), 1000);
}

#[test]
fn errors_repeat_a_bounded_piece_of_what_storage_holds() {
    let ring = keyring();
    let object = ObjectId::new("bkt", "k");
    let (envelope, _) = put(&ring, &object, b"x", SealOptions::default(), 10);
    let huge = format!("s3crypt-{}", "n".repeat(1 << 20));
    let mut map = envelope.to_metadata();
    map.push((huge, "1".to_owned()));
    let Err(Error::Format(FormatError::UnknownField(name))) = Envelope::from_metadata(map) else {
        panic!("an unknown s3crypt- name is refused")
    };
    assert_eq!(name.chars().count(), s3crypt::ECHO_MAX);
    // What an error repeats of an unknown version.
    let repeated = |version: &str| {
        let mut map = envelope.to_metadata();
        map.retain(|(k, _)| k != "s3crypt-version");
        map.push(("s3crypt-version".to_owned(), version.to_owned()));
        let Err(Error::Format(FormatError::UnsupportedVersion(v))) = Envelope::from_metadata(map) else {
            panic!("an unknown version is refused")
        };
        v
    };
    assert_eq!(repeated(&"7".repeat(1500)).len(), s3crypt::ECHO_MAX);
    // Control characters never reach an error (and so a log line) as themselves.
    assert_eq!(repeated("9\r\nforged: yes\u{1b}[2J"), "9\u{fffd}\u{fffd}forged: yes\u{fffd}[2J");
    // Nor Unicode's line separators (which log viewers break on) or bidirectional overrides
    // (which reorder what a reader sees); other non-ASCII text is repeated as it is.
    assert_eq!(
        repeated("9\u{2028}a\u{2029}b\u{202e}c\u{2066}d\u{200f}é"),
        "9\u{fffd}a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}é"
    );
}

#[test]
fn root_keys_decode_from_hex_of_either_case_only() {
    let lower = "00ff10ab".repeat(8);
    let upper = lower.to_uppercase();
    let key = RootKey::from_hex(&lower).unwrap();
    assert_eq!(RootKey::from_hex(&upper).unwrap(), key);
    assert_eq!(key.expose_secret()[..4], [0x00, 0xff, 0x10, 0xab]);
    for bad in [
        format!("0x{}", &lower[2..]),
        format!("{} ", &lower[..63]),
        format!("{}g", &lower[..63]),
        lower[..62].to_string(),
        format!("{lower}00"),
        "é".repeat(32),
    ] {
        assert_eq!(RootKey::from_hex(&bad).unwrap_err(), Error::InvalidKeyEncoding, "{bad}");
    }
}
