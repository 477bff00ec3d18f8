//! AWS S3 Encryption Client compatibility: every object AWS's Python client wrote
//! (tests/s3ec/vectors, made by tests/s3ec/make_vectors.py) decrypts, by every read path; s3crypt's
//! own V2/V3 objects round-trip; and every hostile edit fails closed with the right error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod common;

use base64ct::{Base64, Encoding};
use common::TestRng;
use common::s3ec_vectors::{self, StubKms, string_map, unhex};
use s3crypt::{
    CommitmentPolicy, DecryptRequest, EncryptionContext, Error, GenerateDataKeyRequest,
    GenerateDataKeyResponse, Kms, KmsDataKey, KmsError, LocalKms, ReEncryptRequest, ReEncryptResponse,
    RootKey, S3ecAesKey, S3ecDataKey, S3ecEnvelope, S3ecError, S3ecFormat, S3ecMetadata, S3ecOptions,
    S3ecSealer, S3ecWrap,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    s3ec_vectors::dir("vectors")
}

/// One object AWS's client wrote, with what the reader needs.
#[derive(Clone)]
struct Vector {
    name: String,
    version: u8,
    wrap: String,
    metadata: Vec<(String, String)>,
    instruction: Option<String>,
    body: Vec<u8>,
    plaintext: Vec<u8>,
    context: EncryptionContext,
    kms: Option<StubKms>,
    aes_key: Option<[u8; 32]>,
}

fn load(path: &Path) -> Vector {
    let desc = s3ec_vectors::read_description(path);
    let mut context = EncryptionContext::new();
    if let Some(c) = desc["context"].as_object() {
        for (k, v) in c {
            context.insert(k, v.as_str().unwrap()).unwrap();
        }
    }
    Vector {
        name: desc["name"].as_str().unwrap().to_owned(),
        version: desc["version"].as_u64().unwrap() as u8,
        wrap: desc["wrap"].as_str().unwrap().to_owned(),
        metadata: string_map(&desc["metadata"]).into_iter().collect(),
        instruction: desc["instruction"].as_str().map(str::to_owned),
        body: s3ec_vectors::body(path, &desc),
        plaintext: s3ec_vectors::described_plaintext(&desc["plaintext"]),
        context,
        kms: desc["kms"].is_object().then(|| StubKms::from_description(&desc["kms"])),
        aes_key: desc["aes_key"].as_str().map(|h| unhex(h).try_into().unwrap()),
    }
}

fn all_vectors() -> Vec<Vector> {
    s3ec_vectors::descriptions(&vectors_dir()).iter().map(|p| load(p)).collect()
}

fn vector(name: &str) -> Vector {
    load(&vectors_dir().join(format!("{name}.json")))
}

/// Options that read both formats (V2 needs a policy that allows non-committing objects).
fn reader() -> S3ecOptions {
    S3ecOptions::new().with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
}

fn pairs(v: &Vector) -> impl Iterator<Item = (&str, &str)> {
    v.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

fn envelope(v: &Vector, options: &S3ecOptions) -> Result<S3ecEnvelope, Error> {
    match &v.instruction {
        None => match S3ecEnvelope::from_metadata(pairs(v), options)? {
            S3ecMetadata::Envelope(e) => Ok(e),
            S3ecMetadata::InstructionFile => panic!("{}: asked for an instruction file", v.name),
        },
        Some(file) => {
            assert_eq!(
                S3ecEnvelope::from_metadata(pairs(v), options)?,
                S3ecMetadata::InstructionFile,
                "{}",
                v.name
            );
            S3ecEnvelope::from_instruction_file(pairs(v), file.as_bytes(), options)
        }
    }
}

fn data_key(v: &Vector, e: &S3ecEnvelope) -> Result<S3ecDataKey, Error> {
    match (&v.kms, v.aes_key) {
        (Some(kms), _) => e.unwrap_kms(kms, &kms.key_id, &v.context),
        (None, Some(key)) => e.unwrap_aes(&S3ecAesKey::from_bytes(key)),
        _ => unreachable!(),
    }
}

/// Reads a vector: envelope, data key, buffered open.
fn read(v: &Vector, options: &S3ecOptions) -> Result<Vec<u8>, Error> {
    let e = envelope(v, options)?;
    let key = data_key(v, &e)?;
    e.opener(&key, options)?.open(&v.body)
}

#[test]
fn every_aws_vector_decrypts() {
    let vectors = all_vectors();
    assert_eq!(vectors.len(), 56, "the committed set");
    let mut seen = BTreeMap::new();
    for v in &vectors {
        let e = envelope(v, &reader()).unwrap();
        assert_eq!(e.format(), if v.version == 2 { S3ecFormat::V2 } else { S3ecFormat::V3 }, "{}", v.name);
        let wrap = if v.wrap == "AES/GCM" { S3ecWrap::AesGcm } else { S3ecWrap::KmsContext };
        assert_eq!(e.wrap(), wrap, "{}", v.name);
        assert_eq!(read(v, &reader()).unwrap(), v.plaintext, "{}", v.name);
        *seen.entry((v.version, v.wrap.clone(), v.plaintext.len())).or_insert(0) += 1;
    }
    // V2 and V3 × both wraps × every size.
    for version in [2, 3] {
        for wrap in ["AES/GCM", "kms+context"] {
            for size in [0, 1, 15, 16, 17, (1 << 20) + 3] {
                assert!(
                    seen.contains_key(&(version, wrap.to_owned(), size)),
                    "missing v{version} {wrap} {size}"
                );
            }
        }
    }
}

#[test]
fn v3_vectors_decrypt_under_the_default_policy_and_v2_ones_are_refused() {
    for v in all_vectors() {
        let result = read(&v, &S3ecOptions::default());
        if v.version == 3 {
            assert_eq!(result.unwrap(), v.plaintext, "{}", v.name);
        } else {
            assert_eq!(
                result.unwrap_err(),
                Error::S3ec(S3ecError::CommitmentPolicy("REQUIRE_ENCRYPT_REQUIRE_DECRYPT")),
                "{}",
                v.name
            );
        }
    }
}

#[test]
fn every_read_path_agrees() {
    let streaming = reader().enable_delayed_authentication(true).enable_legacy_unauthenticated_modes(true);
    for v in all_vectors() {
        let e = envelope(&v, &streaming).unwrap();
        let key = data_key(&v, &e).unwrap();
        let opener = e.opener(&key, &streaming).unwrap();
        // Buffered, fed in pieces.
        let mut buffered = e.opener(&key, &streaming).unwrap().buffered();
        for piece in v.body.chunks(7000) {
            buffered.push(piece).unwrap();
        }
        assert_eq!(buffered.finish().unwrap(), v.plaintext, "{}", v.name);
        // Delayed authentication, with pieces of awkward sizes.
        for step in [1usize, 5, 16, 17, 4099] {
            if step < 16 && v.body.len() > 4096 {
                continue;
            }
            let mut delayed = e.opener(&key, &streaming).unwrap().delayed().unwrap();
            let mut out = Vec::new();
            for piece in v.body.chunks(step) {
                delayed.update(piece, &mut out).unwrap();
            }
            delayed.finish().unwrap();
            assert_eq!(out, v.plaintext, "{} step {step}", v.name);
        }
        // Ranged reads (AES-CTR, unauthenticated): what to fetch, then the plaintext slice.
        let n = v.plaintext.len() as u64;
        if n == 0 {
            assert_eq!(opener.range(0, 0, v.body.len() as u64).unwrap_err(), Error::InvalidRange);
            continue;
        }
        for (first, last) in [(0, 0), (0, n - 1), (n - 1, n - 1), (n / 2, n + 100), (n / 3, n / 3 + 40)] {
            let first = first.min(n - 1);
            let range = opener.range(first, last, v.body.len() as u64).unwrap();
            assert_eq!(range.fetch_first() % 16, 0);
            assert!(range.fetch_last() < n, "never fetches the tag");
            let fetched = &v.body[range.fetch_first() as usize..=range.fetch_last() as usize];
            let got = opener.open_range(&range, fetched).unwrap();
            let last = last.min(n - 1);
            assert_eq!(got, v.plaintext[first as usize..=last as usize], "{} {first}-{last}", v.name);
            assert_eq!(range.header(), format!("bytes={}-{}", range.fetch_first(), range.fetch_last()));
        }
    }
}

#[test]
fn metadata_names_as_s3_sends_them() {
    // Full header names with S3's prefix, in another case, among unrelated metadata.
    let v = vector("v3-kms-17-ascii");
    let mut w = v.clone();
    w.metadata =
        v.metadata.iter().map(|(k, v)| (format!("X-Amz-Meta-{}", k.to_uppercase()), v.clone())).collect();
    w.metadata.push(("x-amz-meta-owner".into(), "me".into()));
    assert_eq!(read(&w, &reader()).unwrap(), v.plaintext);
    // The same key twice (two spellings) is refused.
    w.metadata.push(("x-amz-c".into(), "115".into()));
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::DuplicateKey("x-amz-c")));
}

