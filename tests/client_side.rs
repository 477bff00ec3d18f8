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

use common::store::{Response, Store};
use common::{Replay, TestRng, block_on, pattern};
use proptest::prelude::*;
use s3crypt::{
    ByteRange, ChunkSize, ClientBodySealer, ClientCopyPlan, ClientGetPlan, ClientInstructionPlan,
    ClientKeyring, ClientKms, ClientKmsKey, ClientPutPlan, ClientSealer, ClientSideError, EncryptionContext,
    Encryptor, Envelope, Error, FormatError, HEADER_LEN, LocalKms, ObjectId, RootKey, S3_MAX_PART_SIZE,
    S3_MIN_PART_SIZE, Scheme, SealOptions, TAG_LEN,
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

/// The client's KMS settings: what it writes with and expects when reading.
fn kms_settings() -> ClientKms {
    ClientKms::new("alias/client", kms_context()).unwrap()
}

fn kms_key(kms: &LocalKms<TestRng>) -> ClientKmsKey {
    kms_settings().generate_key(kms).unwrap()
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
                assert_eq!(envelope.body_header().unwrap()[..], body[..HEADER_LEN]);
                for decoded in [
                    Envelope::from_metadata(envelope.to_metadata()).unwrap(),
                    Envelope::from_binary(&envelope.to_binary()).unwrap(),
                ] {
                    assert_eq!(decoded, envelope);
                    // The KMS key is recovered with the context the reader expects.
                    let recovered;
                    let reader: &dyn Encryptor = if decoded.kms_blob().is_some() {
                        recovered = ClientKmsKey::for_envelope(&kms, &decoded, &kms_settings()).unwrap();
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
    let request = ClientKmsKey::decrypt_request(&envelope, &kms_settings()).unwrap();
    assert_eq!(request.context, kms_context());
    assert_eq!(request.ciphertext_blob, key.blob());
    // The caller expects another context: refused before a request exists.
    for expected in [
        description(&[("tenant", "t2"), ("app", "ünïcode")]),
        description(&[("tenant", "t1")]),
        EncryptionContext::new(),
    ] {
        let expected = ClientKms::new("alias/client", expected).unwrap();
        assert_eq!(
            ClientKmsKey::decrypt_request(&envelope, &expected).unwrap_err(),
            Error::ClientSide(ClientSideError::ContextMismatch)
        );
        assert!(ClientKmsKey::for_envelope(&kms, &envelope, &expected).is_err());
    }
    // A raw-key envelope is not a KMS envelope.
    let (raw, _) = seal(&keyring(), &object, b"secret", ChunkSize::C2SP, 6);
    assert!(matches!(
        ClientKmsKey::decrypt_request(&raw, &kms_settings()),
        Err(Error::SchemeMismatch { .. })
    ));
    let recovered = ClientKmsKey::for_envelope(&kms, &envelope, &kms_settings()).unwrap();
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

const BUCKET: &str = "bucket";

/// PUTs `msg` as `key`: the plan's headers first, then the body sealed in pieces.
fn put(store: &mut Store, enc: &dyn Encryptor, key: &str, msg: &[u8], cs: ChunkSize, seed: u64) -> Envelope {
    let object = ObjectId::new(BUCKET, key);
    let mut rng = TestRng(seed);
    let options = SealOptions { chunk_size: cs, ..SealOptions::default() };
    let (mut sealer, envelope) =
        ClientSealer::new(options, msg.len() as u64, enc, &object, &mut rng).unwrap();
    let plan = ClientPutPlan::new(&envelope).unwrap();
    let mut body = Vec::new();
    for piece in msg.chunks(5003) {
        sealer.update(piece, &mut body).unwrap();
    }
    sealer.finish(&mut body).unwrap();
    assert_eq!(body.len() as u64, plan.content_length());
    store.put(BUCKET, key, plan.headers(), body).unwrap();
    envelope
}

/// Reads a GET response with `plan`, feeding the body in pieces of `piece` bytes.
fn read(
    plan: &ClientGetPlan,
    response: &Response,
    enc: &dyn Encryptor,
    key: &str,
    piece: usize,
) -> Result<Vec<u8>, Error> {
    let envelope = Envelope::from_metadata(response.metadata())?;
    let mut reader = plan.open(&envelope, response.content_range(), enc, &ObjectId::new(BUCKET, key))?;
    let mut plain = Vec::new();
    for p in response.body.chunks(piece.max(1)) {
        reader.update(p, &mut plain)?;
    }
    let range = reader.plaintext_range();
    reader.finish(&mut plain)?;
    assert_eq!(plain.len() as u64, range.end - range.start);
    Ok(plain)
}

/// A GET with `plan` (one request), read back.
fn get(store: &Store, plan: &ClientGetPlan, enc: &dyn Encryptor, key: &str) -> Result<Vec<u8>, Error> {
    let response = store.get(BUCKET, key, plan.range_header().as_deref()).map_err(|_| Error::InvalidRange)?;
    read(plan, &response, enc, key, 4099)
}

#[test]
fn put_get_and_head_through_an_s3_model_at_boundary_sizes() {
    let kms = local_kms();
    let ring = keyring();
    let kms_key = kms_key(&kms);
    let mut store = Store::new();
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
        for (i, len) in lengths(cs).into_iter().enumerate() {
            let msg = pattern(len);
            for (j, enc) in [&ring as &dyn Encryptor, &kms_key].into_iter().enumerate() {
                let name = format!("obj-{len}-{j}");
                put(&mut store, enc, &name, &msg, cs, i as u64);
                store.reset_counters();
                assert_eq!(get(&store, &ClientGetPlan::whole(), enc, &name).unwrap(), msg);
                // HEAD: the authenticated plaintext size, from the envelope alone.
                let head = store.head(BUCKET, &name).unwrap();
                let envelope = Envelope::from_metadata(head.metadata()).unwrap();
                let opened = envelope.open(enc, &ObjectId::new(BUCKET, &name)).unwrap();
                assert_eq!(opened.plaintext_len(), len as u64);
                assert_eq!(store.total_requests(), 2);
                // Ranged reads at the boundaries, one request each.
                if len > 0 {
                    for range in [
                        ByteRange::FromTo(0, 0),
                        ByteRange::FromTo(len as u64 - 1, len as u64 - 1),
                        ByteRange::FromTo(0, len as u64 + 100),
                        ByteRange::From(len as u64 / 2),
                        ByteRange::Suffix(1),
                        ByteRange::Suffix(len as u64),
                        ByteRange::Suffix(len as u64 + 7),
                    ] {
                        store.reset_counters();
                        let plan = ClientGetPlan::range(range, cs).unwrap();
                        let want = range.resolve(len as u64).unwrap();
                        let got = get(&store, &plan, enc, &name).unwrap();
                        assert_eq!(got, msg[want.start as usize..want.end as usize], "{range:?} of {len}");
                        assert_eq!(store.requests("GetObject"), 1);
                        assert_eq!(store.total_requests(), 1);
                    }
                }
            }
        }
    }
}

/// The chunks a plaintext range touches, as a stored length, plus one chunk of slack.
fn over_read_bound(range: &core::ops::Range<u64>, cs: ChunkSize) -> u64 {
    let l = cs.log2();
    let chunks = ((range.end - 1) >> l) - (range.start >> l) + 1;
    (chunks + 1) * cs.sealed_len() as u64
}

fn byte_range() -> impl Strategy<Value = ByteRange> {
    prop_oneof![
        (0u64..120_000, 0u64..120_000).prop_map(|(a, b)| ByteRange::FromTo(a.min(b), a.max(b))),
        (0u64..120_000).prop_map(ByteRange::From),
        (0u64..120_000).prop_map(ByteRange::Suffix),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Any plaintext range of any object is one GET, and yields exactly the plaintext slice (or
    /// the 416 S3 gives for a range that selects nothing), whatever the response's split points.
    #[test]
    fn random_ranges_are_one_request_and_exact(
        len in 0usize..100_000,
        range in byte_range(),
        piece in 1usize..40_000,
        seed in 1u64..1000,
    ) {
        let ring = keyring();
        let cs = ChunkSize::C2SP;
        let mut store = Store::new();
        let msg = pattern(len);
        put(&mut store, &ring, "p", &msg, cs, seed);
        store.reset_counters();
        let want = range.resolve(len as u64);
        let plan = match ClientGetPlan::range(range, cs) {
            Ok(plan) => plan,
            Err(e) => {
                // Within the drawn offsets only an empty suffix is refused up front, as S3 refuses
                // `bytes=-0` (offsets past any storable object are too, but are not drawn here).
                prop_assert_eq!(range, ByteRange::Suffix(0));
                prop_assert_eq!(e, Error::InvalidRange);
                return Ok(());
            }
        };
        let result = store.get(BUCKET, "p", plan.range_header().as_deref());
        prop_assert_eq!(store.total_requests(), 1);
        match (want, result) {
            (Ok(want), Ok(response)) => {
                prop_assert!(response.body.len() as u64 <= over_read_bound(&want, cs));
                let got = read(&plan, &response, &ring, "p", piece).unwrap();
                prop_assert_eq!(&got[..], &msg[want.start as usize..want.end as usize]);
            }
            (Err(_), Ok(response)) => {
                prop_assert_eq!(read(&plan, &response, &ring, "p", piece), Err(Error::InvalidRange));
            }
            (Err(_), Err(e)) => prop_assert_eq!(e.status, 416),
            (Ok(want), Err(e)) => prop_assert!(false, "{want:?}: {e:?}"),
        }
    }

    /// Whole-object round trips with random lengths and split points.
    #[test]
    fn random_whole_objects_round_trip(len in 0usize..70_000, piece in 1usize..20_000, seed in 1u64..1000) {
        let ring = keyring();
        let mut store = Store::new();
        let msg = pattern(len);
        put(&mut store, &ring, "w", &msg, ChunkSize::C2SP, seed);
        let response = store.get(BUCKET, "w", None).unwrap();
        prop_assert_eq!(read(&ClientGetPlan::whole(), &response, &ring, "w", piece).unwrap(), msg);
    }
}

#[test]
fn stored_ranges_follow_the_formulas() {
    let cs = ChunkSize::C2SP; // C = 16384, S = 16400, H = 56
    let header = |r: ByteRange| ClientGetPlan::range(r, cs).unwrap().range_header().unwrap();
    assert_eq!(header(ByteRange::FromTo(0, 0)), "bytes=56-16455");
    assert_eq!(header(ByteRange::FromTo(16383, 16384)), "bytes=56-32855");
    assert_eq!(header(ByteRange::FromTo(16384, 16384)), "bytes=16456-32855");
    assert_eq!(header(ByteRange::From(40_000)), "bytes=32856-");
    // n + C − 1 + T·(⌈n/C⌉ + 1)
    assert_eq!(header(ByteRange::Suffix(1)), format!("bytes=-{}", 1 + 16383 + 16 * 2));
    assert_eq!(header(ByteRange::Suffix(16384)), format!("bytes=-{}", 16384 + 16383 + 16 * 2));
    assert_eq!(header(ByteRange::Suffix(16385)), format!("bytes=-{}", 16385 + 16383 + 16 * 3));
    assert_eq!(ClientGetPlan::whole().range_header(), None);
    assert_eq!(ClientGetPlan::range(ByteRange::Suffix(0), cs), Err(Error::InvalidRange));
    assert_eq!(ClientGetPlan::range(ByteRange::FromTo(5, 4), cs), Err(Error::InvalidRange));
    assert_eq!(ClientGetPlan::range(ByteRange::From(u64::MAX), cs), Err(Error::InvalidRange));
    assert_eq!(ClientGetPlan::range(ByteRange::Suffix(u64::MAX), cs), Err(Error::InvalidRange));
}

#[test]
fn another_chunk_size_is_a_replan_never_wrong_bytes() {
    let ring = keyring();
    let mut store = Store::new();
    let msg = pattern(300_000);
    put(&mut store, &ring, "big", &msg, ChunkSize::KIB_64, 9);
    store.reset_counters();
    let range = ByteRange::FromTo(100_000, 200_000);
    let plan = ClientGetPlan::range(range, ChunkSize::C2SP).unwrap();
    let response = store.get(BUCKET, "big", plan.range_header().as_deref()).unwrap();
    let envelope = Envelope::from_metadata(response.metadata()).unwrap();
    let mismatch = Error::ClientSide(ClientSideError::ChunkSizeMismatch { assumed: 16384, stored: 65536 });
    assert_eq!(plan.check(&envelope), Err(mismatch.clone()));
    assert_eq!(read(&plan, &response, &ring, "big", 1000), Err(mismatch));
    // The second request, planned with the stored chunk size.
    let plan = ClientGetPlan::range(range, envelope.chunk_size()).unwrap();
    assert_eq!(get(&store, &plan, &ring, "big").unwrap(), msg[100_000..200_001]);
    assert_eq!(store.requests("GetObject"), 2);
}

/// Over S3's 5 GiB CopyObject limit the same copy is a multipart upload of UploadPartCopy ranges:
/// the body arrives byte for byte, nothing is downloaded or sealed, and the reader sees the same
/// single-part client-side object.
/// A copy pinned to the source's ETag (`x-amz-copy-source-if-match`): if the source is overwritten
/// between the HEAD whose envelope was re-sealed and the copy, S3 answers 412 — for CopyObject and
/// for each UploadPartCopy — instead of copying another body under this envelope.
#[test]
fn a_copy_pinned_to_the_source_etag_refuses_an_overwritten_source() {
    let ring = keyring();
    let mut store = Store::new();
    let msg = pattern(11 << 20);
    put(&mut store, &ring, "pinned", &msg, ChunkSize::C2SP, 31);
    let (src, dst) = (ObjectId::new(BUCKET, "pinned"), ObjectId::new(BUCKET, "pinned copy"));
    let head = store.head(BUCKET, "pinned").unwrap();
    let etag = head.header("etag").unwrap().to_owned();
    let stored = Envelope::from_metadata(head.metadata()).unwrap();
    let copy = ClientCopyPlan::new(&stored, (&ring, &src), (&ring, &dst), &mut TestRng(32))
        .unwrap()
        .with_source_etag(&etag)
        .unwrap();
    assert!(copy.headers().contains(&("x-amz-copy-source-if-match".to_owned(), etag.clone())));
    let plan = copy.by_parts(S3_MIN_PART_SIZE).unwrap();
    assert!(
        plan.parts().all(|p| p.headers().contains(&("x-amz-copy-source-if-match".to_owned(), etag.clone())))
    );

    // Unchanged source: the pinned CopyObject goes through.
    store.copy(BUCKET, "pinned copy", &copy.headers()).unwrap();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "pinned copy").unwrap(), msg);

    // Overwritten after part 1 was copied: part 2 is refused with S3's 412, and so is a CopyObject.
    let upload = store.create_multipart_upload(BUCKET, "pinned copy", &plan.create().headers).unwrap();
    let parts: Vec<_> = plan.parts().collect();
    store.upload_part_copy(upload, 1, &parts[0].headers()).unwrap();
    put(&mut store, &ring, "pinned", &pattern(11 << 20), ChunkSize::C2SP, 33);
    assert_eq!(
        store.upload_part_copy(upload, 2, &parts[1].headers()).unwrap_err().code,
        "PreconditionFailed"
    );
    assert_eq!(store.copy(BUCKET, "pinned copy", &copy.headers()).unwrap_err().code, "PreconditionFailed");

    // An ETag that could not be sent as a header is refused when it is given.
    for bad in ["", "\"e\"\r\nx-evil: 1", "\"é\"", &"e".repeat(1025)] {
        let plan = ClientCopyPlan::new(&stored, (&ring, &src), (&ring, &dst), &mut TestRng(34)).unwrap();
        assert_eq!(
            plan.with_source_etag(bad).unwrap_err(),
            Error::ClientSide(ClientSideError::InvalidETag),
            "{bad:?}"
        );
    }
}

#[test]
fn a_copy_by_parts_moves_the_body_without_downloading_it() {
    let ring = keyring();
    let mut store = Store::new();
    let msg = pattern(11 << 20);
    let envelope = put(&mut store, &ring, "big", &msg, ChunkSize::C2SP, 21);
    let (src, dst) = (ObjectId::new(BUCKET, "big"), ObjectId::new(BUCKET, "big copy"));
    let copy = ClientCopyPlan::new(&envelope, (&ring, &src), (&ring, &dst), &mut TestRng(22)).unwrap();
    let plan = copy.by_parts(S3_MIN_PART_SIZE).unwrap();
    assert_eq!(plan.part_count(), 3);
    assert_eq!(plan.create().key, b"big copy");
    let parts: Vec<_> = plan.parts().collect();
    assert_eq!(
        parts[0].headers(),
        [
            ("x-amz-copy-source".to_owned(), "/bucket/big".to_owned()),
            ("x-amz-copy-source-range".to_owned(), "bytes=0-5242879".to_owned()),
        ]
    );
    let stored_len = envelope.body_len().unwrap();
    assert_eq!(parts[2].source, 2 * S3_MIN_PART_SIZE..stored_len);

    store.reset_counters();
    let upload = store.create_multipart_upload(BUCKET, "big copy", &plan.create().headers).unwrap();
    let mut etags = Vec::new();
    for part in parts.iter().rev() {
        etags.push((
            part.part_number,
            store.upload_part_copy(upload, part.part_number, &part.headers()).unwrap(),
        ));
    }
    let named: Vec<(u32, &str)> = etags.iter().map(|(n, e)| (*n, e.as_str())).collect();
    // The completion names each part once, in order, whatever order the ETags came in.
    for bad in
        [&named[..2], &[named[0], named[0], named[1]][..], &[named[0], named[1], named[2], (4, "x")][..]]
    {
        assert_eq!(plan.complete_request(bad).unwrap_err(), Error::InvalidPart);
    }
    let complete = plan.complete_request(&named).unwrap();
    assert_eq!(complete.parts.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2, 3]);
    store.complete_multipart_upload(upload, &complete.parts).unwrap();
    assert_eq!(
        (store.requests("GetObject"), store.requests("PutObject"), store.requests("UploadPart")),
        (0, 0, 0),
        "nothing downloaded, nothing sealed"
    );
    assert_eq!(store.object(BUCKET, "big copy").unwrap().body, store.object(BUCKET, "big").unwrap().body);
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "big copy").unwrap(), msg);
    let range = ClientGetPlan::range(ByteRange::FromTo(5 << 20, (5 << 20) + 99), ChunkSize::C2SP).unwrap();
    assert_eq!(get(&store, &range, &ring, "big copy").unwrap(), msg[5 << 20..(5 << 20) + 100]);

    // S3's limits: parts of 5 MiB to 5 GiB, at most 10,000 of them. An envelope declares its
    // length before any body exists, so a 40 TiB and a 60 TiB object need no bytes here.
    for size in [S3_MIN_PART_SIZE - 1, S3_MAX_PART_SIZE + 1, 0] {
        assert_eq!(
            copy.by_parts(size).unwrap_err(),
            Error::ClientSide(ClientSideError::CopyPartSize { stored_len, part_size: size })
        );
    }
    for (tib, ok) in [(40u64, true), (60, false)] {
        let (_, huge) =
            ClientSealer::new(SealOptions::default(), tib << 40, &ring, &src, &mut TestRng(23)).unwrap();
        let copy = ClientCopyPlan::new(&huge, (&ring, &src), (&ring, &dst), &mut TestRng(24)).unwrap();
        let plan = copy.by_parts(S3_MAX_PART_SIZE);
        assert_eq!(plan.is_ok(), ok, "{tib} TiB");
        if let Ok(plan) = plan {
            // 40 TiB and a 16-byte tag per 16 KiB chunk: 8,201 parts of 5 GiB.
            assert_eq!(u64::from(plan.part_count()), huge.body_len().unwrap().div_ceil(S3_MAX_PART_SIZE));
            assert_eq!(plan.part_count(), 8201);
            let last = plan.parts().last().unwrap();
            assert_eq!(last.source.end, huge.body_len().unwrap());
        }
    }
}

