//! Legacy S3EC objects, decrypt-only behind AWS's opt-ins: every object in tests/s3ec/legacy-vectors
//! (composed with Python's `cryptography` and decrypted by AWS's Python client, see
//! tests/s3ec/make_legacy_vectors.py) decrypts; each opt-in gates exactly what AWS's clients gate;
//! RFC 3394's own vector unwraps; and the hostile cases (wrong key, bad padding, truncation,
//! extension, relabelling a GCM object as CBC) fail closed, with one opaque error for CBC.
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
use common::s3ec_vectors::{self, StubKms, string_map, unhex};
use s3crypt::{
    CommitmentPolicy, EncryptionContext, Error, S3ecAesKey, S3ecContent, S3ecDataKey, S3ecEnvelope,
    S3ecError, S3ecFormat, S3ecMetadata, S3ecOptions, S3ecWrap,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    s3ec_vectors::dir("legacy-vectors")
}

#[derive(Clone)]
struct Vector {
    name: String,
    version: u8,
    wrap: String,
    content: String,
    metadata: BTreeMap<String, String>,
    body: Vec<u8>,
    plaintext: Vec<u8>,
    kms: Option<StubKms>,
    aes_key: Option<[u8; 32]>,
}

fn load(path: &Path) -> Vector {
    let desc = s3ec_vectors::read_description(path);
    Vector {
        name: desc["name"].as_str().unwrap().to_owned(),
        version: desc["version"].as_u64().unwrap() as u8,
        wrap: desc["wrap"].as_str().unwrap().to_owned(),
        content: desc["content"].as_str().unwrap().to_owned(),
        metadata: string_map(&desc["metadata"]),
        body: s3ec_vectors::body(path, &desc),
        plaintext: s3ec_vectors::described_plaintext(&desc["plaintext"]),
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

/// AWS's reader for legacy objects: non-committing formats allowed, both legacy opt-ins on.
fn legacy() -> S3ecOptions {
    S3ecOptions::new()
        .with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .enable_legacy_unauthenticated_modes(true)
        .enable_legacy_wrapping_algorithms(true)
}

fn envelope(metadata: &BTreeMap<String, String>, options: &S3ecOptions) -> Result<S3ecEnvelope, Error> {
    match S3ecEnvelope::from_metadata(metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())), options)? {
        S3ecMetadata::Envelope(e) => Ok(e),
        S3ecMetadata::InstructionFile => panic!("asked for an instruction file"),
    }
}

fn data_key(v: &Vector, e: &S3ecEnvelope) -> Result<S3ecDataKey, Error> {
    match (&v.kms, v.aes_key) {
        (Some(kms), _) => e.unwrap_kms(kms, &kms.key_id, &EncryptionContext::new()),
        (None, Some(key)) => e.unwrap_aes(&S3ecAesKey::from_bytes(key)),
        _ => unreachable!(),
    }
}

fn read_with(
    v: &Vector,
    metadata: &BTreeMap<String, String>,
    body: &[u8],
    options: &S3ecOptions,
) -> Result<Vec<u8>, Error> {
    let e = envelope(metadata, options)?;
    let key = data_key(v, &e)?;
    e.opener(&key, options)?.open(body)
}

fn read(v: &Vector, options: &S3ecOptions) -> Result<Vec<u8>, Error> {
    read_with(v, &v.metadata, &v.body, options)
}

fn edit(v: &Vector, f: impl FnOnce(&mut BTreeMap<String, String>)) -> BTreeMap<String, String> {
    let mut m = v.metadata.clone();
    f(&mut m);
    m
}

fn is_cbc(v: &Vector) -> bool {
    v.content == "AES/CBC/PKCS5Padding"
}