#[test]
fn rfc2047_encoded_contexts_decode() {
    let names: Vec<String> =
        all_vectors().into_iter().filter(|v| v.name.ends_with("-rfc2047")).map(|v| v.name).collect();
    assert_eq!(names.len(), 4);
    for name in names {
        let v = vector(&name);
        assert!(v.metadata.iter().any(|(_, value)| value.starts_with("=?UTF-8?B?")));
        assert_eq!(read(&v, &reader()).unwrap(), v.plaintext, "{name}");
    }
}

// ---- s3crypt writes, s3crypt reads ----

fn local_kms() -> LocalKms<TestRng> {
    let mut kms = LocalKms::new(TestRng(7));
    kms.create_key("s3ec-key", RootKey::from_bytes([0x11; 32])).unwrap();
    kms
}

fn context() -> EncryptionContext {
    let mut c = EncryptionContext::new();
    c.insert("tenant", "t1").unwrap();
    c.insert("名前", "値 🔐").unwrap();
    c
}

/// `e` written out as metadata pairs and as an instruction file, read back each way: both equal
/// `e` (returned in that order).
fn reparse(e: &S3ecEnvelope, options: &S3ecOptions) -> (S3ecEnvelope, S3ecEnvelope) {
    let meta = e.to_metadata();
    let S3ecMetadata::Envelope(parsed) =
        S3ecEnvelope::from_metadata(meta.iter().map(|(k, v)| (*k, v.as_str())), options).unwrap()
    else {
        panic!("the envelope is in the metadata")
    };
    assert_eq!(&parsed, e);
    let (on_object, file) = e.to_instruction_file();
    let from_file = S3ecEnvelope::from_instruction_file(
        on_object.iter().map(|(k, v)| (*k, v.as_str())),
        file.as_bytes(),
        options,
    )
    .unwrap();
    assert_eq!(&from_file, e);
    (parsed, from_file)
}

#[test]
fn own_objects_round_trip_in_both_formats_and_wraps() {
    let kms = local_kms();
    let aes = S3ecAesKey::from_bytes([0x42; 32]);
    let mut rng = TestRng(1);
    for policy in
        [CommitmentPolicy::ForbidEncryptAllowDecrypt, CommitmentPolicy::RequireEncryptRequireDecrypt]
    {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        let read_options = reader().enable_delayed_authentication(true);
        for len in [0usize, 1, 15, 16, 17, 4096, 100_003] {
            let plain = common::pattern(len);
            for kms_wrap in [false, true] {
                let sealer = if kms_wrap {
                    S3ecSealer::with_kms(&kms, "s3ec-key", &context(), &options, &mut rng).unwrap()
                } else {
                    S3ecSealer::aes(&aes, context(), &options, &mut rng).unwrap()
                };
                assert_eq!(sealer.envelope().format(), policy.encrypt_format());
                let (e, body) = sealer.seal(&plain).unwrap();
                assert_eq!(body.len() as u64, S3ecSealer::body_len(len as u64).unwrap());
                // Through metadata pairs, and through an instruction file.
                assert!(e.to_metadata().iter().all(|(_, v)| v.is_ascii()), "header values are ASCII");
                let (parsed, _) = reparse(&e, &read_options);
                let key = if kms_wrap {
                    parsed.unwrap_kms(&kms, "s3ec-key", &context()).unwrap()
                } else {
                    parsed.unwrap_aes(&aes).unwrap()
                };
                assert_eq!(parsed.opener(&key, &read_options).unwrap().open(&body).unwrap(), plain);
            }
        }
    }
}