/// A copy by parts whose one part is the whole source sends no `x-amz-copy-source-range`: S3
/// documents a range copy only for a source over 5 MB, and S3 allows a multipart upload's only
/// part to be any size, so a small object (or one planned with a part size it fits in) still copies.
#[test]
fn a_copy_by_parts_of_one_part_copies_the_whole_source() {
    let ring = keyring();
    let mut store = Store::new();
    for (len, part_size) in [(1, S3_MIN_PART_SIZE), (1000, S3_MIN_PART_SIZE), (6 << 20, 8 << 20)] {
        let msg = pattern(len);
        let envelope = put(&mut store, &ring, "small", &msg, ChunkSize::C2SP, 31);
        let (src, dst) = (ObjectId::new(BUCKET, "small"), ObjectId::new(BUCKET, "small copy"));
        let copy = ClientCopyPlan::new(&envelope, (&ring, &src), (&ring, &dst), &mut TestRng(32)).unwrap();
        let plan = copy.by_parts(part_size).unwrap();
        let parts: Vec<_> = plan.parts().collect();
        assert_eq!(parts.len(), 1, "{len}");
        assert_eq!(parts[0].source, 0..envelope.body_len().unwrap());
        assert_eq!(parts[0].headers(), [("x-amz-copy-source".to_owned(), "/bucket/small".to_owned())]);
        let upload = store.create_multipart_upload(BUCKET, "small copy", &plan.create().headers).unwrap();
        let etag = store.upload_part_copy(upload, 1, &parts[0].headers()).unwrap();
        let complete = plan.complete_request(&[(1, &etag)]).unwrap();
        store.complete_multipart_upload(upload, &complete.parts).unwrap();
        assert_eq!(
            store.object(BUCKET, "small copy").unwrap().body,
            store.object(BUCKET, "small").unwrap().body
        );
        assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "small copy").unwrap(), msg, "{len}");
    }
}