#[test]
fn every_legacy_vector_decrypts() {
    let vectors = all_vectors();
    assert_eq!(vectors.len(), 26, "the committed set");
    for v in &vectors {
        let options = legacy();
        let e = envelope(&v.metadata, &options).unwrap();
        assert_eq!(e.format(), if v.version == 1 { S3ecFormat::V1 } else { S3ecFormat::V2 }, "{}", v.name);
        let wrap = match v.wrap.as_str() {
            "AES" => S3ecWrap::AesEcb,
            "AESWrap" => S3ecWrap::AesWrap,
            "kms" => S3ecWrap::Kms,
            other => panic!("{other}"),
        };
        assert_eq!(e.wrap(), wrap, "{}", v.name);
        assert!(wrap.is_legacy());
        let content = if is_cbc(v) { S3ecContent::AesCbc } else { S3ecContent::AesGcm };
        assert_eq!(e.content(), content, "{}", v.name);
        assert_eq!(e.plaintext_len(), is_cbc(v).then_some(v.plaintext.len() as u64), "{}", v.name);
        // The envelope re-encodes to metadata that parses to the same envelope.
        let again =
            S3ecEnvelope::from_metadata(e.to_metadata().iter().map(|(k, v)| (*k, v.as_str())), &options);
        assert_eq!(again.unwrap(), S3ecMetadata::Envelope(e.clone()), "{}", v.name);

        let key = data_key(v, &e).unwrap();
        let opener = e.opener(&key, &options).unwrap();
        assert_eq!(opener.open(&v.body).unwrap(), v.plaintext, "{}", v.name);
        // Into a reused buffer, and fed in pieces at several split points.
        let mut out = vec![0xAA; 7];
        opener.open_into(&v.body, &mut out).unwrap();
        assert_eq!(out, v.plaintext);
        for split in [0, 1, 15, 16, 17, v.body.len() / 2, v.body.len()] {
            let split = split.min(v.body.len());
            let mut body = e.opener(&key, &options).unwrap().buffered();
            body.push(&v.body[..split]).unwrap();
            body.push(&v.body[split..]).unwrap();
            assert_eq!(body.finish().unwrap(), v.plaintext, "{} split {split}", v.name);
        }
        if let Some(kms) = &v.kms {
            // The legacy kms request carries the stored context, {"kms_cmk_id": key}, as AWS sends it.
            let request = e.kms_decrypt_request(&kms.key_id, &EncryptionContext::new()).unwrap();
            assert_eq!(request.context.get("kms_cmk_id"), Some(kms.key_id.as_str()));
            assert_eq!(request.ciphertext_blob, kms.blob);
        }
    }
}

/// Each opt-in gates what AWS's clients gate: CBC content needs enableLegacyUnauthenticatedModes,
/// the legacy wraps need enableLegacyWrappingAlgorithms, and neither lifts the commitment policy.
#[test]
fn legacy_modes_refused_without_their_opt_in() {
    let allow = S3ecOptions::new().with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    for v in all_vectors() {
        let content_refused = match v.version {
            1 => S3ecError::LegacyContentRefused("V1 (x-amz-key, AES/CBC)".into()),
            _ => S3ecError::LegacyContentRefused("AES/CBC".into()),
        };
        let wrap_refused = S3ecError::LegacyWrapRefused(v.wrap.clone());
        let expected = if is_cbc(&v) { &content_refused } else { &wrap_refused };
        assert_eq!(read(&v, &allow).unwrap_err(), Error::S3ec(expected.clone()), "{}", v.name);
        // Only the content opt-in: the wrap is still refused.
        let unauth = allow.enable_legacy_unauthenticated_modes(true);
        assert_eq!(read(&v, &unauth).unwrap_err(), Error::S3ec(wrap_refused.clone()), "{}", v.name);
        // The default policy refuses every non-committing object, opt-ins or not.
        let strict = S3ecOptions::new()
            .enable_legacy_unauthenticated_modes(true)
            .enable_legacy_wrapping_algorithms(true);
        assert_eq!(
            read(&v, &strict).unwrap_err(),
            Error::S3ec(S3ecError::CommitmentPolicy("REQUIRE_ENCRYPT_REQUIRE_DECRYPT")),
            "{}",
            v.name
        );
        if let Some(kms) = &v.kms {
            assert_eq!(kms.calls(), 0, "{}: the KMS was asked for a refused object", v.name);
        }
        // Only the wrap opt-in: CBC content is still refused; legacy-wrapped GCM content decrypts.
        let wraps = allow.enable_legacy_wrapping_algorithms(true);
        if is_cbc(&v) {
            assert_eq!(read(&v, &wraps).unwrap_err(), Error::S3ec(content_refused.clone()), "{}", v.name);
        } else {
            assert_eq!(read(&v, &wraps).unwrap(), v.plaintext, "{}", v.name);
        }
    }
    // An envelope parsed with the opt-in is still refused by an opener without it.
    let v = vector("v1-aes-17");
    let e = envelope(&v.metadata, &legacy()).unwrap();
    let key = data_key(&v, &e).unwrap();
    let no_unauth = legacy().enable_legacy_unauthenticated_modes(false);
    assert_eq!(
        e.opener(&key, &no_unauth).unwrap_err(),
        Error::S3ec(S3ecError::LegacyContentRefused("AES/CBC".into()))
    );
}