/// A context or material description as long as `EncryptionContext` allows, in characters JSON
/// escapes as `\uXXXX` (s3crypt's own `x-amz-m` / `x-amz-t`, and AWS's Python client's `ensure_ascii`
/// JSON): up to three times its canonical length. What s3crypt writes, it reads back.
#[test]
fn long_non_ascii_descriptions_read_back() {
    let kms = local_kms();
    let aes = S3ecAesKey::from_bytes([0x42; 32]);
    let mut rng = TestRng(3);
    let mut long = EncryptionContext::new();
    // 2-byte UTF-8 characters become 6-byte escapes: 8 + 2·480 bytes canonical, 8 + 6·480 escaped.
    long.insert("k", &"é".repeat(480)).unwrap();
    let mut with_room = EncryptionContext::new();
    // Room for the reserved aws:x-amz-cek-alg entry the KMS wrap adds.
    with_room.insert("k", &"é".repeat(450)).unwrap();
    for policy in
        [CommitmentPolicy::ForbidEncryptAllowDecrypt, CommitmentPolicy::RequireEncryptRequireDecrypt]
    {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        for kms_wrap in [false, true] {
            let (sealer, context) = if kms_wrap {
                (S3ecSealer::with_kms(&kms, "s3ec-key", &with_room, &options, &mut rng).unwrap(), &with_room)
            } else {
                (S3ecSealer::aes(&aes, long.clone(), &options, &mut rng).unwrap(), &long)
            };
            let (e, body) = sealer.seal(b"abc").unwrap();
            assert!(e.to_metadata().iter().any(|(_, v)| v.len() > 2048), "the escaped form is the long one");
            let (_, from_file) = reparse(&e, &reader());
            let key = if kms_wrap {
                from_file.unwrap_kms(&kms, "s3ec-key", context).unwrap()
            } else {
                from_file.unwrap_aes(&aes).unwrap()
            };
            assert_eq!(from_file.opener(&key, &reader()).unwrap().open(&body).unwrap(), b"abc");
        }
    }
}

/// Every metadata value s3crypt writes is a valid HTTP field value (visible ASCII and spaces), so
/// no HTTP library drops or refuses it: JSON leaves DEL (0x7F) and non-ASCII unescaped, s3crypt
/// escapes both.
#[test]
fn metadata_values_are_valid_header_values() {
    let mut description = EncryptionContext::new();
    description.insert("del\u{7f}", "a\u{7f}b\té\r\n🔐").unwrap();
    let mut rng = TestRng(5);
    for policy in
        [CommitmentPolicy::ForbidEncryptAllowDecrypt, CommitmentPolicy::RequireEncryptRequireDecrypt]
    {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        let sealer =
            S3ecSealer::aes(&S3ecAesKey::from_bytes([1; 32]), description.clone(), &options, &mut rng)
                .unwrap();
        let (e, _) = sealer.seal(b"").unwrap();
        let meta = e.to_metadata();
        for (name, value) in &meta {
            assert!(value.bytes().all(|b| (0x20..0x7f).contains(&b)), "{name}: {value:?}");
            assert!(http::HeaderValue::from_str(value).is_ok(), "{name}: {value:?}");
        }
        let S3ecMetadata::Envelope(parsed) =
            S3ecEnvelope::from_metadata(meta.iter().map(|(k, v)| (*k, v.as_str())), &reader()).unwrap()
        else {
            panic!()
        };
        assert_eq!(parsed.description(), &description);
    }
}

/// An algorithm name storage wrote is repeated in the error only up to `ECHO_MAX` characters, as
/// for s3crypt's own envelope: errors are logged and returned to clients.
#[test]
fn errors_repeat_a_bounded_piece_of_what_storage_holds() {
    let huge = "A".repeat(8000);
    let unsupported = |v: &Vector, key: &str| {
        let w = edit(v, |m| {
            m.insert(key.into(), huge.clone());
        });
        match read(&w, &reader()).unwrap_err() {
            Error::S3ec(S3ecError::Unsupported(name)) => name,
            e => panic!("{key}: {e:?}"),
        }
    };
    let v2 = vector("v2-aes-17-ascii");
    let v3 = vector("v3-aes-17-ascii");
    assert_eq!(unsupported(&v2, "x-amz-cek-alg"), "A".repeat(s3crypt::ECHO_MAX));
    assert_eq!(unsupported(&v2, "x-amz-wrap-alg"), "A".repeat(s3crypt::ECHO_MAX));
    assert_eq!(unsupported(&v3, "x-amz-c"), format!("x-amz-c {}", "A".repeat(s3crypt::ECHO_MAX)));
    assert_eq!(unsupported(&v3, "x-amz-w"), format!("x-amz-w {}", "A".repeat(s3crypt::ECHO_MAX)));
}

#[test]
fn streaming_seal_equals_one_shot_shape_and_reads_back() {
    let aes = S3ecAesKey::from_bytes([0x42; 32]);
    let options = S3ecOptions::new();
    let plain = common::pattern(70_001);
    for step in [1usize, 15, 16, 17, 4096, 70_001] {
        let mut sealer =
            S3ecSealer::aes(&aes, EncryptionContext::new(), &options, &mut TestRng(step as u64)).unwrap();
        let mut body = Vec::new();
        for piece in plain.chunks(step) {
            sealer.update(piece, &mut body).unwrap();
        }
        let e = sealer.finish(&mut body);
        let key = e.unwrap_aes(&aes).unwrap();
        assert_eq!(e.opener(&key, &options).unwrap().open(&body).unwrap(), plain, "step {step}");
    }
}

#[test]
fn fresh_keys_and_nonces_per_object() {
    let aes = S3ecAesKey::from_bytes([0x42; 32]);
    let mut rng = TestRng(9);
    for policy in
        [CommitmentPolicy::ForbidEncryptAllowDecrypt, CommitmentPolicy::RequireEncryptRequireDecrypt]
    {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        let a = S3ecSealer::aes(&aes, EncryptionContext::new(), &options, &mut rng)
            .unwrap()
            .seal(b"same")
            .unwrap();
        let b = S3ecSealer::aes(&aes, EncryptionContext::new(), &options, &mut rng)
            .unwrap()
            .seal(b"same")
            .unwrap();
        assert_ne!(a.0.to_metadata(), b.0.to_metadata());
        assert_ne!(a.1, b.1);
    }
}