#[test]
fn copy_rename_and_rekey_never_download_the_body() {
    let kms = local_kms();
    let ring = keyring();
    let mut store = Store::new();
    let msg = pattern(50_000);
    let envelope = put(&mut store, &ring, "src", &msg, ChunkSize::C2SP, 10);
    let (src, dst) = (ObjectId::new(BUCKET, "src"), ObjectId::new(BUCKET, "dir/dst ü"));
    store.reset_counters();

    // Copy to a new name: the new envelope is sent with REPLACE; the store copies the body.
    let head = store.head(BUCKET, "src").unwrap();
    let stored = Envelope::from_metadata(head.metadata()).unwrap();
    assert_eq!(stored, envelope);
    let copy = ClientCopyPlan::new(&stored, (&ring, &src), (&ring, &dst), &mut TestRng(11)).unwrap();
    assert_eq!(copy.copy_source(), "/bucket/src");
    assert!(copy.headers().contains(&("x-amz-metadata-directive".to_owned(), "REPLACE".to_owned())));
    store.copy(BUCKET, "dir/dst ü", &copy.headers()).unwrap();
    assert_eq!((store.requests("GetObject"), store.requests("CopyObject")), (0, 1));
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "dir/dst ü").unwrap(), msg);
    // The old envelope does not open at the new name (the wrap binds the name).
    assert_eq!(envelope.open(&ring, &dst).unwrap_err(), Error::Authentication);

    // Rename = copy + delete.
    let stored = Envelope::from_metadata(store.head(BUCKET, "dir/dst ü").unwrap().metadata()).unwrap();
    let renamed = ObjectId::new(BUCKET, "renamed");
    let copy = ClientCopyPlan::new(&stored, (&ring, &dst), (&ring, &renamed), &mut TestRng(12)).unwrap();
    assert_eq!(copy.copy_source(), "/bucket/dir/dst%20%C3%BC");
    store.copy(BUCKET, "renamed", &copy.headers()).unwrap();
    store.delete(BUCKET, "dir/dst ü").unwrap();
    assert!(store.object(BUCKET, "dir/dst ü").is_none());

    // Re-key in place: keyring → KMS → keyring, each a CopyObject onto itself with REPLACE.
    let body_before = store.object(BUCKET, "renamed").unwrap().body.clone();
    let kms_key = kms_key(&kms);
    let stored = Envelope::from_metadata(store.head(BUCKET, "renamed").unwrap().metadata()).unwrap();
    let to_kms =
        ClientCopyPlan::new(&stored, (&ring, &renamed), (&kms_key, &renamed), &mut TestRng(13)).unwrap();
    store.copy(BUCKET, "renamed", &to_kms.headers()).unwrap();
    let stored = Envelope::from_metadata(store.head(BUCKET, "renamed").unwrap().metadata()).unwrap();
    assert_eq!(stored.kms_context(), Some(&kms_context()));
    let recovered = ClientKmsKey::for_envelope(&kms, &stored, &kms_settings()).unwrap();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &recovered, "renamed").unwrap(), msg);
    let mut ring2 = keyring();
    ring2.add("client-b", 7, RootKey::from_bytes([0xb7; 32]), description(&[("k", "v")])).unwrap();
    ring2.activate("client-b", 7).unwrap();
    let back =
        ClientCopyPlan::new(&stored, (&recovered, &renamed), (&ring2, &renamed), &mut TestRng(14)).unwrap();
    store.copy(BUCKET, "renamed", &back.headers()).unwrap();
    let stored = Envelope::from_metadata(store.head(BUCKET, "renamed").unwrap().metadata()).unwrap();
    assert_eq!((stored.key_id(), stored.key_version()), ("client-b", 7));
    let plan = ClientGetPlan::range(ByteRange::Suffix(1000), ChunkSize::C2SP).unwrap();
    assert_eq!(get(&store, &plan, &ring2, "renamed").unwrap(), msg[49_000..]);
    assert_eq!(store.object(BUCKET, "renamed").unwrap().body, body_before, "the body never changed");
    assert_eq!(store.requests("GetObject"), 3, "only the verification reads");
    assert_eq!(store.requests("PutObject"), 0);

    // A copy must go to a client-side key.
    let server = s3crypt::Keyring::new("root", 1, RootKey::from_bytes([1; 32])).unwrap();
    assert!(matches!(
        ClientCopyPlan::new(&stored, (&ring2, &renamed), (&server, &renamed), &mut TestRng(15)),
        Err(Error::SchemeMismatch { .. })
    ));
}

/// Reads `key` whole and by two ranges (one at each end); every read must fail.
fn every_read_fails(store: &Store, enc: &dyn Encryptor, key: &str, len: u64) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut plans = vec![ClientGetPlan::whole()];
    if len > 0 {
        plans.push(ClientGetPlan::range(ByteRange::FromTo(0, 10), ChunkSize::C2SP).unwrap());
        plans.push(ClientGetPlan::range(ByteRange::Suffix(100), ChunkSize::C2SP).unwrap());
    }
    for plan in plans {
        match get(store, &plan, enc, key) {
            Ok(_) => panic!("{key}: {plan:?} read a tampered object"),
            Err(e) => errors.push(e),
        }
    }
    errors
}

/// A stored object, its plaintext length and a copy of its body, for tampering.
fn stored(store: &mut Store, enc: &dyn Encryptor, key: &str, len: usize, seed: u64) -> Vec<u8> {
    put(store, enc, key, &pattern(len), ChunkSize::C2SP, seed);
    store.object(BUCKET, key).unwrap().body.clone()
}