/// RFC 3394 §4.6: 256 bits of key data wrapped with a 256-bit KEK, through the `AESWrap` unwrap.
#[test]
fn rfc3394_256_bit_kek_vector() {
    let kek: [u8; 32] =
        unhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F").try_into().unwrap();
    let key_data = unhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    let wrapped =
        unhex("28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21");
    let metadata: BTreeMap<String, String> = [
        ("x-amz-key-v2", Base64::encode_string(&wrapped)),
        ("x-amz-iv", Base64::encode_string(&[7u8; 16])),
        ("x-amz-matdesc", "{}".to_owned()),
        ("x-amz-wrap-alg", "AESWrap".to_owned()),
        ("x-amz-cek-alg", "AES/CBC/PKCS5Padding".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let e = envelope(&metadata, &legacy()).unwrap();
    let unwrapped = e.unwrap_aes(&S3ecAesKey::from_bytes(kek)).unwrap();
    assert_eq!(unwrapped.expose_secret()[..], key_data[..]);
    // One flipped bit of the wrapped key, or another KEK, fails RFC 3394's integrity check.
    let mut flipped = wrapped.clone();
    flipped[20] ^= 1;
    let mut m = metadata.clone();
    m.insert("x-amz-key-v2".into(), Base64::encode_string(&flipped));
    let e2 = envelope(&m, &legacy()).unwrap();
    assert_eq!(e2.unwrap_aes(&S3ecAesKey::from_bytes(kek)).unwrap_err(), Error::Authentication);
    assert_eq!(e.unwrap_aes(&S3ecAesKey::from_bytes([0x42; 32])).unwrap_err(), Error::Authentication);
}

#[test]
fn wrong_keys_fail_closed() {
    for v in all_vectors() {
        let e = envelope(&v.metadata, &legacy()).unwrap();
        match &v.kms {
            None => {
                // AESWrap: RFC 3394's integrity check; V1 AES: its whole padding block.
                let mut wrong = v.aes_key.unwrap();
                wrong[0] ^= 1;
                assert_eq!(
                    e.unwrap_aes(&S3ecAesKey::from_bytes(wrong)).unwrap_err(),
                    Error::Authentication,
                    "{}",
                    v.name
                );
            }
            Some(kms) => {
                // Another key id than the one the object names (kms_cmk_id): refused before the KMS.
                let other = "arn:aws:kms:us-east-1:111122223333:key/another";
                assert_eq!(
                    e.unwrap_kms(kms, other, &EncryptionContext::new()).unwrap_err(),
                    Error::S3ec(S3ecError::ContextMismatch),
                    "{}",
                    v.name
                );
                // The legacy kms wrap takes no caller context (AWS's rule, against kms+context → kms).
                let mut ctx = EncryptionContext::new();
                ctx.insert("tenant", "t1").unwrap();
                assert_eq!(
                    e.unwrap_kms(kms, &kms.key_id, &ctx).unwrap_err(),
                    Error::S3ec(S3ecError::ContextMismatch),
                    "{}",
                    v.name
                );
                assert_eq!(kms.calls(), 0, "{}", v.name);
                // A stored context with an entry the caller did not present: refused before the KMS.
                let m = edit(&v, |m| {
                    m.insert("x-amz-matdesc".into(), format!(r#"{{"kms_cmk_id":"{}","x":"y"}}"#, kms.key_id));
                });
                assert_eq!(
                    read_with(&v, &m, &v.body, &legacy()).unwrap_err(),
                    Error::S3ec(S3ecError::ContextMismatch),
                    "{}",
                    v.name
                );
                assert_eq!(kms.calls(), 0, "{}", v.name);
                // The caller approves it: then the KMS, which authenticates the context, refuses.
                let e2 = envelope(&m, &legacy()).unwrap();
                let mut approved = EncryptionContext::new();
                approved.insert("x", "y").unwrap();
                assert!(matches!(e2.unwrap_kms(kms, &kms.key_id, &approved).unwrap_err(), Error::Kms(_)));
                assert_eq!(kms.calls(), 1, "{}", v.name);
                // An AES key presented for a KMS object.
                assert_eq!(
                    e.unwrap_aes(&S3ecAesKey::from_bytes([1; 32])).unwrap_err(),
                    Error::S3ec(S3ecError::UnsupportedWrap("kms"))
                );
            }
        }
    }
    // A wrong data key on a CBC body: the padding (and the stated length) fail, opaquely.
    let v = vector("v1-aes-1048579");
    let e = envelope(&v.metadata, &legacy()).unwrap();
    let wrong = S3ecDataKey::from_bytes([9; 32]);
    assert_eq!(e.opener(&wrong, &legacy()).unwrap().open(&v.body).unwrap_err(), Error::Authentication);
}

/// Every way of damaging a CBC body that CBC can notice fails with the one opaque error, whether
/// the padding, the block structure or the stated length gives it away: no padding oracle.
#[test]
fn cbc_tampering_is_one_opaque_error() {
    let cbc: Vec<Vector> = all_vectors().into_iter().filter(is_cbc).collect();
    assert_eq!(cbc.len(), 16);
    for v in &cbc {
        let fail = |body: &[u8], what: &str| {
            assert_eq!(
                read_with(v, &v.metadata, body, &legacy()).unwrap_err(),
                Error::Authentication,
                "{}: {what}",
                v.name
            );
        };
        let mut flipped = v.body.clone();
        *flipped.last_mut().unwrap() ^= 1;
        fail(&flipped, "last byte flipped (bad padding)");
        fail(&v.body[..v.body.len() - 1], "truncated to a non-multiple of 16");
        fail(&[], "empty body");
        let mut longer = v.body.clone();
        longer.push(0);
        fail(&longer, "one byte appended");
        if v.body.len() > 16 {
            fail(&v.body[..v.body.len() - 16], "last block dropped (stated length)");
        }
        let mut extended = v.body.clone();
        extended.extend_from_slice(&v.body[v.body.len() - 16..]);
        fail(&extended, "last block repeated (stated length)");
        // The buffered reader and open_into fail the same way, and leave nothing behind.
        let e = envelope(&v.metadata, &legacy()).unwrap();
        let key = data_key(v, &e).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            e.opener(&key, &legacy()).unwrap().open_into(&flipped, &mut out).unwrap_err(),
            Error::Authentication
        );
        assert!(out.is_empty());
        let mut body = e.opener(&key, &legacy()).unwrap().buffered();
        body.push(&flipped).unwrap();
        assert_eq!(body.finish().unwrap_err(), Error::Authentication);
        // A stated length that disagrees with the padding.
        let m = edit(v, |m| {
            m.insert("x-amz-unencrypted-content-length".into(), (v.plaintext.len() + 1).to_string());
        });
        assert_eq!(read_with(v, &m, &v.body, &legacy()).unwrap_err(), Error::Authentication, "{}", v.name);
    }
}

/// What CBC cannot detect, stated as a test: a flipped bit in any block but the last garbles that
/// block and flips the same bit of the next one's plaintext, the padding still checks, and the
/// plaintext returned is wrong. This is why CBC is refused by default and only for migration.
#[test]
fn cbc_is_unauthenticated() {
    let v = vector("v1-aes-1048579");
    let mut body = v.body.clone();
    body[100] ^= 0x01;
    let out = read_with(&v, &v.metadata, &body, &legacy()).unwrap();
    assert_eq!(out.len(), v.plaintext.len());
    assert_ne!(out, v.plaintext);
    assert_eq!(out[116] ^ v.plaintext[116], 0x01, "the next block's bit flips through");
    assert_eq!(out[..96], v.plaintext[..96], "earlier blocks are untouched");
}

/// A GCM object relabelled as CBC (x-amz-cek-alg rewritten, x-amz-tag-len dropped): refused without
/// the opt-in; with it, the legacy wraps bind no content algorithm, so the data key unwraps and CBC
/// decryption of GCM ciphertext is attempted — and fails on its block structure or padding.
#[test]
fn gcm_relabelled_as_cbc() {
    for v in all_vectors().into_iter().filter(|v| !is_cbc(v)) {
        let m = edit(&v, |m| {
            m.insert("x-amz-cek-alg".into(), "AES/CBC/PKCS5Padding".into());
            m.remove("x-amz-tag-len");
        });
        let no_unauth = legacy().enable_legacy_unauthenticated_modes(false);
        assert_eq!(
            read_with(&v, &m, &v.body, &no_unauth).unwrap_err(),
            Error::S3ec(S3ecError::LegacyContentRefused("AES/CBC".into())),
            "{}",
            v.name
        );
        // The IV is 12 bytes: not a CBC IV.
        assert_eq!(
            read_with(&v, &m, &v.body, &legacy()).unwrap_err(),
            Error::S3ec(S3ecError::InvalidValue("x-amz-iv")),
            "{}",
            v.name
        );
        // The attacker also supplies a 16-byte IV: the padding check is all that stands, and here
        // it holds (a chance pass is 1 in ~256 without a stated length; see DESIGN §11).
        let m = edit(&v, |m| {
            m.insert("x-amz-cek-alg".into(), "AES/CBC/PKCS5Padding".into());
            m.remove("x-amz-tag-len");
            m.insert("x-amz-iv".into(), Base64::encode_string(&[3u8; 16]));
        });
        assert_eq!(read_with(&v, &m, &v.body, &legacy()).unwrap_err(), Error::Authentication, "{}", v.name);
        // Keeping the tag-length label is refused outright.
        let m = edit(&v, |m| {
            m.insert("x-amz-cek-alg".into(), "AES/CBC/PKCS5Padding".into());
            m.insert("x-amz-iv".into(), Base64::encode_string(&[3u8; 16]));
        });
        assert_eq!(
            read_with(&v, &m, &v.body, &legacy()).unwrap_err(),
            Error::S3ec(S3ecError::InvalidValue("x-amz-tag-len"))
        );
    }
}

#[test]
fn cbc_reads_are_buffered_only() {
    let v = vector("v2-kms-cbc-17");
    let options = legacy().enable_delayed_authentication(true);
    let e = envelope(&v.metadata, &options).unwrap();
    let key = data_key(&v, &e).unwrap();
    let opener = e.opener(&key, &options).unwrap();
    assert_eq!(
        opener.range(0, 3, v.body.len() as u64).unwrap_err(),
        Error::S3ec(S3ecError::Unsupported("ranged AES/CBC read".into()))
    );
    assert_eq!(
        opener.delayed().unwrap_err(),
        Error::S3ec(S3ecError::Unsupported("streaming AES/CBC read".into()))
    );
    // The buffer limit holds for CBC too.
    let small = options.with_buffer_limit(8);
    let opener = e.opener(&key, &small).unwrap();
    assert_eq!(opener.open(&v.body).unwrap_err(), Error::S3ec(S3ecError::BufferLimit));
}

/// Malformed legacy metadata: refused with the specific format errors.
#[test]
fn malformed_legacy_metadata() {
    let v1 = vector("v1-aes-17");
    let bad = |m: BTreeMap<String, String>, err: S3ecError| {
        assert_eq!(envelope(&m, &legacy()).unwrap_err(), Error::S3ec(err));
    };
    bad(
        edit(&v1, |m| drop(m.insert("x-amz-iv".into(), Base64::encode_string(&[0u8; 16])))),
        S3ecError::InvalidValue("x-amz-iv"),
    );
    bad(
        edit(&v1, |m| drop(m.insert("x-amz-iv".into(), Base64::encode_string(&[1u8; 12])))),
        S3ecError::InvalidValue("x-amz-iv"),
    );
    bad(edit(&v1, |m| drop(m.remove("x-amz-iv"))), S3ecError::MissingKey("x-amz-iv"));
    bad(
        edit(&v1, |m| drop(m.insert("x-amz-cek-alg".into(), "AES/GCM/NoPadding".into()))),
        S3ecError::Unsupported("AES/GCM/NoPadding".into()),
    );
    bad(
        edit(&v1, |m| drop(m.insert("x-amz-wrap-alg".into(), "AES/GCM".into()))),
        S3ecError::Unsupported("AES/GCM with AES/CBC".into()),
    );
    // V1 with a key too long for the AES (ECB) wrap is AWS's V1 RSA (PKCS#1 v1.5): not implemented.
    bad(
        edit(&v1, |m| drop(m.insert("x-amz-key".into(), Base64::encode_string(&[5u8; 256])))),
        S3ecError::Unsupported("RSA (v1 EncryptionOnly)".into()),
    );
    // The AES (ECB) wrap's key of the wrong length: a format error at unwrap.
    let m = edit(&v1, |m| drop(m.insert("x-amz-key".into(), Base64::encode_string(&[5u8; 32]))));
    let e = envelope(&m, &legacy()).unwrap();
    assert_eq!(
        e.unwrap_aes(&S3ecAesKey::from_bytes(v1.aes_key.unwrap())).unwrap_err(),
        Error::S3ec(S3ecError::InvalidValue("encrypted data key"))
    );
    // V1 keys mixed with V2 or V3 keys.
    bad(edit(&v1, |m| drop(m.insert("x-amz-key-v2".into(), "AAAA".into()))), S3ecError::MixedFormats);
    bad(edit(&v1, |m| drop(m.insert("x-amz-c".into(), "115".into()))), S3ecError::MixedFormats);
    // A legacy GCM object without a wrap label is not the V1 AES wrap.
    let gcm = vector("v2-aeswrap-gcm-17");
    bad(edit(&gcm, |m| drop(m.remove("x-amz-wrap-alg"))), S3ecError::MissingKey("x-amz-wrap-alg"));
}

/// The legacy `kms` wrap sends the stored context to the KMS, so every entry of it must be the
/// caller's: a blob made under the same KMS key for another context (another tenant's native
/// client-side object, say, `{"tenant":"victim"}`), planted as a legacy `kms` object by someone who can
/// write to the bucket, is refused before the KMS is asked — the KMS would have decrypted it.
#[test]
fn legacy_kms_planted_context_refused_before_the_kms() {
    let v = vector("v2-kms-cbc-17");
    let genuine = v.kms.clone().unwrap();
    // What the KMS would answer for the planted blob: the victim's context, the reader's key id.
    let victim = StubKms::from_description(&serde_json::json!({
        "key_id": genuine.key_id,
        "ciphertext_blob": Base64::encode_string(b"victim blob, same KMS key"),
        "plaintext": Base64::encode_string(&[0x5A; 32]),
        "context": {"tenant": "victim"},
    }));
    for matdesc in [
        r#"{"tenant":"victim"}"#.to_owned(),
        format!(r#"{{"kms_cmk_id":"{}","tenant":"victim"}}"#, genuine.key_id),
    ] {
        let m = edit(&v, |m| {
            m.insert("x-amz-key-v2".into(), Base64::encode_string(&victim.blob));
            m.insert("x-amz-matdesc".into(), matdesc.clone());
        });
        let e = envelope(&m, &legacy()).unwrap();
        assert_eq!(
            e.unwrap_kms(&victim, &genuine.key_id, &EncryptionContext::new()).unwrap_err(),
            Error::S3ec(S3ecError::ContextMismatch),
            "{matdesc}"
        );
        assert_eq!(victim.calls(), 0, "{matdesc}: the KMS was asked");
    }
    // A caller that does expect that context (its own legacy objects written with it) reads it.
    let m = edit(&v, |m| {
        m.insert("x-amz-key-v2".into(), Base64::encode_string(&victim.blob));
        m.insert("x-amz-matdesc".into(), r#"{"tenant":"victim"}"#.to_owned());
    });
    let mut expected = EncryptionContext::new();
    expected.insert("tenant", "victim").unwrap();
    let key = envelope(&m, &legacy()).unwrap().unwrap_kms(&victim, &genuine.key_id, &expected).unwrap();
    assert_eq!(key.expose_secret(), &[0x5A; 32]);
    assert_eq!(victim.calls(), 1);
}