/// S3EC multipart writing, as AWS's Java client does it: one GCM stream cut into parts in order,
/// the tag at the end of the last part. Parts are sealed in order but upload in any order, and a
/// retried part resends the bytes already sealed: sealing other plaintext for the same part would
/// reuse the keystream, and the API cannot do it (the stream has moved on, and a new sealer draws a
/// new data key). Readers see one ordinary object.
#[test]
fn multipart_upload_is_the_stream_cut_into_parts() {
    use common::store::Store;
    let aes = S3ecAesKey::from_bytes([0x42; 32]);
    for policy in
        [CommitmentPolicy::ForbidEncryptAllowDecrypt, CommitmentPolicy::RequireEncryptRequireDecrypt]
    {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        let plain = common::pattern(3 * 5000 + 17);
        let mut sealer = S3ecSealer::aes(&aes, EncryptionContext::new(), &options, &mut TestRng(5)).unwrap();
        let headers: Vec<(String, String)> = sealer
            .envelope()
            .to_metadata()
            .into_iter()
            .map(|(k, v)| (format!("x-amz-meta-{k}"), v))
            .collect();
        let mut store = Store::new();
        store.set_min_part_size(5000);
        let upload = store.create_multipart_upload("b", "k", &headers).unwrap();
        let mut parts: Vec<Vec<u8>> = plain
            .chunks(5000)
            .map(|piece| {
                let mut part = Vec::new();
                sealer.update(piece, &mut part).unwrap();
                part
            })
            .collect();
        let last = parts.len() - 1;
        let envelope = sealer.finish(&mut parts[last]);
        assert_eq!(
            parts.iter().map(Vec::len).sum::<usize>() as u64,
            S3ecSealer::body_len(plain.len() as u64).unwrap()
        );
        let mut etags = vec![String::new(); parts.len()];
        for i in (0..parts.len()).rev() {
            let number = u32::try_from(i + 1).unwrap();
            etags[i] = store.upload_part(upload, number, parts[i].len() as u64, parts[i].clone()).unwrap();
        }
        // Part 2 retried: the same sealed bytes, the same ETag.
        assert_eq!(store.upload_part(upload, 2, parts[1].len() as u64, parts[1].clone()).unwrap(), etags[1]);
        let list: Vec<(u32, String)> = (1..).zip(etags).collect();
        store.complete_multipart_upload(upload, &list).unwrap();

        let object = store.get("b", "k", None).unwrap();
        let meta = object.metadata();
        let S3ecMetadata::Envelope(read) =
            S3ecEnvelope::from_metadata(meta.iter().map(|(k, v)| (k.as_str(), v.as_str())), &reader())
                .unwrap()
        else {
            panic!("the envelope is in the object's metadata");
        };
        assert_eq!(read, envelope);
        let key = read.unwrap_aes(&aes).unwrap();
        assert_eq!(read.opener(&key, &reader()).unwrap().open(&object.body).unwrap(), plain, "{policy:?}");
        // The parts out of order are a different object: it does not authenticate.
        let mut swapped = object.body.clone();
        swapped[..5000].copy_from_slice(&parts[1][..5000]);
        swapped[5000..10_000].copy_from_slice(&parts[0][..5000]);
        assert_eq!(read.opener(&key, &reader()).unwrap().open(&swapped).unwrap_err(), Error::Authentication);
    }
}

/// A generator stuck at zero is broken: the sealer says so ([`Error::Rng`]) instead of drawing
/// until it gets an IV or message id readers accept, which would never end.
#[test]
fn a_generator_stuck_at_zero_is_an_error_not_a_hang() {
    struct Zeros;
    impl rand_core::TryRng for Zeros {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Zeros {}
    let aes = S3ecAesKey::from_bytes([0x42; 32]);
    for policy in
        [CommitmentPolicy::ForbidEncryptAllowDecrypt, CommitmentPolicy::RequireEncryptRequireDecrypt]
    {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        let err = S3ecSealer::aes(&aes, EncryptionContext::new(), &options, &mut Zeros).unwrap_err();
        assert_eq!(err, Error::Rng, "{policy:?}");
    }
}

// ---- hostile cases ----

fn edit(v: &Vector, f: impl Fn(&mut BTreeMap<String, String>)) -> Vector {
    let mut map: BTreeMap<String, String> = v.metadata.iter().cloned().collect();
    f(&mut map);
    let mut w = v.clone();
    w.metadata = map.into_iter().collect();
    w
}

fn flip_b64(value: &str, byte: usize) -> String {
    let mut bytes = Base64::decode_vec(value).unwrap();
    bytes[byte] ^= 1;
    Base64::encode_string(&bytes)
}

#[test]
fn v3_headers_injected_into_a_v2_object_are_refused() {
    let v3 = vector("v3-kms-17-ascii");
    let v3_meta: BTreeMap<String, String> = v3.metadata.iter().cloned().collect();
    for v2 in [vector("v2-kms-17-ascii"), vector("v2-aes-17-ascii")] {
        for key in ["x-amz-c", "x-amz-d", "x-amz-i", "x-amz-w", "x-amz-t"] {
            let w = edit(&v2, |m| {
                m.insert(key.into(), v3_meta[key].clone());
            });
            assert_eq!(
                read(&w, &reader()).unwrap_err(),
                Error::S3ec(S3ecError::MixedFormats),
                "{key} into {}",
                v2.name
            );
        }
    }
    // And V2 keys beside a V3 envelope, or V2 keys smuggled in through the instruction file.
    let w = edit(&v3, |m| {
        m.insert("x-amz-iv".into(), "AAAAAAAAAAAAAAAA".into());
    });
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::MixedFormats));
    let v2 = vector("v2-kms-17-ascii");
    let mut smuggled = vector("v3-kms-17-ascii-instr");
    smuggled.instruction =
        Some(serde_json::to_string(&v2.metadata.iter().cloned().collect::<BTreeMap<_, _>>()).unwrap());
    assert_eq!(read(&smuggled, &reader()).unwrap_err(), Error::S3ec(S3ecError::MixedFormats));
}

#[test]
fn commitment_flipped_and_message_id_swapped_fail_authentication() {
    for name in ["v3-kms-17-ascii", "v3-aes-17-ascii", "v3-aes-1048579-ascii"] {
        let v = vector(name);
        for byte in [0, 13, 27] {
            let w = edit(&v, |m| {
                let d = flip_b64(&m["x-amz-d"], byte);
                m.insert("x-amz-d".into(), d);
            });
            assert_eq!(read(&w, &reader()).unwrap_err(), Error::Authentication, "{name} x-amz-d byte {byte}");
        }
        let other = vector(if name.contains("kms") { "v3-kms-16-ascii" } else { "v3-aes-16-ascii" });
        let other_id = other.metadata.iter().find(|(k, _)| k == "x-amz-i").unwrap().1.clone();
        let w = edit(&v, |m| {
            m.insert("x-amz-i".into(), other_id.clone());
        });
        assert_eq!(read(&w, &reader()).unwrap_err(), Error::Authentication, "{name} message id swapped");
        // Swapping both the message id and the commitment of another object is caught by the tag.
        let other_d = other.metadata.iter().find(|(k, _)| k == "x-amz-d").unwrap().1.clone();
        let w = edit(&v, |m| {
            m.insert("x-amz-i".into(), other_id.clone());
            m.insert("x-amz-d".into(), other_d.clone());
        });
        assert_eq!(
            read(&w, &reader()).unwrap_err(),
            Error::Authentication,
            "{name} id and commitment swapped"
        );
    }
    // The commitment is checked before the content key is derived and before any body byte.
    let v = vector("v3-aes-17-ascii");
    let w = edit(&v, |m| {
        let d = flip_b64(&m["x-amz-d"], 5);
        m.insert("x-amz-d".into(), d);
    });
    let e = envelope(&w, &reader()).unwrap();
    let key = data_key(&w, &e).unwrap();
    assert_eq!(e.opener(&key, &reader()).unwrap_err(), Error::Authentication);
}