#[test]
fn truncated_and_extended_bodies_do_not_open() {
    let ring = keyring();
    let mut store = Store::new();
    let len = 3 * 16384 + 77;
    let body = stored(&mut store, &ring, "t", len, 20);
    let sealed = ChunkSize::C2SP.sealed_len();
    let last_chunk = HEADER_LEN + 3 * sealed;
    for (name, bad) in [
        ("one byte short", body[..body.len() - 1].to_vec()),
        ("no last tag", body[..body.len() - TAG_LEN].to_vec()),
        ("last chunk dropped", body[..last_chunk].to_vec()),
        ("header only", body[..HEADER_LEN].to_vec()),
        ("empty", Vec::new()),
        ("one byte more", [&body[..], &[0]].concat()),
        ("a chunk appended", [&body[..], &body[HEADER_LEN..HEADER_LEN + sealed]].concat()),
    ] {
        store.object_mut(BUCKET, "t").unwrap().body = bad;
        for e in every_read_fails(&store, &ring, "t", len as u64) {
            assert!(
                matches!(
                    e,
                    Error::Truncated | Error::TrailingData | Error::Authentication | Error::InvalidRange
                ),
                "{name}: {e:?}"
            );
        }
    }
    // Whole reads name the defence precisely.
    store.object_mut(BUCKET, "t").unwrap().body = body[..body.len() - 1].to_vec();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "t"), Err(Error::Truncated));
    store.object_mut(BUCKET, "t").unwrap().body = [&body[..], &[0]].concat();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "t"), Err(Error::TrailingData));
}

#[test]
fn reordered_and_spliced_chunks_do_not_open() {
    let ring = keyring();
    let mut store = Store::new();
    let len = 3 * 16384 + 77;
    let body = stored(&mut store, &ring, "r", len, 21);
    let other = stored(&mut store, &ring, "other", len, 22);
    let sealed = ChunkSize::C2SP.sealed_len();
    let chunk = |b: &[u8], i: usize| b[HEADER_LEN + i * sealed..HEADER_LEN + (i + 1) * sealed].to_vec();
    let swapped =
        [&body[..HEADER_LEN], &chunk(&body, 1), &chunk(&body, 0), &body[HEADER_LEN + 2 * sealed..]].concat();
    let spliced = [&body[..HEADER_LEN], &chunk(&other, 0), &body[HEADER_LEN + sealed..]].concat();
    let other_body = [&other[..], &[]].concat();
    for (name, bad) in [("swapped", swapped), ("spliced", spliced), ("other object's body", other_body)] {
        store.object_mut(BUCKET, "r").unwrap().body = bad;
        // The whole body and a range in the touched chunks fail; the untouched last chunk still
        // reads (it authenticates on its own).
        let first = ClientGetPlan::range(ByteRange::FromTo(0, 10), ChunkSize::C2SP).unwrap();
        for plan in [ClientGetPlan::whole(), first] {
            assert_eq!(get(&store, &plan, &ring, "r"), Err(Error::Authentication), "{name}");
        }
    }
}

#[test]
fn every_byte_of_the_body_is_protected() {
    let ring = keyring();
    let mut store = Store::new();
    let len = 16384 + 100;
    let body = stored(&mut store, &ring, "b", len, 23);
    let whole = ClientGetPlan::whole();
    let first = ClientGetPlan::range(ByteRange::FromTo(0, 0), ChunkSize::C2SP).unwrap();
    let last = ClientGetPlan::range(ByteRange::Suffix(1), ChunkSize::C2SP).unwrap();
    let positions =
        (0..HEADER_LEN + 64).chain(body.len() - 200..body.len()).chain([16_000, HEADER_LEN + 16_400]);
    for pos in positions {
        let mut bad = body.clone();
        bad[pos] ^= 0x20;
        store.object_mut(BUCKET, "b").unwrap().body = bad;
        assert_eq!(get(&store, &whole, &ring, "b"), Err(Error::Authentication), "byte {pos}");
        // A ranged read fails if it needs the flipped chunk (it never reads the stored header:
        // the envelope's is used).
        let in_first = (HEADER_LEN..HEADER_LEN + 16_400).contains(&pos);
        let plan = if in_first {
            &first
        } else if pos >= HEADER_LEN {
            &last
        } else {
            continue;
        };
        assert_eq!(get(&store, plan, &ring, "b"), Err(Error::Authentication), "byte {pos}");
    }
}

/// Decodes and opens an envelope, with either client key; reads the body whole.
fn open_with(
    kms: &LocalKms<TestRng>,
    ring: &ClientKeyring,
    envelope: Result<Envelope, Error>,
    object: &ObjectId<'_>,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    let envelope = envelope?;
    let recovered;
    let enc: &dyn Encryptor = if envelope.kms_blob().is_some() {
        recovered = ClientKmsKey::for_envelope(kms, &envelope, &kms_settings())?;
        &recovered
    } else {
        ring
    };
    common::open_object(enc, object, &envelope, body)
}

#[test]
fn every_metadata_value_and_every_bit_of_the_binary_envelope_is_protected() {
    let kms = local_kms();
    let ring = keyring();
    let kms_key = kms_key(&kms);
    let object = ObjectId::new(BUCKET, "m");
    for enc in [&ring as &dyn Encryptor, &kms_key] {
        let (envelope, body) = seal(enc, &object, &pattern(20_000), ChunkSize::C2SP, 24);
        assert_eq!(open_with(&kms, &ring, Ok(envelope.clone()), &object, &body).unwrap(), pattern(20_000));
        let map = envelope.to_metadata();
        for i in 0..map.len() {
            for pos in 0..map[i].1.len() {
                let mut bad = map.clone();
                let mut v = bad[i].1.clone().into_bytes();
                v[pos] = if v[pos] == b'A' { b'B' } else { b'A' };
                bad[i].1 = String::from_utf8(v).unwrap();
                let r = open_with(&kms, &ring, Envelope::from_metadata(bad), &object, &body);
                assert!(r.is_err(), "{} position {pos}", map[i].0);
            }
        }
        let bin = envelope.to_binary();
        for bit in 0..bin.len() * 8 {
            let mut bad = bin.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            match open_with(&kms, &ring, Envelope::from_binary(&bad), &object, &body) {
                Err(
                    Error::Format(_)
                    | Error::Authentication
                    | Error::WrongKey
                    | Error::UnknownKey { .. }
                    | Error::SchemeMismatch { .. }
                    | Error::Truncated
                    | Error::ClientSide(ClientSideError::ContextMismatch)
                    | Error::Kms(_),
                ) => {}
                other => panic!("bit {bit}: {other:?}"),
            }
        }
    }
}

/// `map` with `name` set to `value` (added if absent), and the `drop` names removed.
fn edit(map: &[(String, String)], name: &str, value: &str, drop: &[&str]) -> Vec<(String, String)> {
    let key = format!("s3crypt-{name}");
    let mut out: Vec<_> = map
        .iter()
        .filter(|(k, _)| !drop.iter().any(|d| *k == format!("s3crypt-{d}")))
        .map(|(k, v)| (k.clone(), if *k == key { value.to_owned() } else { v.clone() }))
        .collect();
    if !out.iter().any(|(k, _)| *k == key) {
        out.push((key, value.to_owned()));
    }
    out
}

