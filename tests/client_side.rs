//! Client-side encryption (scheme `client-side`): the client's keys (a raw keyring with material
//! descriptions, a KMS key with a client-chosen context), envelope-first sealing, and the request
//! plans of PutObject, GetObject (whole and ranged: one request), HeadObject and CopyObject against
//! an in-memory S3 model — with a hostile case for every defence.
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
    ChunkSize, ClientKeyring, ClientKms, ClientKmsKey, ClientSealer, ClientSideError, EncryptionContext,
    Encryptor, Envelope, Error, FormatError, LocalKms, ObjectId, RootKey, Scheme, SealOptions,
};

fn description(pairs: &[(&str, &str)]) -> EncryptionContext {
    let mut d = EncryptionContext::new();
    for (k, v) in pairs {
        d.insert(k, v).unwrap();
    }
    d
}

fn keyring() -> ClientKeyring {
    ClientKeyring::new("client-a", 1, RootKey::from_bytes([0xa1; 32]), description(&[("purpose", "tests")]))
        .unwrap()
}

fn local_kms() -> LocalKms<TestRng> {
    let mut kms = LocalKms::new(TestRng(77));
    kms.create_key("alias/client", RootKey::from_bytes([0x33; 32])).unwrap();
    kms
}

fn kms_context() -> EncryptionContext {
    description(&[("tenant", "t1"), ("app", "ünïcode")])
}

fn kms_key(kms: &LocalKms<TestRng>) -> ClientKmsKey {
    ClientKms::new("alias/client", kms_context()).unwrap().generate_key(kms).unwrap()
}

/// Seals `msg` envelope-first, in uneven pieces.
fn seal(
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    msg: &[u8],
    cs: ChunkSize,
    seed: u64,
) -> (Envelope, Vec<u8>) {
    let mut rng = TestRng(seed);
    let options = SealOptions { chunk_size: cs, ..SealOptions::default() };
    let (mut sealer, envelope) = ClientSealer::new(options, msg.len() as u64, enc, object, &mut rng).unwrap();
    let mut body = Vec::new();
    for piece in msg.chunks(7919) {
        sealer.update(piece, &mut body).unwrap();
    }
    sealer.finish(&mut body).unwrap();
    assert_eq!(body.len() as u64, envelope.body_len().unwrap());
    (envelope, body)
}

fn lengths(cs: ChunkSize) -> [usize; 7] {
    let c = cs.bytes();
    [0, 1, c - 1, c, c + 1, 3 * c, 5 * c + 77]
}

#[test]
fn both_client_keys_round_trip_through_both_encodings_at_boundary_sizes() {
    let kms = local_kms();
    let ring = keyring();
    let kms_key = kms_key(&kms);
    let object = ObjectId::new("bucket", "dir/object");
    for cs in [ChunkSize::C2SP, ChunkSize::from_bytes(1 << 17).unwrap()] {
        for (i, len) in lengths(cs).into_iter().enumerate() {
            let msg = pattern(len);
            for enc in [&ring as &dyn Encryptor, &kms_key] {
                let (envelope, body) = seal(enc, &object, &msg, cs, i as u64 + 1);
                assert_eq!(envelope.scheme(), Scheme::ClientSide);
                assert_eq!(envelope.body_header().unwrap()[..], body[..s3crypt::HEADER_LEN]);
                for decoded in [
                    Envelope::from_metadata(envelope.to_metadata()).unwrap(),
                    Envelope::from_binary(&envelope.to_binary()).unwrap(),
                ] {
                    assert_eq!(decoded, envelope);
                    // The KMS key is recovered with the context the reader expects.
                    let recovered;
                    let reader: &dyn Encryptor = if decoded.kms_blob().is_some() {
                        recovered = ClientKmsKey::for_envelope(&kms, &decoded, &kms_context()).unwrap();
                        &recovered
                    } else {
                        &ring
                    };
                    assert_eq!(common::open_object(reader, &object, &decoded, &body).unwrap(), msg);
                }
            }
        }
    }
}

#[test]
fn the_envelope_records_description_or_context_and_never_an_arn() {
    let kms = local_kms();
    let object = ObjectId::new("bucket", "k");
    let (envelope, _) = seal(&keyring(), &object, b"x", ChunkSize::C2SP, 1);
    assert_eq!(envelope.material_description(), Some(&description(&[("purpose", "tests")])));
    assert_eq!(envelope.kms_context(), None);
    let (envelope, _) = seal(&kms_key(&kms), &object, b"x", ChunkSize::C2SP, 2);
    assert_eq!(envelope.material_description(), None);
    assert_eq!(envelope.kms_context(), Some(&kms_context()));
    assert!(envelope.kms_context().unwrap().iter().all(|(k, _)| !k.starts_with("aws:")));
    assert!(!envelope.bucket_key());
}