#[test]
fn wrap_algorithm_relabelled() {
    let aes = vector("v3-aes-17-ascii");
    let kms = vector("v3-kms-17-ascii");
    // A KMS object labelled AES/GCM: the AES key refuses the blob.
    let w = edit(&kms, |m| {
        m.insert("x-amz-w".into(), "02".into());
        let t = m.remove("x-amz-t").unwrap();
        m.insert("x-amz-m".into(), t);
    });
    let e = envelope(&w, &reader()).unwrap();
    assert!(matches!(
        e.unwrap_aes(&S3ecAesKey::from_bytes(aes.aes_key.unwrap())),
        Err(Error::S3ec(S3ecError::InvalidValue(_)) | Error::Authentication)
    ));
    // An AES object labelled kms+context: no context binding the content algorithm, refused before
    // the KMS is asked.
    let w = edit(&aes, |m| {
        m.insert("x-amz-w".into(), "12".into());
    });
    let e = envelope(&w, &reader()).unwrap();
    assert_eq!(
        e.kms_decrypt_request("k", &EncryptionContext::new()).unwrap_err(),
        Error::S3ec(S3ecError::ContextMismatch)
    );
    // The wrong key type for the label.
    assert_eq!(
        envelope(&aes, &reader()).unwrap().kms_decrypt_request("k", &EncryptionContext::new()).unwrap_err(),
        Error::S3ec(S3ecError::UnsupportedWrap("AES/GCM"))
    );
    // Unknown and legacy codes.
    let w = edit(&aes, |m| {
        m.insert("x-amz-w".into(), "32".into());
    });
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::Unsupported("x-amz-w 32".into())));
    let v2 = vector("v2-kms-17-ascii");
    let opted = reader().enable_legacy_wrapping_algorithms(true);
    for (legacy, opted_error) in [
        // A kms+context object relabelled as the legacy `kms`: its stored context holds the reserved
        // aws:x-amz-cek-alg and the caller presents a context, so it is refused before the KMS.
        ("kms", S3ecError::ContextMismatch),
        // Relabelled AESWrap: the caller's KMS key is not the key this label asks for.
        ("AESWrap", S3ecError::UnsupportedWrap("AESWrap")),
        // Recognised, not implemented.
        (
            "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
            S3ecError::Unsupported("RSA/ECB/OAEPWithSHA-256AndMGF1Padding".into()),
        ),
    ] {
        let w = edit(&v2, |m| {
            m.insert("x-amz-wrap-alg".into(), legacy.into());
        });
        assert_eq!(
            read(&w, &reader()).unwrap_err(),
            Error::S3ec(S3ecError::LegacyWrapRefused(legacy.into()))
        );
        assert_eq!(read(&w, &opted).unwrap_err(), Error::S3ec(opted_error), "{legacy}");
    }
    // RSA-OAEP-SHA1 is recognised, and refused as a wrap s3crypt does not implement.
    let w = edit(&aes, |m| {
        m.insert("x-amz-w".into(), "22".into());
    });
    let e = envelope(&w, &reader()).unwrap();
    assert_eq!(e.wrap(), S3ecWrap::RsaOaepSha1);
    assert_eq!(
        e.unwrap_aes(&S3ecAesKey::from_bytes(aes.aes_key.unwrap())).unwrap_err(),
        Error::S3ec(S3ecError::UnsupportedWrap("RSA-OAEP-SHA1"))
    );
}

#[test]
fn format_downgrades_fail() {
    // A V3 object rewritten as V2: the same wrapped key, an IV, V2 labels, `wrap` and a matdesc
    // chosen from the V3 metadata.
    let as_v2 = |name: &str, wrap: &str, matdesc: &dyn Fn(&BTreeMap<String, String>) -> String| {
        let v3 = vector(name);
        let m3: BTreeMap<String, String> = v3.metadata.iter().cloned().collect();
        let mut down = v3.clone();
        down.metadata = vec![
            ("x-amz-key-v2".into(), m3["x-amz-3"].clone()),
            ("x-amz-iv".into(), Base64::encode_string(&[1u8; 12])),
            ("x-amz-cek-alg".into(), "AES/GCM/NoPadding".into()),
            ("x-amz-wrap-alg".into(), wrap.into()),
            ("x-amz-matdesc".into(), matdesc(&m3)),
        ];
        down
    };
    // AES: the wrap's associated data names the content algorithm, so the unwrap fails.
    let down = as_v2("v3-aes-17-ascii", "AES/GCM", &|_| "{}".into());
    assert_eq!(read(&down, &reader()).unwrap_err(), Error::Authentication);
    // The default policy refuses it before any key is touched.
    assert_eq!(
        read(&down, &S3ecOptions::default()).unwrap_err(),
        Error::S3ec(S3ecError::CommitmentPolicy("REQUIRE_ENCRYPT_REQUIRE_DECRYPT"))
    );
    // KMS: the stored context binds "115", not AES/GCM/NoPadding.
    let down = as_v2("v3-kms-17-ascii", "kms+context", &|m3| m3["x-amz-t"].clone());
    assert_eq!(read(&down, &reader()).unwrap_err(), Error::S3ec(S3ecError::ContextMismatch));
    // Legacy content: V1 and CBC.
    let v2 = vector("v2-aes-17-ascii");
    let cbc = edit(&v2, |m| {
        m.insert("x-amz-cek-alg".into(), "AES/CBC/PKCS5Padding".into());
    });
    assert_eq!(
        read(&cbc, &reader()).unwrap_err(),
        Error::S3ec(S3ecError::LegacyContentRefused("AES/CBC".into()))
    );
    let opted = reader().enable_legacy_unauthenticated_modes(true);
    // With the opt-in: CBC content under an AES/GCM wrap is a pairing no AWS client wrote.
    assert_eq!(
        read(&cbc, &opted).unwrap_err(),
        Error::S3ec(S3ecError::Unsupported("AES/GCM with AES/CBC".into()))
    );
    let no_cek = edit(&v2, |m| {
        m.remove("x-amz-cek-alg");
    });
    assert_eq!(
        read(&no_cek, &reader()).unwrap_err(),
        Error::S3ec(S3ecError::LegacyContentRefused("AES/CBC".into()))
    );
    let v1 = edit(&v2, |m| {
        let k = m.remove("x-amz-key-v2").unwrap();
        m.insert("x-amz-key".into(), k);
        m.remove("x-amz-wrap-alg");
        m.remove("x-amz-cek-alg");
        m.remove("x-amz-tag-len");
    });
    assert_eq!(
        read(&v1, &reader()).unwrap_err(),
        Error::S3ec(S3ecError::LegacyContentRefused("V1 (x-amz-key, AES/CBC)".into()))
    );
}