#[test]
fn downgrades_and_relabels_are_refused() {
    let kms = local_kms();
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "d");
    let (envelope, body) = seal(&ring, &object, b"client data", ChunkSize::C2SP, 25);
    let map = envelope.to_metadata();
    // Relabelled SSE-S3: the client-side fields are refused; without them the scheme is bound
    // into the key check, so the same secret in an SSE-S3 keyring does not open it.
    assert_eq!(
        Envelope::from_metadata(edit(&map, "scheme", "sse-s3", &[])),
        Err(Error::Format(FormatError::UnexpectedField(s3crypt::Field::Description)))
    );
    let relabelled =
        Envelope::from_metadata(edit(&map, "scheme", "sse-s3", &["description", "body-header"])).unwrap();
    let server = s3crypt::Keyring::new("client-a", 1, RootKey::from_bytes([0xa1; 32])).unwrap();
    assert_eq!(common::open_object(&server, &object, &relabelled, &body), Err(Error::WrongKey));
    assert!(matches!(relabelled.open(&ring, &object), Err(Error::SchemeMismatch { .. })));
    // Without its body header, or with its description dropped, a client-side envelope is malformed.
    assert_eq!(
        Envelope::from_metadata(edit(&map, "scheme", "client-side", &["body-header"])),
        Err(Error::Format(FormatError::MissingField(s3crypt::Field::BodyHeader)))
    );
    assert_eq!(
        Envelope::from_metadata(edit(&map, "scheme", "client-side", &["description"])),
        Err(Error::Format(FormatError::MissingField(s3crypt::Field::Description)))
    );
    // Another description (valid JSON): the registered one is required before unwrapping.
    let other = edit(&map, "description", &description(&[("purpose", "other")]).to_header(), &[]);
    assert_eq!(
        common::open_object(&ring, &object, &Envelope::from_metadata(other).unwrap(), &body),
        Err(Error::WrongKey)
    );
    // A keyring registered with that description: the wrap's AAD still holds the original.
    let lying = ClientKeyring::new(
        "client-a",
        1,
        RootKey::from_bytes([0xa1; 32]),
        description(&[("purpose", "other")]),
    )
    .unwrap();
    let other = edit(&map, "description", &description(&[("purpose", "other")]).to_header(), &[]);
    assert_eq!(
        common::open_object(&lying, &object, &Envelope::from_metadata(other).unwrap(), &body),
        Err(Error::Authentication)
    );
    // Another chunk size: the wrap authenticates the original.
    let e = Envelope::from_metadata(edit(&map, "chunk-size", "65536", &[])).unwrap();
    assert_eq!(common::open_object(&ring, &object, &e, &body), Err(Error::Authentication));
    // An SSE-S3 object relabelled client-side (with the fields added) does not open either.
    let server_ring = s3crypt::Keyring::new("client-a", 1, RootKey::from_bytes([0xa1; 32])).unwrap();
    let (sse, sse_body) =
        common::seal_object(&server_ring, &object, b"server data", SealOptions::default(), 26);
    let forged = edit(&sse.to_metadata(), "scheme", "client-side", &[]);
    let forged = edit(&forged, "description", &description(&[("purpose", "tests")]).to_header(), &[]);
    let forged = edit(&forged, "body-header", &base64(&sse_body[..HEADER_LEN]), &[]);
    let forged = Envelope::from_metadata(forged).unwrap();
    assert_eq!(common::open_object(&ring, &object, &forged, &sse_body), Err(Error::WrongKey));
    // A client-side KMS envelope relabelled SSE-KMS: its context names no object, so no Decrypt.
    let kms_key = kms_key(&kms);
    let (kenv, _) = seal(&kms_key, &object, b"kms data", ChunkSize::C2SP, 27);
    let relabelled =
        Envelope::from_metadata(edit(&kenv.to_metadata(), "scheme", "sse-kms", &["body-header"])).unwrap();
    assert_eq!(s3crypt::KmsKey::decrypt_request(&relabelled, &object), Err(Error::KmsContextMismatch));
    // A client-side KMS envelope with a bucket key, or a reserved context key, is malformed.
    assert_eq!(
        Envelope::from_metadata(edit(&kenv.to_metadata(), "bucket-key", "true", &[])),
        Err(Error::Format(FormatError::UnexpectedField(s3crypt::Field::BucketKey)))
    );
    let arn = base64(br#"{"app":"x","aws:s3:arn":"arn:aws:s3:::bucket/d"}"#);
    assert_eq!(
        Envelope::from_metadata(edit(&kenv.to_metadata(), "kms-context", &arn, &[])),
        Err(Error::Format(FormatError::InvalidValue(s3crypt::Field::KmsContext)))
    );
}

fn base64(bytes: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(bytes)
}

#[test]
fn wrong_keys_moved_objects_and_foreign_headers() {
    let ring = keyring();
    let mut store = Store::new();
    let msg = pattern(40_000);
    let envelope = put(&mut store, &ring, "w", &msg, ChunkSize::C2SP, 28);
    let object = ObjectId::new(BUCKET, "w");
    // Wrong and unknown keys.
    let wrong = ClientKeyring::new(
        "client-a",
        1,
        RootKey::from_bytes([0xee; 32]),
        description(&[("purpose", "tests")]),
    )
    .unwrap();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &wrong, "w"), Err(Error::WrongKey));
    let unknown = ClientKeyring::new(
        "client-z",
        1,
        RootKey::from_bytes([0xa1; 32]),
        description(&[("purpose", "tests")]),
    )
    .unwrap();
    assert!(matches!(get(&store, &ClientGetPlan::whole(), &unknown, "w"), Err(Error::UnknownKey { .. })));
    // Moved as is (S3's COPY directive keeps the old envelope): does not open at the new name.
    store.copy(BUCKET, "moved", &[("x-amz-copy-source".to_owned(), "/bucket/w".to_owned())]).unwrap();
    for e in every_read_fails(&store, &ring, "moved", msg.len() as u64) {
        assert_eq!(e, Error::Authentication);
    }
    // The same name overwritten: the old envelope with the new body.
    let old_meta = store.object(BUCKET, "w").unwrap().metadata.clone();
    put(&mut store, &ring, "w", &msg, ChunkSize::C2SP, 29);
    store.object_mut(BUCKET, "w").unwrap().metadata = old_meta;
    for e in every_read_fails(&store, &ring, "w", msg.len() as u64) {
        assert_eq!(e, Error::Authentication);
    }
    // The envelope's key refuses any other stream header (the new body's is one).
    let new_header = store.object(BUCKET, "w").unwrap().body[..HEADER_LEN].to_vec();
    let key = envelope.open(&ring, &object).unwrap();
    assert_eq!(key.chunk_opener(&new_header).map(|_| ()), Err(Error::Authentication));
    assert!(key.chunk_opener(key.body_header().unwrap()).is_ok());
    // Plans for other schemes' or multipart objects' envelopes are refused before any key use.
    let server = s3crypt::Keyring::new("root", 1, RootKey::from_bytes([1; 32])).unwrap();
    let (sse, _) = common::seal_object(&server, &object, b"x", SealOptions::default(), 30);
    assert!(matches!(ClientGetPlan::whole().check(&sse), Err(Error::SchemeMismatch { .. })));
    assert!(matches!(ClientPutPlan::new(&sse), Err(Error::SchemeMismatch { .. })));
}

#[test]
fn content_ranges_that_do_not_answer_the_request_are_refused() {
    let ring = keyring();
    let mut store = Store::new();
    let len = 40_000u64;
    let envelope = put(&mut store, &ring, "c", &pattern(len as usize), ChunkSize::C2SP, 31);
    let object = ObjectId::new(BUCKET, "c");
    let total = envelope.body_len().unwrap();
    let plan = ClientGetPlan::range(ByteRange::FromTo(20_000, 20_010), ChunkSize::C2SP).unwrap();
    let response = store.get(BUCKET, "c", plan.range_header().as_deref()).unwrap();
    let cr = response.content_range().unwrap().to_owned();
    let bad_range = Error::ClientSide(ClientSideError::ContentRange);
    for (value, want) in [
        (format!("bytes 0-99/{total}"), bad_range.clone()),
        (cr.replace(&format!("/{total}"), &format!("/{}", total - 1)), Error::Truncated),
        (cr.replace(&format!("/{total}"), &format!("/{}", total + 1)), Error::TrailingData),
        ("bytes 1-0/5".to_owned(), bad_range.clone()),
        ("garbage".to_owned(), bad_range.clone()),
    ] {
        assert_eq!(plan.open(&envelope, Some(&value), &ring, &object).map(|_| ()), Err(want), "{value}");
    }
    // The right answer, but more or fewer bytes than it announces.
    let mut reader = plan.open(&envelope, Some(&cr), &ring, &object).unwrap();
    let mut out = Vec::new();
    assert_eq!(reader.update(&[&response.body[..], &[0]].concat(), &mut out), Err(Error::TrailingData));
    assert!(out.is_empty());
    let mut reader = plan.open(&envelope, Some(&cr), &ring, &object).unwrap();
    reader.update(&response.body[..response.body.len() - 1], &mut out).unwrap();
    assert_eq!(reader.finish(&mut out), Err(Error::Truncated));
    // A 200 answer (the Range ignored): the whole body, from which the range is taken.
    let whole = store.get(BUCKET, "c", None).unwrap();
    assert_eq!(read(&plan, &whole, &ring, "c", 999).unwrap(), pattern(len as usize)[20_000..20_011]);
    // A whole-object plan given a partial answer.
    assert_eq!(ClientGetPlan::whole().open(&envelope, Some(&cr), &ring, &object).map(|_| ()), Err(bad_range));
}

/// Uploads `msg` as `key` in the instruction-file form, its length unknown while sealing: the body
/// without envelope metadata, then `<key>.s3crypt` holding the binary envelope.
fn put_with_instruction(store: &mut Store, enc: &dyn Encryptor, key: &str, msg: &[u8], seed: u64) {
    let object = ObjectId::new(BUCKET, key);
    let mut rng = TestRng(seed);
    let mut sealer = ClientBodySealer::new(SealOptions::default(), &mut rng).unwrap();
    let mut body = Vec::new();
    for piece in msg.chunks(3001) {
        sealer.update(piece, &mut body).unwrap();
    }
    let envelope = sealer.finish(&mut body, enc, &object, &mut rng).unwrap();
    assert_eq!(envelope.body_len().unwrap(), body.len() as u64);
    let headers = vec![("content-length".to_owned(), body.len().to_string())];
    store.put(BUCKET, key, &headers, body).unwrap();
    let instruction = ClientInstructionPlan::new(&envelope, &object).unwrap();
    let name = String::from_utf8(instruction.key().to_vec()).unwrap();
    assert_eq!(name, format!("{key}.s3crypt"));
    store.put(BUCKET, &name, &instruction.headers(), instruction.body().to_vec()).unwrap();
}