#[test]
fn the_declared_length_is_enforced() {
    let ring = keyring();
    let object = ObjectId::new("bucket", "k");
    let mut rng = TestRng(3);
    let (mut sealer, _) = ClientSealer::new(SealOptions::default(), 10, &ring, &object, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(&[1; 6], &mut body).unwrap();
    let too_many = Error::ClientSide(ClientSideError::LengthMismatch { declared: 10, received: 11 });
    assert_eq!(sealer.update(&[1; 5], &mut body), Err(too_many.clone()));
    assert_eq!(sealer.update(&[], &mut body), Err(too_many.clone()), "sticky");
    assert_eq!(sealer.finish(&mut body), Err(too_many));

    let (mut sealer, _) = ClientSealer::new(SealOptions::default(), 10, &ring, &object, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(&[1; 9], &mut body).unwrap();
    let before = body.len();
    let too_few = Error::ClientSide(ClientSideError::LengthMismatch { declared: 10, received: 9 });
    assert_eq!(sealer.finish(&mut body), Err(too_few));
    assert_eq!(body.len(), before, "no final chunk for a short body");
}

#[test]
fn sealing_refuses_what_an_envelope_first_object_cannot_hold() {
    let ring = keyring();
    let object = ObjectId::new("bucket", "k");
    let mut rng = TestRng(4);
    for options in [
        SealOptions { md5: true, ..SealOptions::default() },
        SealOptions { checksum: Some(s3crypt::ChecksumAlgorithm::Crc32), ..SealOptions::default() },
    ] {
        assert_eq!(
            ClientSealer::new(options, 1, &ring, &object, &mut rng).unwrap_err(),
            Error::ClientSide(ClientSideError::SealedAttributes)
        );
    }
    let server = s3crypt::Keyring::new("root", 1, RootKey::from_bytes([1; 32])).unwrap();
    assert!(matches!(
        ClientSealer::new(SealOptions::default(), 1, &server, &object, &mut rng),
        Err(Error::SchemeMismatch { envelope: Scheme::ClientSide, presented: Scheme::SseS3 })
    ));
    // A server-side sealer cannot produce a client-side object without its body header.
    let mut sealer = s3crypt::ObjectSealer::new(SealOptions::default(), &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(b"x", &mut body).unwrap();
    assert_eq!(
        sealer.finish(&mut body, &ring, &object, &mut rng).unwrap_err(),
        Error::Format(FormatError::MissingField(s3crypt::Field::BodyHeader))
    );
}

#[test]
fn kms_contexts_are_the_clients_and_checked_before_any_decrypt() {
    let kms = local_kms();
    let object = ObjectId::new("bucket", "k");
    // Reserved keys, in any case, never reach a context.
    for key in ["aws:x", "AWS:s3:arn", "Aws:foo"] {
        let mut c = EncryptionContext::new();
        assert!(c.insert(key, "v").is_err(), "{key}");
    }
    assert_eq!(ClientKms::new("bad id", kms_context()).unwrap_err(), Error::InvalidKeyId);
    let key = kms_key(&kms);
    let (envelope, body) = seal(&key, &object, b"secret", ChunkSize::C2SP, 5);
    let request = ClientKmsKey::decrypt_request(&envelope, &kms_context()).unwrap();
    assert_eq!(request.context, kms_context());
    assert_eq!(request.ciphertext_blob, key.blob());
    // The caller expects another context: refused before a request exists.
    for expected in [
        description(&[("tenant", "t2"), ("app", "ünïcode")]),
        description(&[("tenant", "t1")]),
        EncryptionContext::new(),
    ] {
        assert_eq!(
            ClientKmsKey::decrypt_request(&envelope, &expected).unwrap_err(),
            Error::ClientSide(ClientSideError::ContextMismatch)
        );
        assert!(ClientKmsKey::for_envelope(&kms, &envelope, &expected).is_err());
    }
    // A raw-key envelope is not a KMS envelope.
    let (raw, _) = seal(&keyring(), &object, b"secret", ChunkSize::C2SP, 6);
    assert!(matches!(ClientKmsKey::decrypt_request(&raw, &kms_context()), Err(Error::SchemeMismatch { .. })));
    let recovered = ClientKmsKey::for_envelope(&kms, &envelope, &kms_context()).unwrap();
    assert_eq!(common::open_object(&recovered, &object, &envelope, &body).unwrap(), b"secret");
}

#[test]
fn the_material_description_selects_the_key_with_its_id_and_version() {
    let object = ObjectId::new("bucket", "k");
    let (envelope, body) = seal(&keyring(), &object, b"data", ChunkSize::C2SP, 7);
    // Same id, version and secret, registered with another description: refused before unwrapping.
    let other =
        ClientKeyring::new("client-a", 1, RootKey::from_bytes([0xa1; 32]), description(&[("purpose", "x")]))
            .unwrap();
    assert_eq!(envelope.open(&other, &object).unwrap_err(), Error::WrongKey);
    // Another version of the key.
    let v2 = ClientKeyring::new(
        "client-a",
        2,
        RootKey::from_bytes([0xa1; 32]),
        description(&[("purpose", "tests")]),
    )
    .unwrap();
    assert!(matches!(envelope.open(&v2, &object), Err(Error::UnknownKey { .. })));
    // Another secret under the same name.
    let wrong = ClientKeyring::new(
        "client-a",
        1,
        RootKey::from_bytes([0xa2; 32]),
        description(&[("purpose", "tests")]),
    )
    .unwrap();
    assert_eq!(envelope.open(&wrong, &object).unwrap_err(), Error::WrongKey);
    // Rotation keeps the body and moves to the new active key and its description.
    let mut ring = keyring();
    ring.add("client-b", 1, RootKey::from_bytes([0xb1; 32]), description(&[("purpose", "rotated")])).unwrap();
    ring.activate("client-b", 1).unwrap();
    let rotated = ring.rotate(&envelope, &object, &mut TestRng(8)).unwrap();
    assert_eq!(rotated.key_id(), "client-b");
    assert_eq!(rotated.material_description(), Some(&description(&[("purpose", "rotated")])));
    assert_eq!(rotated.body_header(), envelope.body_header());
    assert_eq!(common::open_object(&ring, &object, &rotated, &body).unwrap(), b"data");
    assert!(format!("{ring:?}").contains("rotated") && !format!("{ring:?}").contains("177"));
}