#[test]
fn context_entry_changed() {
    let v = vector("v3-kms-17-ascii");
    let stored: BTreeMap<String, String> =
        serde_json::from_str(&v.metadata.iter().find(|(k, _)| k == "x-amz-t").unwrap().1).unwrap();
    let with = |f: &dyn Fn(&mut BTreeMap<String, String>)| {
        let mut c = stored.clone();
        f(&mut c);
        edit(&v, |m| {
            m.insert("x-amz-t".into(), serde_json::to_string(&c).unwrap());
        })
    };
    // A changed entry the caller does not expect: refused before the KMS is asked.
    let w = with(&|c| {
        c.insert("tenant".into(), "t2".into());
    });
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::ContextMismatch));
    // The same change, and a caller who expects it: the KMS refuses (the blob is bound to the
    // original context).
    let mut w2 = w.clone();
    let mut c = EncryptionContext::new();
    c.insert("purpose", "s3crypt vectors").unwrap();
    c.insert("tenant", "t2").unwrap();
    w2.context = c;
    assert!(
        matches!(read(&w2, &reader()).unwrap_err(), Error::Kms(e) if e.code == "KMS.InvalidCiphertextException")
    );
    // An added or removed entry; the reserved entry removed or naming another algorithm.
    for w in [
        with(&|c| {
            c.insert("extra".into(), "1".into());
        }),
        with(&|c| {
            c.remove("tenant");
        }),
        with(&|c| {
            c.remove("aws:x-amz-cek-alg");
        }),
        with(&|c| {
            c.insert("aws:x-amz-cek-alg".into(), "AES/GCM/NoPadding".into());
        }),
    ] {
        assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::ContextMismatch));
    }
    // The caller presenting another context than the stored one.
    let mut w = v.clone();
    w.context = EncryptionContext::new();
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::ContextMismatch));
}

#[test]
fn body_truncated_extended_or_flipped() {
    for name in ["v3-kms-17-ascii", "v2-aes-17-ascii", "v3-aes-0-ascii", "v2-kms-1048579-ascii"] {
        let v = vector(name);
        let bad = |body: Vec<u8>| {
            let mut w = v.clone();
            w.body = body;
            read(&w, &reader()).unwrap_err()
        };
        let n = v.body.len();
        // Tag truncated (by one byte, or entirely), body truncated, extended, a bit flipped.
        assert_eq!(
            bad(v.body[..n - 1].to_vec()),
            if n - 1 < 16 { S3ecError::BodyLength.into() } else { Error::Authentication },
            "{name}"
        );
        assert!(matches!(
            bad(v.body[..n.saturating_sub(16)].to_vec()),
            Error::Authentication | Error::S3ec(S3ecError::BodyLength)
        ));
        if n > 16 {
            assert_eq!(bad(v.body[1..].to_vec()), Error::Authentication, "{name}");
        }
        let mut longer = v.body.clone();
        longer.push(0);
        assert_eq!(bad(longer), Error::Authentication, "{name}");
        for at in [0, n / 2, n - 1] {
            let mut flipped = v.body.clone();
            flipped[at] ^= 0x80;
            assert_eq!(bad(flipped), Error::Authentication, "{name} byte {at}");
        }
        // Delayed authentication releases, then refuses at the end.
        let opts = reader().enable_delayed_authentication(true);
        let e = envelope(&v, &opts).unwrap();
        let key = data_key(&v, &e).unwrap();
        let mut flipped = v.body.clone();
        flipped[0] ^= 1;
        for body in [flipped, v.body[..n - 1].to_vec(), [v.body.clone(), vec![0]].concat()] {
            let mut d = e.opener(&key, &opts).unwrap().delayed().unwrap();
            let mut out = Vec::new();
            d.update(&body, &mut out).unwrap();
            assert_eq!(d.finish().unwrap_err(), Error::Authentication, "{name}");
        }
    }
}

#[test]
fn zero_iv_and_message_id_and_malformed_values_are_refused() {
    let v2 = vector("v2-aes-17-ascii");
    let v3 = vector("v3-aes-17-ascii");
    let cases: Vec<(Vector, S3ecError)> = vec![
        (
            edit(&v2, |m| drop(m.insert("x-amz-iv".into(), Base64::encode_string(&[0u8; 12])))),
            S3ecError::InvalidValue("x-amz-iv"),
        ),
        (
            edit(&v2, |m| drop(m.insert("x-amz-iv".into(), Base64::encode_string(&[1u8; 16])))),
            S3ecError::InvalidValue("x-amz-iv"),
        ),
        (edit(&v2, |m| drop(m.remove("x-amz-iv"))), S3ecError::MissingKey("x-amz-iv")),
        (
            edit(&v2, |m| drop(m.insert("x-amz-tag-len".into(), "96".into()))),
            S3ecError::InvalidValue("x-amz-tag-len"),
        ),
        (
            edit(&v2, |m| drop(m.insert("x-amz-matdesc".into(), "{\"a\":1}".into()))),
            S3ecError::InvalidValue("x-amz-matdesc"),
        ),
        (
            edit(&v2, |m| drop(m.insert("x-amz-key-v2".into(), "not base64!".into()))),
            S3ecError::InvalidValue("x-amz-key-v2"),
        ),
        (
            edit(&v2, |m| drop(m.insert("x-amz-cek-alg".into(), "AES/CTR/NoPadding".into()))),
            S3ecError::Unsupported("AES/CTR/NoPadding".into()),
        ),
        (
            edit(&v3, |m| drop(m.insert("x-amz-i".into(), Base64::encode_string(&[0u8; 28])))),
            S3ecError::InvalidValue("x-amz-i"),
        ),
        (
            edit(&v3, |m| drop(m.insert("x-amz-i".into(), Base64::encode_string(&[1u8; 27])))),
            S3ecError::InvalidValue("x-amz-i"),
        ),
        (
            edit(&v3, |m| drop(m.insert("x-amz-d".into(), Base64::encode_string(&[1u8; 32])))),
            S3ecError::InvalidValue("x-amz-d"),
        ),
        (
            edit(&v3, |m| drop(m.insert("x-amz-c".into(), "116".into()))),
            S3ecError::Unsupported("x-amz-c 116".into()),
        ),
        (edit(&v3, |m| drop(m.remove("x-amz-w"))), S3ecError::MissingKey("x-amz-w")),
        (
            edit(&v3, |m| drop(m.insert("x-amz-unencrypted-content-length".into(), "-1".into()))),
            S3ecError::InvalidValue("x-amz-unencrypted-content-length"),
        ),
    ];
    for (w, expected) in cases {
        assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(expected.clone()), "{expected:?}");
    }
    // A stated plaintext length must match the body.
    let w = edit(&v3, |m| drop(m.insert("x-amz-unencrypted-content-length".into(), "16".into())));
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::S3ec(S3ecError::BodyLength));
    let w = edit(&v3, |m| drop(m.insert("x-amz-unencrypted-content-length".into(), "17".into())));
    assert_eq!(read(&w, &reader()).unwrap(), v3.plaintext);
    // Nothing at all: the reader is told to look for an instruction file.
    assert_eq!(
        S3ecEnvelope::from_metadata([("content-type", "x")], &reader()).unwrap(),
        S3ecMetadata::InstructionFile
    );
}