/// Reads `key` through its instruction file: two requests.
fn get_with_instruction(
    store: &Store,
    plan: &ClientGetPlan,
    enc: &dyn Encryptor,
    key: &str,
) -> Result<Vec<u8>, Error> {
    let name = format!("{key}{}", s3crypt::CLIENT_INSTRUCTION_SUFFIX);
    let instruction = store.get(BUCKET, &name, None).map_err(|_| Error::InvalidRange)?;
    let envelope = Envelope::from_binary(&instruction.body)?;
    let response = store.get(BUCKET, key, plan.range_header().as_deref()).map_err(|_| Error::InvalidRange)?;
    assert!(response.metadata().is_empty(), "the body carries no envelope");
    let mut reader = plan.open(&envelope, response.content_range(), enc, &ObjectId::new(BUCKET, key))?;
    let mut plain = Vec::new();
    reader.update(&response.body, &mut plain)?;
    reader.finish(&mut plain)?;
    Ok(plain)
}

#[test]
fn instruction_files_for_unknown_lengths_and_rekeying_in_place() {
    let kms = local_kms();
    let ring = keyring();
    let mut store = Store::new();
    for (i, len) in lengths(ChunkSize::C2SP).into_iter().enumerate() {
        let msg = pattern(len);
        let key = format!("i{len}");
        put_with_instruction(&mut store, &ring, &key, &msg, 40 + i as u64);
        store.reset_counters();
        assert_eq!(get_with_instruction(&store, &ClientGetPlan::whole(), &ring, &key).unwrap(), msg);
        assert_eq!(store.requests("GetObject"), 2);
        if len > 0 {
            let plan = ClientGetPlan::range(ByteRange::Suffix(10), ChunkSize::C2SP).unwrap();
            let want = ByteRange::Suffix(10).resolve(len as u64).unwrap();
            assert_eq!(
                get_with_instruction(&store, &plan, &ring, &key).unwrap(),
                msg[want.start as usize..want.end as usize]
            );
        }
    }
    // Re-key by replacing the instruction file only: the body is not touched, not even copied.
    let object = ObjectId::new(BUCKET, "i50000");
    let msg = pattern(50_000);
    put_with_instruction(&mut store, &ring, "i50000", &msg, 50);
    let body_before = store.object(BUCKET, "i50000").unwrap().body.clone();
    store.reset_counters();
    let envelope = Envelope::from_binary(&store.get(BUCKET, "i50000.s3crypt", None).unwrap().body).unwrap();
    let kms_key = kms_key(&kms);
    let rekeyed = envelope.reseal((&ring, &object), (&kms_key, &object), &mut TestRng(51)).unwrap();
    let instruction = ClientInstructionPlan::new(&rekeyed, &object).unwrap();
    store.put(BUCKET, "i50000.s3crypt", &instruction.headers(), instruction.body().to_vec()).unwrap();
    assert_eq!((store.requests("PutObject"), store.requests("CopyObject")), (1, 0));
    assert_eq!(store.object(BUCKET, "i50000").unwrap().body, body_before);
    let recovered = ClientKmsKey::for_envelope(&kms, &rekeyed, &kms_settings()).unwrap();
    assert_eq!(get_with_instruction(&store, &ClientGetPlan::whole(), &recovered, "i50000").unwrap(), msg);
    // The keyring no longer opens it.
    assert!(matches!(
        get_with_instruction(&store, &ClientGetPlan::whole(), &ring, "i50000"),
        Err(Error::UnknownKey { .. } | Error::WrongKey)
    ));

    // Hostile: an instruction file beside another body, a body moved with its instruction file,
    // a damaged instruction file.
    put_with_instruction(&mut store, &ring, "other", &msg, 52);
    let theirs = store.object(BUCKET, "other.s3crypt").unwrap().clone();
    store.insert(BUCKET, "i0.s3crypt", theirs.clone());
    assert_eq!(
        get_with_instruction(&store, &ClientGetPlan::whole(), &ring, "i0"),
        Err(Error::Authentication)
    );
    let body = store.object(BUCKET, "other").unwrap().clone();
    store.insert(BUCKET, "moved", body);
    store.insert(BUCKET, "moved.s3crypt", theirs.clone());
    assert_eq!(
        get_with_instruction(&store, &ClientGetPlan::whole(), &ring, "moved"),
        Err(Error::Authentication)
    );
    for at in [0, 5, theirs.body.len() / 2, theirs.body.len() - 1] {
        let mut bad = theirs.clone();
        bad.body[at] ^= 1;
        store.insert(BUCKET, "other.s3crypt", bad);
        assert!(get_with_instruction(&store, &ClientGetPlan::whole(), &ring, "other").is_err(), "byte {at}");
    }
    let mut short = theirs;
    short.body.pop();
    store.insert(BUCKET, "other.s3crypt", short);
    assert!(matches!(
        get_with_instruction(&store, &ClientGetPlan::whole(), &ring, "other"),
        Err(Error::Format(_))
    ));
    // The unknown-length sealer refuses what an envelope cannot hold, and server-side keys.
    let mut rng = TestRng(53);
    assert_eq!(
        ClientBodySealer::new(SealOptions { md5: true, ..SealOptions::default() }, &mut rng).unwrap_err(),
        Error::ClientSide(ClientSideError::SealedAttributes)
    );
    let server = s3crypt::Keyring::new("root", 1, RootKey::from_bytes([1; 32])).unwrap();
    let mut sealer = ClientBodySealer::new(SealOptions::default(), &mut rng).unwrap();
    let mut out = Vec::new();
    sealer.update(b"abc", &mut out).unwrap();
    let before = out.len();
    assert!(matches!(sealer.finish(&mut out, &server, &object, &mut rng), Err(Error::SchemeMismatch { .. })));
    assert_eq!(out.len(), before, "no final chunk without an envelope");
}

/// The local KMS, counting the Decrypt requests that reach it; blocking and async faces.
struct CountingKms {
    kms: LocalKms<TestRng>,
    decrypts: std::cell::Cell<u32>,
}

impl s3crypt::Kms for CountingKms {
    fn generate_data_key(
        &self,
        r: &s3crypt::GenerateDataKeyRequest,
    ) -> Result<s3crypt::GenerateDataKeyResponse, s3crypt::KmsError> {
        self.kms.generate_data_key(r)
    }
    fn decrypt(&self, r: &s3crypt::DecryptRequest) -> Result<s3crypt::KmsDataKey, s3crypt::KmsError> {
        self.decrypts.set(self.decrypts.get() + 1);
        self.kms.decrypt(r)
    }
    fn re_encrypt(
        &self,
        r: &s3crypt::ReEncryptRequest,
    ) -> Result<s3crypt::ReEncryptResponse, s3crypt::KmsError> {
        self.kms.re_encrypt(r)
    }
}

impl s3crypt::AsyncKms for CountingKms {
    fn generate_data_key(
        &self,
        r: &s3crypt::GenerateDataKeyRequest,
    ) -> impl Future<Output = Result<s3crypt::GenerateDataKeyResponse, s3crypt::KmsError>> + Send {
        std::future::ready(s3crypt::Kms::generate_data_key(self, r))
    }
    fn decrypt(
        &self,
        r: &s3crypt::DecryptRequest,
    ) -> impl Future<Output = Result<s3crypt::KmsDataKey, s3crypt::KmsError>> + Send {
        std::future::ready(s3crypt::Kms::decrypt(self, r))
    }
    fn re_encrypt(
        &self,
        r: &s3crypt::ReEncryptRequest,
    ) -> impl Future<Output = Result<s3crypt::ReEncryptResponse, s3crypt::KmsError>> + Send {
        std::future::ready(s3crypt::Kms::re_encrypt(self, r))
    }
}