#[test]
fn instruction_file_defences() {
    let v = vector("v3-kms-17-ascii-instr");
    let file: BTreeMap<String, String> = serde_json::from_str(v.instruction.as_ref().unwrap()).unwrap();
    let object: BTreeMap<String, String> = v.metadata.iter().cloned().collect();
    let with_file = |f: BTreeMap<String, String>| {
        let mut w = v.clone();
        w.instruction = Some(serde_json::to_string(&f).unwrap());
        w
    };
    // The commitment or message id in the file (they must come from the object).
    for key in ["x-amz-d", "x-amz-i", "x-amz-c"] {
        let mut f = file.clone();
        f.insert(key.into(), object[key].clone());
        let w = with_file(f);
        let e = S3ecEnvelope::from_instruction_file(
            pairs(&w),
            w.instruction.as_ref().unwrap().as_bytes(),
            &reader(),
        );
        assert_eq!(e.unwrap_err(), Error::S3ec(S3ecError::InvalidInstructionFile), "{key}");
    }
    // A key both on the object and in the file: two values are refused, the same value (as Go v1
    // writes some keys) is accepted.
    let mut w = v.clone();
    w.metadata.push(("x-amz-w".into(), "02".into()));
    let e =
        S3ecEnvelope::from_instruction_file(pairs(&w), w.instruction.as_ref().unwrap().as_bytes(), &reader());
    assert_eq!(e.unwrap_err(), Error::S3ec(S3ecError::DuplicateKey("x-amz-w")));
    let mut w = v.clone();
    w.metadata.push(("x-amz-w".into(), "12".into()));
    assert_eq!(read(&w, &reader()).unwrap(), v.plaintext);
    // Another object's instruction file (re-wrapping works, swapping the data key does not).
    let other = vector("v3-kms-16-ascii");
    let mut f = file.clone();
    f.insert("x-amz-3".into(), other.metadata.iter().find(|(k, _)| k == "x-amz-3").unwrap().1.clone());
    let mut w = with_file(f);
    w.kms = other.kms.clone();
    assert_eq!(read(&w, &reader()).unwrap_err(), Error::Authentication);
    // V2: content keys left on the object beside an instruction file.
    let v2 = vector("v2-aes-17-ascii-instr");
    let mut w = v2.clone();
    w.metadata.push(("x-amz-iv".into(), Base64::encode_string(&[1u8; 12])));
    let e =
        S3ecEnvelope::from_instruction_file(pairs(&w), w.instruction.as_ref().unwrap().as_bytes(), &reader());
    assert!(matches!(e.unwrap_err(), Error::S3ec(S3ecError::MixedFormats | S3ecError::DuplicateKey(_))));
}

#[test]
fn opt_ins_and_limits() {
    let v = vector("v3-aes-1048579-ascii");
    let e = envelope(&v, &S3ecOptions::default()).unwrap();
    let key = data_key(&v, &e).unwrap();
    let small = S3ecOptions::default().with_buffer_limit(1 << 20);
    assert_eq!(
        e.opener(&key, &small).unwrap().open(&v.body).unwrap_err(),
        Error::S3ec(S3ecError::BufferLimit)
    );
    let mut b = e.opener(&key, &small).unwrap().buffered();
    b.push(&v.body[..1 << 20]).unwrap();
    assert_eq!(b.push(&v.body[1 << 20..]).unwrap_err(), Error::S3ec(S3ecError::BufferLimit));
    let exact = S3ecOptions::default().with_buffer_limit((1 << 20) + 3);
    assert_eq!(e.opener(&key, &exact).unwrap().open(&v.body).unwrap(), v.plaintext);
    assert_eq!(
        e.opener(&key, &S3ecOptions::default()).unwrap().delayed().unwrap_err(),
        Error::S3ec(S3ecError::OptInRequired("enableDelayedAuthentication"))
    );
    assert!(matches!(
        e.opener(&key, &S3ecOptions::default()).unwrap().range(0, 10, v.body.len() as u64).unwrap_err(),
        Error::S3ec(S3ecError::OptInRequired(_))
    ));
    // Wrong AES key.
    assert_eq!(e.unwrap_aes(&S3ecAesKey::from_bytes([0; 32])).unwrap_err(), Error::Authentication);
    // Secrets print redacted.
    assert!(format!("{key:?}").contains("REDACTED"));
    let opener = e.opener(&key, &S3ecOptions::default()).unwrap();
    assert!(
        !format!("{opener:?}").contains(&format!("{:?}", key.expose_secret()[0]))
            || format!("{opener:?}").contains("REDACTED")
    );
    // Writing: a context with the reserved key is refused.
    let mut c = EncryptionContext::new();
    c.insert("a", "b").unwrap();
    let req = S3ecSealer::kms_request("k", &c, &S3ecOptions::default()).unwrap();
    assert_eq!(req.context.get("aws:x-amz-cek-alg"), Some("115"));
    let req2 = S3ecSealer::kms_request(
        "k",
        &c,
        &S3ecOptions::default().with_commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt),
    )
    .unwrap();
    assert_eq!(req2.context.get("aws:x-amz-cek-alg"), Some("AES/GCM/NoPadding"));
}

#[test]
fn open_into_reuses_the_buffer_and_leaves_nothing_on_failure() {
    let v = vector("v3-kms-1048579-ascii");
    let e = envelope(&v, &reader()).unwrap();
    let key = data_key(&v, &e).unwrap();
    let opener = e.opener(&key, &reader()).unwrap();
    let mut out = b"previous contents".to_vec();
    opener.open_into(&v.body, &mut out).unwrap();
    assert_eq!(out, v.plaintext);
    let mut flipped = v.body.clone();
    flipped[1000] ^= 4;
    assert_eq!(opener.open_into(&flipped, &mut out).unwrap_err(), Error::Authentication);
    assert!(out.is_empty(), "no unauthenticated plaintext left behind");
    assert_eq!(opener.open_into(&v.body[..10], &mut out).unwrap_err(), Error::S3ec(S3ecError::BodyLength));
    assert!(out.is_empty());
}

/// The same stub behind the async trait.
struct AsyncStub(StubKms);

impl s3crypt::AsyncKms for AsyncStub {
    fn generate_data_key(
        &self,
        request: &GenerateDataKeyRequest,
    ) -> impl Future<Output = Result<GenerateDataKeyResponse, KmsError>> + Send {
        let answer = self.0.generate_data_key(request);
        async move { answer }
    }

    fn decrypt(&self, request: &DecryptRequest) -> impl Future<Output = Result<KmsDataKey, KmsError>> + Send {
        let answer = self.0.decrypt(request);
        async move { answer }
    }