#[test]
fn no_decrypt_reaches_the_kms_for_a_context_the_reader_does_not_expect() {
    let kms = CountingKms { kms: local_kms(), decrypts: std::cell::Cell::new(0) };
    let settings = ClientKms::new("alias/client", kms_context()).unwrap();
    let request = settings.generate_data_key_request();
    assert_eq!(request.context, kms_context(), "exactly the client's context: no aws:s3:arn");
    let key = block_on(settings.generate_key_async(&kms)).unwrap();
    let mut store = Store::new();
    put(&mut store, &key, "tenant-1/doc", b"tenant one", ChunkSize::C2SP, 60);
    // Another tenant's envelope copied over this object (same client KMS key, other context).
    let other =
        ClientKms::new("alias/client", description(&[("tenant", "t2")])).unwrap().generate_key(&kms).unwrap();
    put(&mut store, &other, "tenant-2/doc", b"tenant two", ChunkSize::C2SP, 61);
    let copied = store.object(BUCKET, "tenant-2/doc").unwrap().clone();
    store.insert(BUCKET, "tenant-1/doc", copied);
    let response = store.get(BUCKET, "tenant-1/doc", None).unwrap();
    let envelope = Envelope::from_metadata(response.metadata()).unwrap();
    for result in [
        ClientKmsKey::for_envelope(&kms, &envelope, &kms_settings()).map(|_| ()),
        block_on(ClientKmsKey::for_envelope_async(&kms, &envelope, &kms_settings())).map(|_| ()),
    ] {
        assert_eq!(result, Err(Error::ClientSide(ClientSideError::ContextMismatch)));
    }
    assert_eq!(kms.decrypts.get(), 0, "refused before any Decrypt");
    // The genuine object, through the async face: one Decrypt.
    put(&mut store, &key, "tenant-1/doc", b"tenant one", ChunkSize::C2SP, 62);
    let response = store.get(BUCKET, "tenant-1/doc", None).unwrap();
    let envelope = Envelope::from_metadata(response.metadata()).unwrap();
    let recovered = block_on(ClientKmsKey::for_envelope_async(&kms, &envelope, &kms_settings())).unwrap();
    assert_eq!(
        read(&ClientGetPlan::whole(), &response, &recovered, "tenant-1/doc", 5).unwrap(),
        b"tenant one"
    );
    assert_eq!(kms.decrypts.get(), 1);
    let printed = format!("{recovered:?}");
    assert!(printed.contains("tenant") && !printed.contains("plaintext"), "{printed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Sealing with random split points gives a body that opens to the plaintext; the declared
    /// length is held whatever the pieces.
    #[test]
    fn random_sealing_split_points(len in 0usize..60_000, cuts in proptest::collection::vec(0usize..60_000, 0..8)) {
        let ring = keyring();
        let object = ObjectId::new(BUCKET, "s");
        let msg = pattern(len);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (len + 1)).collect();
        cuts.push(0);
        cuts.push(len);
        cuts.sort_unstable();
        let mut rng = TestRng(len as u64 + 1);
        let (mut sealer, envelope) =
            ClientSealer::new(SealOptions::default(), len as u64, &ring, &object, &mut rng).unwrap();
        let mut body = Vec::new();
        for w in cuts.windows(2) {
            sealer.update(&msg[w[0]..w[1]], &mut body).unwrap();
        }
        sealer.finish(&mut body).unwrap();
        prop_assert_eq!(body.len() as u64, envelope.body_len().unwrap());
        prop_assert_eq!(common::open_object(&ring, &object, &envelope, &body).unwrap(), msg);
    }
}

/// Seals `msg` for `object` with the data key `key` and the body salt `salt` (a writer that reused
/// its data key: only the object's writer can do this).
fn seal_with_key_and_salt(
    ring: &ClientKeyring,
    object: &ObjectId<'_>,
    msg: &[u8],
    key: u8,
    salt: u8,
) -> (Envelope, Vec<u8>) {
    let mut rng = Replay::new(&[[key; 32].as_slice(), &[salt; 24], &[salt ^ 0xff; 32]].concat());
    let (mut sealer, envelope) =
        ClientSealer::new(SealOptions::default(), msg.len() as u64, ring, object, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(msg, &mut body).unwrap();
    sealer.finish(&mut body).unwrap();
    assert!(rng.exhausted(), "a data key, a body salt and a wrap salt: nothing else is drawn");
    (envelope, body)
}

#[test]
fn every_full_read_checks_the_body_header_against_field_18() {
    // Two bodies under one data key with different salts and contents, the first one's envelope:
    // each body's own commitment verifies, so only field 18 tells them apart.
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "h");
    let msg = pattern(40_000);
    let (envelope, genuine) = seal_with_key_and_salt(&ring, &object, &msg, 0x42, 1);
    let other: Vec<u8> = msg.iter().map(|b| b ^ 0x5a).collect();
    let (_, substituted) = seal_with_key_and_salt(&ring, &object, &other, 0x42, 2);
    assert_ne!(genuine[..HEADER_LEN], substituted[..HEADER_LEN]);
    let key = envelope.open(&ring, &object).unwrap();
    // The streaming opener, fed in any split: nothing of the substituted body is released.
    for split in [1, 24, 55, 56, 57, 16_456, substituted.len()] {
        let (mut opener, mut out) = (key.opener(), Vec::new());
        let (a, b) = substituted.split_at(split);
        let result = opener.update(a, &mut out).and_then(|()| opener.update(b, &mut out));
        assert_eq!(
            result.and_then(|()| opener.finish(&mut out)),
            Err(Error::Authentication),
            "split {split}"
        );
        assert!(out.is_empty(), "split {split}");
    }
    let (mut opener, mut out) = (key.opener(), Vec::new());
    opener.update(&genuine, &mut out).unwrap();
    opener.finish(&mut out).unwrap();
    assert_eq!(out, msg);
    #[cfg(feature = "parallel")]
    {
        assert_eq!(key.open_parallel(&substituted).map(|_| ()), Err(Error::Authentication));
        assert_eq!(key.open_parallel(&genuine).unwrap(), msg);
    }
    // The random-access opener and the GET plan refuse it too.
    assert_eq!(key.chunk_opener(&substituted[..HEADER_LEN]).map(|_| ()), Err(Error::Authentication));
    let mut store = Store::new();
    store.put(BUCKET, "h", ClientPutPlan::new(&envelope).unwrap().headers(), substituted).unwrap();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "h"), Err(Error::Authentication));
}

#[test]
fn the_reader_names_the_kms_key_not_the_envelope() {
    // Someone who can write to the bucket plants an object wrapped under another KMS key the
    // reader's identity may also use, with exactly the context the reader expects.
    let mut kms = local_kms();
    kms.create_key("alias/planted", RootKey::from_bytes([0x99; 32])).unwrap();
    let kms = CountingKms { kms, decrypts: std::cell::Cell::new(0) };
    let planted = ClientKms::new("alias/planted", kms_context()).unwrap().generate_key(&kms).unwrap();
    let mut store = Store::new();
    let envelope = put(&mut store, &planted, "doc", b"forged by a writer", ChunkSize::C2SP, 70);
    assert_eq!(envelope.key_id(), "alias/planted");
    // The Decrypt request names the reader's key, so the KMS refuses the other key's blob.
    let request = ClientKmsKey::decrypt_request(&envelope, &kms_settings()).unwrap();
    assert_eq!(request.key_id, "alias/client");
    for result in [
        ClientKmsKey::for_envelope(&kms, &envelope, &kms_settings()).map(|_| ()),
        block_on(ClientKmsKey::for_envelope_async(&kms, &envelope, &kms_settings())).map(|_| ()),
    ] {
        assert!(matches!(result, Err(Error::Kms(_))), "{result:?}");
    }
    assert_eq!(kms.decrypts.get(), 2);
    // The reader's own key still opens its own objects, and the planted object opens for a reader
    // that names the planted key.
    let key = kms_key(&kms.kms);
    put(&mut store, &key, "mine", b"genuine", ChunkSize::C2SP, 71);
    let mine = Envelope::from_metadata(store.get(BUCKET, "mine", None).unwrap().metadata()).unwrap();
    let recovered = ClientKmsKey::for_envelope(&kms, &mine, &kms_settings()).unwrap();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &recovered, "mine").unwrap(), b"genuine");
    let theirs = ClientKms::new("alias/planted", kms_context()).unwrap();
    let recovered = ClientKmsKey::for_envelope(&kms, &envelope, &theirs).unwrap();
    assert_eq!(get(&store, &ClientGetPlan::whole(), &recovered, "doc").unwrap(), b"forged by a writer");
}

#[test]
fn format_8_3_worked_example() {
    // FORMAT.md §8.3's worked example, number by number.
    let ring = keyring();
    let mut store = Store::new();
    let msg = pattern(40_000);
    let envelope = put(&mut store, &ring, "example", &msg, ChunkSize::C2SP, 80);
    assert_eq!(envelope.body_len().unwrap(), 40_104);
    let key = envelope.open(&ring, &ObjectId::new(BUCKET, "example")).unwrap();
    let chunks = key.chunk_opener(key.body_header().unwrap()).unwrap();
    assert_eq!(chunks.chunk_count(), 3);
    // bytes=20000-30000: chunk 1 only.
    let plan = ClientGetPlan::range(ByteRange::FromTo(20_000, 30_000), ChunkSize::C2SP).unwrap();
    assert_eq!(plan.range_header().as_deref(), Some("bytes=16456-32855"));
    let planned = chunks.plan_range(20_000..30_001).unwrap();
    assert_eq!((planned.first_chunk, planned.chunk_count, planned.skip, planned.len), (1, 1, 3616, 10_001));
    assert_eq!(planned.ciphertext, 16_456..32_856);
    let response = store.get(BUCKET, "example", plan.range_header().as_deref()).unwrap();
    assert_eq!(response.content_range(), Some("bytes 16456-32855/40104"));
    assert_eq!(response.body.len(), 16_400);
    assert_eq!(read(&plan, &response, &ring, "example", 1000).unwrap(), &msg[20_000..=30_000]);
    // bytes=-1000: the final chunk, after 10,167 discarded bytes of chunk 1.
    let plan = ClientGetPlan::range(ByteRange::Suffix(1000), ChunkSize::C2SP).unwrap();
    assert_eq!(plan.range_header().as_deref(), Some("bytes=-17415"));
    let planned = chunks.plan_range(39_000..40_000).unwrap();
    assert_eq!((planned.first_chunk, planned.chunk_count, planned.skip, planned.len), (2, 1, 6232, 1000));
    assert_eq!(planned.ciphertext, 32_856..40_104);
    assert_eq!(32_856 - 22_689, 10_167);
    let response = store.get(BUCKET, "example", plan.range_header().as_deref()).unwrap();
    assert_eq!(response.content_range(), Some("bytes 22689-40103/40104"));
    assert_eq!(read(&plan, &response, &ring, "example", 333).unwrap(), &msg[39_000..]);
}