    fn re_encrypt(
        &self,
        request: &ReEncryptRequest,
    ) -> impl Future<Output = Result<ReEncryptResponse, KmsError>> + Send {
        let answer = self.0.re_encrypt(request);
        async move { answer }
    }
}

#[tokio::test]
async fn kms_unwrap_through_the_async_trait() {
    for name in ["v3-kms-17-utf8", "v2-kms-16-ascii", "v3-kms-17-ascii-instr"] {
        let v = vector(name);
        let e = envelope(&v, &reader()).unwrap();
        let kms = AsyncStub(v.kms.clone().unwrap());
        let key = e.unwrap_kms_async(&kms, &kms.0.key_id, &v.context).await.unwrap();
        assert_eq!(e.opener(&key, &reader()).unwrap().open(&v.body).unwrap(), v.plaintext, "{name}");
        // The context is checked before the KMS is asked.
        assert_eq!(
            e.unwrap_kms_async(&kms, &kms.0.key_id, &EncryptionContext::new()).await.unwrap_err(),
            Error::S3ec(S3ecError::ContextMismatch)
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any length, any split of the plaintext when sealing and of the body when reading, any range:
    /// every path gives back the plaintext.
    #[test]
    fn round_trips_with_random_splits(
        len in 0usize..5000,
        seal_split in 0usize..5000,
        read_split in 0usize..5100,
        range in (0u64..5000, 0u64..5000),
        v3 in proptest::bool::ANY,
    ) {
        let policy = if v3 { CommitmentPolicy::RequireEncryptRequireDecrypt } else { CommitmentPolicy::ForbidEncryptAllowDecrypt };
        let options = S3ecOptions::new()
            .with_commitment_policy(policy)
            .enable_delayed_authentication(true)
            .enable_legacy_unauthenticated_modes(true);
        let aes = S3ecAesKey::from_bytes([0x42; 32]);
        let plain = common::pattern(len);
        let mut sealer = S3ecSealer::aes(&aes, EncryptionContext::new(), &options, &mut TestRng(len as u64)).unwrap();
        let mut body = Vec::new();
        let (a, b) = plain.split_at(seal_split.min(len));
        sealer.update(a, &mut body).unwrap();
        sealer.update(b, &mut body).unwrap();
        let e = sealer.finish(&mut body);
        let key = e.unwrap_aes(&aes).unwrap();
        let opener = e.opener(&key, &options).unwrap();
        proptest::prop_assert_eq!(&opener.open(&body).unwrap(), &plain);
        let mut d = e.opener(&key, &options).unwrap().delayed().unwrap();
        let mut out = Vec::new();
        let (a, b) = body.split_at(read_split.min(body.len()));
        d.update(a, &mut out).unwrap();
        d.update(b, &mut out).unwrap();
        d.finish().unwrap();
        proptest::prop_assert_eq!(&out, &plain);
        let (first, last) = (range.0.min(range.1), range.0.max(range.1));
        match opener.range(first, last, body.len() as u64) {
            Ok(r) => {
                let got = opener.open_range(&r, &body[r.fetch_first() as usize..=r.fetch_last() as usize]).unwrap();
                let last = last.min(len as u64 - 1);
                proptest::prop_assert_eq!(&got[..], &plain[first as usize..=last as usize]);
            }
            Err(err) => {
                proptest::prop_assert_eq!(err, Error::InvalidRange);
                proptest::prop_assert!(first >= len as u64);
            }
        }
    }
}

/// `RSA-OAEP-SHA1` (aws-lc only): an AWS-written body whose data key is re-wrapped with RSA as AWS's
/// `RsaKeyring` does (`0x20 ‖ data key ‖ content-algorithm name`, OAEP SHA-1/MGF1-SHA-1, no label).
#[cfg(feature = "aws-lc")]
#[test]
fn rsa_oaep_sha1_unwraps_with_aws_lc() {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeySize, OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PrivateDecryptingKey};
    let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
    let public = OaepPublicEncryptingKey::new(private.public_key()).unwrap();
    let rsa = s3crypt::S3ecRsaKey::from_pkcs8_der(private.as_der().unwrap().as_ref()).unwrap();
    assert!(format!("{rsa:?}").contains("REDACTED"));
    let wrap = |dk: &[u8], name: &[u8], len_byte: u8| {
        let pseudo = [&[len_byte][..], dk, name].concat();
        let mut ct = vec![0u8; public.ciphertext_size()];
        Base64::encode_string(public.encrypt(&OAEP_SHA1_MGF1SHA1, &pseudo, &mut ct, None).unwrap())
    };
    for (name, v3, cek) in
        [("v3-aes-17-utf8", true, &b"115"[..]), ("v2-aes-17-ascii", false, b"AES/GCM/NoPadding")]
    {
        let v = vector(name);
        let e = envelope(&v, &reader()).unwrap();
        let dk = e.unwrap_aes(&S3ecAesKey::from_bytes(v.aes_key.unwrap())).unwrap();
        let relabel = |edk: String| {
            edit(&v, |m| {
                if v3 {
                    m.insert("x-amz-w".into(), "22".into());
                    m.insert("x-amz-3".into(), edk.clone());
                } else {
                    m.insert("x-amz-wrap-alg".into(), "RSA-OAEP-SHA1".into());
                    m.insert("x-amz-key-v2".into(), edk.clone());
                }
            })
        };
        let w = relabel(wrap(dk.expose_secret(), cek, 32));
        let e = envelope(&w, &reader()).unwrap();
        assert_eq!(e.wrap(), S3ecWrap::RsaOaepSha1);
        let key = e.unwrap_rsa(&rsa).unwrap();
        assert_eq!(e.opener(&key, &reader()).unwrap().open(&w.body).unwrap(), v.plaintext, "{name}");
        // The other format's name, a wrong length byte, a wrong key: refused alike.
        let other: &[u8] = if v3 { b"AES/GCM/NoPadding" } else { b"115" };
        for bad in [wrap(dk.expose_secret(), other, 32), wrap(dk.expose_secret(), cek, 16)] {
            assert_eq!(
                envelope(&relabel(bad), &reader()).unwrap().unwrap_rsa(&rsa).unwrap_err(),
                Error::Authentication
            );
        }
        let stranger = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let stranger = s3crypt::S3ecRsaKey::from_pkcs8_der(stranger.as_der().unwrap().as_ref()).unwrap();
        assert_eq!(e.unwrap_rsa(&stranger).unwrap_err(), Error::Authentication);
        // And an AES object is not an RSA one.
        assert_eq!(
            envelope(&v, &reader()).unwrap().unwrap_rsa(&rsa).unwrap_err(),
            Error::S3ec(S3ecError::UnsupportedWrap("AES/GCM"))
        );
    }
}