#[test]
fn range_edge_cases_answer_as_s3_would() {
    let ring = keyring();
    let mut store = Store::new();
    let cs = ChunkSize::C2SP;
    // An empty object: every range selects nothing (RFC 9110: 416), after one GET of its 72 bytes.
    put(&mut store, &ring, "empty", b"", cs, 90);
    for range in
        [ByteRange::FromTo(0, 0), ByteRange::From(0), ByteRange::Suffix(1), ByteRange::Suffix(1 << 40)]
    {
        let plan = ClientGetPlan::range(range, cs).unwrap();
        let response = store.get(BUCKET, "empty", plan.range_header().as_deref()).unwrap();
        assert_eq!(response.status, 206, "{range:?}");
        assert_eq!(read(&plan, &response, &ring, "empty", 5), Err(Error::InvalidRange), "{range:?}");
    }
    assert_eq!(get(&store, &ClientGetPlan::whole(), &ring, "empty").unwrap(), b"");
    // Past the end: inside the last stored chunk (S3 answers, the reader says 416), or beyond the
    // stored object (S3 itself answers 416).
    let msg = pattern(40_000);
    put(&mut store, &ring, "p", &msg, cs, 91);
    for range in [ByteRange::FromTo(40_000, 40_010), ByteRange::From(40_000)] {
        let plan = ClientGetPlan::range(range, cs).unwrap();
        let response = store.get(BUCKET, "p", plan.range_header().as_deref()).unwrap();
        assert_eq!(response.status, 206);
        assert_eq!(read(&plan, &response, &ring, "p", 5), Err(Error::InvalidRange), "{range:?}");
    }
    let plan = ClientGetPlan::range(ByteRange::From(50_000), cs).unwrap();
    assert_eq!(plan.range_header().as_deref(), Some("bytes=49256-"));
    assert_eq!(store.get(BUCKET, "p", plan.range_header().as_deref()).unwrap_err().status, 416);
    // A 416's `Content-Range: bytes */40104` is not an answer to read.
    let envelope = Envelope::from_metadata(store.head(BUCKET, "p").unwrap().metadata()).unwrap();
    let object = ObjectId::new(BUCKET, "p");
    assert_eq!(
        plan.open(&envelope, Some("bytes */40104"), &ring, &object).map(|_| ()),
        Err(Error::ClientSide(ClientSideError::ContentRange))
    );
    // A length that is an exact multiple of the chunk size: its final chunk is empty.
    let full = pattern(16_384);
    put(&mut store, &ring, "full", &full, cs, 92);
    let plan = ClientGetPlan::range(ByteRange::From(16_384), cs).unwrap();
    let response = store.get(BUCKET, "full", plan.range_header().as_deref()).unwrap();
    assert_eq!(response.content_range(), Some("bytes 16456-16471/16472"));
    assert_eq!(read(&plan, &response, &ring, "full", 5), Err(Error::InvalidRange));
    let plan = ClientGetPlan::range(ByteRange::Suffix(1), cs).unwrap();
    assert_eq!(get(&store, &plan, &ring, "full").unwrap(), &full[16_383..]);
    // A store that ignores `Range` (200, the whole body, no Content-Range): still exact.
    let plan = ClientGetPlan::range(ByteRange::FromTo(20_000, 30_000), cs).unwrap();
    let whole = store.get(BUCKET, "p", None).unwrap();
    let mut reader = plan.open(&envelope, None, &ring, &object).unwrap();
    let mut out = Vec::new();
    for piece in whole.body.chunks(777) {
        reader.update(piece, &mut out).unwrap();
    }
    reader.finish(&mut out).unwrap();
    assert_eq!(out, &msg[20_000..=30_000]);
    // A 206 read as if it were a 200 (the Content-Range forgotten) fails closed: its first bytes
    // are not the stream header.
    let ranged = store.get(BUCKET, "p", plan.range_header().as_deref()).unwrap();
    let mut reader = plan.open(&envelope, None, &ring, &object).unwrap();
    assert_eq!(reader.update(&ranged.body, &mut out), Err(Error::Authentication));
}

/// Feeds `body` to `reader` in pieces of `piece` bytes, stopping at the first error; returns the
/// plaintext released so far and the error (`None` if the whole response read).
fn feed_until_error(
    mut reader: s3crypt::ClientGetBody,
    body: &[u8],
    piece: usize,
) -> (Vec<u8>, Option<Error>) {
    let mut out = Vec::new();
    for p in body.chunks(piece.max(1)) {
        if let Err(e) = reader.update(p, &mut out) {
            return (out, Some(e));
        }
    }
    let e = reader.finish(&mut out).err();
    (out, e)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Nothing of a chunk that fails is ever released, whatever the split of the response: a whole
    /// read releases exactly the chunks before the damaged one, a ranged read exactly the requested
    /// bytes before it.
    #[test]
    fn a_damaged_chunk_releases_nothing_of_itself(
        at in 0usize..(56 + 4 * 16_400),
        range in (0u64..49_652, 0u64..60_000).prop_map(|(a, b)| (a.min(b), a.max(b))),
        piece in 1usize..20_000,
    ) {
        let cs = ChunkSize::C2SP;
        let (c, s) = (16_384usize, 16_400usize);
        let ring = keyring();
        let mut store = Store::new();
        let msg = pattern(3 * c + 500);
        put(&mut store, &ring, "d", &msg, cs, 100);
        let mut body = store.object(BUCKET, "d").unwrap().body.clone();
        let at = at % body.len();
        body[at] ^= 0x01;
        store.object_mut(BUCKET, "d").unwrap().body = body;
        let object = ObjectId::new(BUCKET, "d");
        // Whole: the chunks before the damaged one (none if the header is damaged).
        let response = store.get(BUCKET, "d", None).unwrap();
        let envelope = Envelope::from_metadata(response.metadata()).unwrap();
        let reader = ClientGetPlan::whole().open(&envelope, None, &ring, &object).unwrap();
        let (out, e) = feed_until_error(reader, &response.body, piece);
        prop_assert_eq!(e, Some(Error::Authentication));
        let bad_chunk = at.checked_sub(HEADER_LEN).map(|x| x / s);
        let released = bad_chunk.map_or(0, |k| k * c);
        prop_assert_eq!(&out[..], &msg[..released]);
        // Ranged: the requested bytes before the damaged chunk, if it is among those fetched.
        let (a, b) = range;
        let plan = ClientGetPlan::range(ByteRange::FromTo(a, b), cs).unwrap();
        let response = store.get(BUCKET, "d", plan.range_header().as_deref()).unwrap();
        let reader = plan.open(&envelope, response.content_range(), &ring, &object).unwrap();
        let (out, e) = feed_until_error(reader, &response.body, piece);
        let (a, end) = (a as usize, (b as usize + 1).min(msg.len()));
        let fetched = (a / c)..=((end - 1) / c);
        match bad_chunk.filter(|k| fetched.contains(k)) {
            Some(k) => {
                prop_assert_eq!(e, Some(Error::Authentication));
                prop_assert_eq!(&out[..], &msg[a..(k * c).clamp(a, end)]);
            }
            None => {
                prop_assert_eq!(e, None);
                prop_assert_eq!(&out[..], &msg[a..end]);
            }
        }
    }
}

/// A client-side object may not be named like one of s3crypt's side objects (an instruction file or
/// a multipart companion): writing it would overwrite another object's. Refused by every way of
/// writing one — a PUT, an unknown-length body, the destination of a copy — before anything is sealed.
#[test]
fn side_object_names_are_reserved() {
    let ring = keyring();
    for key in ["photo.jpg.s3crypt", "video.mp4.s3crypt-parts"] {
        let object = ObjectId::new("bucket", key);
        let refused = ClientSealer::new(SealOptions::default(), 3, &ring, &object, &mut TestRng(1));
        assert_eq!(refused.map(|_| ()).unwrap_err(), Error::ReservedKey, "{key}");
        let mut body = Vec::new();
        let mut sealer = ClientBodySealer::new(SealOptions::default(), &mut TestRng(2)).unwrap();
        sealer.update(b"abc", &mut body).unwrap();
        let refused = sealer.finish(&mut body, &ring, &object, &mut TestRng(3));
        assert_eq!(refused.unwrap_err(), Error::ReservedKey, "{key}");
        let source = ObjectId::new("bucket", "plain-name");
        let (_, envelope) =
            ClientSealer::new(SealOptions::default(), 0, &ring, &source, &mut TestRng(4)).unwrap();
        let refused = ClientCopyPlan::new(&envelope, (&ring, &source), (&ring, &object), &mut TestRng(5));
        assert_eq!(refused.unwrap_err(), Error::ReservedKey, "{key}");
    }
    // Names that merely contain the suffixes are objects like any other.
    let object = ObjectId::new("bucket", "notes.s3crypt.txt");
    assert!(ClientSealer::new(SealOptions::default(), 3, &ring, &object, &mut TestRng(6)).is_ok());
}
