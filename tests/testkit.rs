//! Golden files: one file per malformed envelope encoding under `tests/testkit/`, each with the
//! exact error it must produce (after age's `tests/testkit.rs`).
//!
//! A file is `expect: <error>`, `encoding: metadata|binary`, a `---` line, then the encoding: one
//! `name: value` line per metadata pair, or the binary header in hex. `S3CRYPT_WRITE_TESTKIT=1
//! cargo test --test testkit` regenerates the files from the cases below.
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

use base64ct::{Base64, Encoding as _};
use common::Replay;
use s3crypt::{
    ClientKeyring, ClientKms, ClientSealer, EncryptionContext, Envelope, Keyring, LocalKms, ObjectId,
    ObjectSealer, RootKey, SealOptions, SseKms, Upload,
};
use std::path::Path;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testkit")
}

/// A fixed, valid SSE-S3 envelope (deterministic: replayed randomness).
fn valid() -> Envelope {
    let ring = Keyring::new("root-1", 3, RootKey::from_bytes([0x11; 32])).unwrap();
    let mut rng = Replay::new(&(0..=255u8).cycle().take(32 + 24 + 32).collect::<Vec<_>>());
    let mut sealer = ObjectSealer::new(SealOptions::default(), &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(b"golden", &mut body).unwrap();
    sealer.finish(&mut body, &ring, &ObjectId::new("bucket", "key"), &mut rng).unwrap()
}

/// A fixed, valid SSE-KMS envelope with a bucket key (deterministic local KMS).
fn valid_kms() -> Envelope {
    let mut kms = LocalKms::new(common::TestRng(5));
    kms.create_key("alias/golden", RootKey::from_bytes([0x22; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let mut ctx = EncryptionContext::new();
    ctx.insert("tenant", "t1").unwrap();
    let sse = SseKms::new("alias/golden").unwrap().with_context(ctx).with_bucket_key(true);
    let key = sse.generate_key(&kms, &object).unwrap();
    let mut rng = Replay::new(&(0..=255u8).cycle().take(32 + 24 + 32).collect::<Vec<_>>());
    let mut sealer = ObjectSealer::new(SealOptions::default(), &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(b"golden", &mut body).unwrap();
    sealer.finish(&mut body, &key, &object, &mut rng).unwrap()
}

/// `map` with field `name`'s value replaced.
fn set_field(map: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let key = format!("s3crypt-{name}");
    map.iter().map(|(k, v)| (k.clone(), if *k == key { value.to_string() } else { v.clone() })).collect()
}

/// `map` without field `name`.
fn without_field(map: &[(String, String)], name: &str) -> Vec<(String, String)> {
    map.iter().filter(|(k, _)| *k != format!("s3crypt-{name}")).cloned().collect()
}

/// Where the binary field `tag` starts.
fn field_at(bin: &[u8], tag: u8) -> usize {
    let mut at = 5;
    while bin[at] != tag {
        at += field_len(bin, at);
    }
    at
}

/// Length of the binary field at `at`, header included.
fn field_len(bin: &[u8], at: usize) -> usize {
    3 + usize::from(u16::from_be_bytes([bin[at + 1], bin[at + 2]]))
}

/// `bin` with field `tag`'s value replaced.
fn replace_field(bin: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
    let at = field_at(bin, tag);
    let len = (value.len() as u16).to_be_bytes();
    [&bin[..at], &[tag, len[0], len[1]], value, &bin[at + field_len(bin, at)..]].concat()
}

enum Encoding {
    Metadata(Vec<(String, String)>),
    Binary(Vec<u8>),
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn decode(e: &Encoding) -> String {
    let r = match e {
        Encoding::Metadata(m) => Envelope::from_metadata(m.clone()),
        Encoding::Binary(b) => Envelope::from_binary(b),
    };
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
}

/// Every malformation, by name.
fn cases() -> Vec<(String, Encoding)> {
    let env = valid();
    let map = env.to_metadata();
    let bin = env.to_binary();
    let mut out = vec![
        ("valid-metadata".into(), Encoding::Metadata(map.clone())),
        ("valid-binary".into(), Encoding::Binary(bin.clone())),
    ];

    let set = |name: &str, value: &str| set_field(&map, name, value);
    let without = |name: &str| without_field(&map, name);
    let with = |k: &str, v: &str| -> Vec<(String, String)> {
        let mut m = map.clone();
        m.push((k.to_string(), v.to_string()));
        m
    };
    let m =
        |name: &str, pairs: Vec<(String, String)>| (format!("metadata-{name}"), Encoding::Metadata(pairs));
    for field in [
        "version",
        "scheme",
        "suite",
        "chunk-size",
        "length",
        "wrap",
        "key-id",
        "key-version",
        "salt",
        "key-check",
        "wrapped-key",
    ] {
        out.push(m(&format!("missing-{field}"), without(field)));
    }
    out.extend([
        m("version-2", set("version", "2")),
        m("version-01", set("version", "01")),
        m("unknown-field", with("s3crypt-colour", "blue")),
        // An error repeats at most 64 characters of what storage holds.
        m("unknown-field-long", with(&format!("s3crypt-{}", "x".repeat(100)), "1")),
        m("version-long", set("version", &"9".repeat(100))),
        m("duplicate-field", with("s3crypt-salt", &map.iter().find(|(k, _)| k == "s3crypt-salt").unwrap().1)),
        m("duplicate-field-other-case", with("S3Crypt-Length", "6")),
        m("duplicate-field-wire-form", with("x-amz-meta-s3crypt-wrap", "hkdf-sha512-aes-256-gcm")),
        m("scheme-uppercase", set("scheme", "SSE-S3")),
        m("scheme-aws-kms", set("scheme", "aws:kms")),
        m("scheme-client-side", set("scheme", "client-side")),
        m("suite-unknown", set("suite", "aes-128-gcm-chunked")),
        m("chunk-size-not-power-of-two", set("chunk-size", "16385")),
        m("chunk-size-too-small", set("chunk-size", "8192")),
        m("chunk-size-too-large", set("chunk-size", "2097152")),
        m("chunk-size-leading-zero", set("chunk-size", "016384")),
        m("length-leading-zero", set("length", "06")),
        m("length-negative", set("length", "-6")),
        m("length-plus", set("length", "+6")),
        m("length-overflow", set("length", "18446744073709551616")),
        m("length-beyond-format", set("length", "18446744073709551615")),
        m("length-empty", set("length", "")),
        m("wrap-unknown", set("wrap", "aes-key-wrap")),
        m("key-id-space", set("key-id", "root 1")),
        m("key-id-too-long", set("key-id", &"k".repeat(256))),
        m("key-id-empty", set("key-id", "")),
        m("key-version-overflow", set("key-version", "4294967296")),
        m("salt-short", set("salt", "AAAA")),
        m(
            "salt-url-safe",
            set("salt", &Base64::encode_string(&[0xfb; 32]).replace('+', "-").replace('/', "_")),
        ),
        m("salt-unpadded", set("salt", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")),
        m("salt-non-canonical", set("salt", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=")),
        m("key-check-whitespace", set("key-check", " AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")),
        m("wrapped-key-short", set("wrapped-key", "AAAA")),
        m("wrapped-key-too-long", set("wrapped-key", &"A".repeat(500))),
        m("over-budget", with("s3crypt-key-id", &"k".repeat(2000))),
    ]);
    let sse_c: Vec<(String, String)> = map
        .iter()
        .map(
            |(k, v)| {
                if k == "s3crypt-scheme" { (k.clone(), "sse-c".into()) } else { (k.clone(), v.clone()) }
            },
        )
        .collect();
    out.push(m("sse-c-with-key-id", sse_c.clone()));
    let sse_c_versioned: Vec<(String, String)> =
        sse_c.into_iter().filter(|(k, _)| k != "s3crypt-key-id").collect();
    out.push(m("sse-c-key-version-3", sse_c_versioned));

    // Binary: the header is "S3CE" 01, then (tag, BE16 length, value) fields in ascending order.
    let b = |name: &str, bytes: Vec<u8>| (format!("binary-{name}"), Encoding::Binary(bytes));
    let field_at = |tag: u8| field_at(&bin, tag);
    let field_len = |at: usize| field_len(&bin, at);
    let remove = |tag: u8| -> Vec<u8> {
        let at = field_at(tag);
        [&bin[..at], &bin[at + field_len(at)..]].concat()
    };
    let replace = |tag: u8, value: &[u8]| replace_field(&bin, tag, value);
    let mut bad_magic = bin.clone();
    bad_magic[0] = b's';
    let mut v2 = bin.clone();
    v2[4] = 2;
    out.extend([
        b("empty", vec![]),
        b("magic-only", bin[..4].to_vec()),
        b("bad-magic", bad_magic),
        b("version-2", v2),
        b("truncated-in-field-header", bin[..bin.len() - 1 - 48 - 2].to_vec()),
        b("truncated-in-value", bin[..bin.len() - 1].to_vec()),
        b("trailing-byte", [&bin[..], &[0]].concat()),
        b("trailing-partial-field", [&bin[..], &[11, 0]].concat()),
        b("unknown-tag", [&bin[..], &[200, 0, 1, 0]].concat()),
        b("duplicate-tag", {
            let at = field_at(10);
            [&bin[..], &bin[at..at + field_len(at)]].concat()
        }),
        b("out-of-order", {
            let (s, c) = (field_at(1), field_at(2));
            [&bin[..s], &bin[c..c + field_len(c)], &bin[s..c], &bin[c + field_len(c)..]].concat()
        }),
        b("too-large", [&bin[..], &vec![0u8; 1024]].concat()),
        b("scheme-unknown", replace(1, &[9])),
        b("scheme-two-bytes", replace(1, &[1, 1])),
        b("suite-unknown", replace(2, &[7])),
        b("chunk-size-13", replace(3, &[13])),
        b("chunk-size-21", replace(3, &[21])),
        b("length-short", replace(4, &[0; 7])),
        b("length-beyond-format", replace(4, &[0xff; 8])),
        b("wrap-unknown", replace(5, &[2])),
        b("key-id-not-utf8", replace(6, &[0xff, 0xfe])),
        b("key-id-control", replace(6, b"root\n1")),
        b("key-id-empty", replace(6, b"")),
        b("key-version-short", replace(7, &[0; 3])),
        b("salt-short", replace(8, &[0; 31])),
        b("key-check-long", replace(9, &[0; 33])),
        b("wrapped-key-short", replace(10, &[0; 47])),
        b("wrapped-key-long", replace(10, &[0; 304])),
    ]);
    for (tag, name) in [
        (1, "scheme"),
        (2, "suite"),
        (3, "chunk-size"),
        (4, "length"),
        (5, "wrap"),
        (6, "key-id"),
        (7, "key-version"),
        (8, "salt"),
        (9, "key-check"),
        (10, "wrapped-key"),
    ] {
        out.push(b(&format!("missing-{name}"), remove(tag)));
    }
    out.extend(kms_cases(&map));
    out.extend(multipart_cases());
    out.extend(client_side_cases(&map));
    out
}

/// Fixed, valid client-side envelopes: a raw keyring key with a material description, and a KMS
/// key with a client-chosen context (deterministic).
fn valid_client_side() -> (Envelope, Envelope) {
    let object = ObjectId::new("bucket", "key");
    let mut description = EncryptionContext::new();
    description.insert("purpose", "golden").unwrap();
    let ring = ClientKeyring::new("client-1", 2, RootKey::from_bytes([0x44; 32]), description).unwrap();
    let mut kms = LocalKms::new(common::TestRng(6));
    kms.create_key("alias/client", RootKey::from_bytes([0x55; 32])).unwrap();
    let mut context = EncryptionContext::new();
    context.insert("tenant", "t1").unwrap();
    let kms_key = ClientKms::new("alias/client", context).unwrap().generate_key(&kms).unwrap();
    let seal = |enc: &dyn s3crypt::Encryptor| {
        let mut rng = Replay::new(&(0..=255u8).cycle().take(32 + 24 + 32).collect::<Vec<_>>());
        ClientSealer::new(SealOptions::default(), 6, enc, &object, &mut rng).unwrap().1
    };
    (seal(&ring), seal(&kms_key))
}

/// Client-side envelopes: fields 17 (description) and 18 (body header), and their rules.
fn client_side_cases(sse_s3_map: &[(String, String)]) -> Vec<(String, Encoding)> {
    let (env, kenv) = valid_client_side();
    let (map, bin) = (env.to_metadata(), env.to_binary());
    let (kmap, kbin) = (kenv.to_metadata(), kenv.to_binary());
    let b64 = |s: &str| Base64::encode_string(s.as_bytes());
    let m = |name: &str, pairs: Vec<(String, String)>| {
        (format!("metadata-client-side-{name}"), Encoding::Metadata(pairs))
    };
    let b = |name: &str, bytes: Vec<u8>| (format!("binary-client-side-{name}"), Encoding::Binary(bytes));
    let with = |pairs: &[(String, String)], k: &str, v: &str| -> Vec<(String, String)> {
        let mut m = pairs.to_vec();
        m.push((k.to_string(), v.to_string()));
        m
    };
    let value = |pairs: &[(String, String)], name: &str| {
        pairs.iter().find(|(k, _)| *k == format!("s3crypt-{name}")).unwrap().1.clone()
    };
    let remove = |bytes: &[u8], tag: u8| -> Vec<u8> {
        let at = field_at(bytes, tag);
        [&bytes[..at], &bytes[at + field_len(bytes, at)..]].concat()
    };
    let mut on_s3 = sse_s3_map.to_vec();
    on_s3.push(("s3crypt-body-header".into(), value(&map, "body-header")));
    let mut description_on_s3 = sse_s3_map.to_vec();
    description_on_s3.push(("s3crypt-description".into(), value(&map, "description")));
    vec![
        ("valid-metadata-client-side".to_string(), Encoding::Metadata(map.clone())),
        ("valid-binary-client-side".to_string(), Encoding::Binary(bin.clone())),
        ("valid-metadata-client-side-kms".to_string(), Encoding::Metadata(kmap.clone())),
        ("valid-binary-client-side-kms".to_string(), Encoding::Binary(kbin.clone())),
        m("missing-description", without_field(&map, "description")),
        m("missing-body-header", without_field(&map, "body-header")),
        m("kms-missing-body-header", without_field(&kmap, "body-header")),
        m("body-header-short", set_field(&map, "body-header", &Base64::encode_string(&[1u8; 55]))),
        m("body-header-long", set_field(&map, "body-header", &Base64::encode_string(&[1u8; 57]))),
        m("description-unsorted", set_field(&map, "description", &b64(r#"{"z":"1","a":"2"}"#))),
        m("description-not-base64", set_field(&map, "description", r#"{"purpose":"golden"}"#)),
        m("description-reserved-key", set_field(&map, "description", &b64(r#"{"aws:x-amz-cek-alg":"x"}"#))),
        m("description-with-kms", with(&kmap, "s3crypt-description", &value(&map, "description"))),
        m(
            "kms-context-arn",
            set_field(&kmap, "kms-context", &b64(r#"{"aws:s3:arn":"arn:aws:s3:::bucket/key"}"#)),
        ),
        m("kms-context-reserved-other-case", set_field(&kmap, "kms-context", &b64(r#"{"AWS:Thing":"1"}"#))),
        m("kms-bucket-key", with(&kmap, "s3crypt-bucket-key", "true")),
        m("kms-key-version-1", set_field(&kmap, "key-version", "1")),
        m("body-header-on-sse-s3", on_s3),
        m("description-on-sse-s3", description_on_s3),
        m("body-header-on-upload", {
            let mut upload = with(&map, "s3crypt-upload", "true");
            upload.retain(|(k, _)| k != "s3crypt-length");
            upload.push(("s3crypt-length".into(), "0".into()));
            upload
        }),
        b("body-header-short", replace_field(&bin, 18, &[1; 55])),
        b("description-not-utf8", replace_field(&bin, 17, &[0x7b, 0xff, 0x7d])),
        b("description-spaces", replace_field(&bin, 17, br#"{"purpose": "golden"}"#)),
        b("missing-body-header", remove(&bin, 18)),
        b("missing-description", remove(&bin, 17)),
        b("header-before-description", {
            let (d, h) = (field_at(&bin, 17), field_at(&bin, 18));
            [&bin[..d], &bin[h..h + field_len(&bin, h)], &bin[d..h]].concat()
        }),
    ]
}

/// A fixed, valid multipart upload state and the object completed from it (two parts).
fn valid_multipart() -> (Envelope, Envelope) {
    let ring = Keyring::new("root-1", 3, RootKey::from_bytes([0x11; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let mut rng = common::TestRng(9);
    let (upload, state) = Upload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let parts: Vec<_> = [&b"golden"[..], b"parts"]
        .iter()
        .enumerate()
        .map(|(i, plain)| {
            let mut sealer = upload.part_sealer(i as u32 + 1, &mut rng).unwrap();
            let mut body = Vec::new();
            sealer.update(plain, &mut body).unwrap();
            *sealer.finish(&mut body).unwrap().part()
        })
        .collect();
    let done = state.complete_upload(&ring, &object, &parts, &mut rng).unwrap();
    (state, done.envelope)
}

/// Multipart envelopes: the upload state's field 14, the completed object's fields 15 and 16.
fn multipart_cases() -> Vec<(String, Encoding)> {
    let (state, object) = valid_multipart();
    let (smap, sbin) = (state.to_metadata(), state.to_binary());
    let (map, bin) = (object.to_metadata(), object.to_binary());
    let m = |name: &str, pairs: Vec<(String, String)>| {
        (format!("metadata-multipart-{name}"), Encoding::Metadata(pairs))
    };
    let b = |name: &str, bytes: Vec<u8>| (format!("binary-multipart-{name}"), Encoding::Binary(bytes));
    let set = |name: &str, value: &str| set_field(&map, name, value);
    let with = |pairs: &[(String, String)], k: &str, v: &str| -> Vec<(String, String)> {
        let mut m = pairs.to_vec();
        m.push((k.to_string(), v.to_string()));
        m
    };
    let remove = |bytes: &[u8], tag: u8| -> Vec<u8> {
        let at = field_at(bytes, tag);
        [&bytes[..at], &bytes[at + field_len(bytes, at)..]].concat()
    };
    let mut out = vec![
        ("valid-metadata-multipart".to_string(), Encoding::Metadata(map.clone())),
        ("valid-binary-multipart".to_string(), Encoding::Binary(bin.clone())),
        ("valid-metadata-upload".to_string(), Encoding::Metadata(smap.clone())),
        ("valid-binary-upload".to_string(), Encoding::Binary(sbin.clone())),
        m("parts-zero", set("parts", "0")),
        m("parts-10001", set("parts", "10001")),
        m("parts-leading-zero", set("parts", "02")),
        m("parts-overflow", set("parts", "4294967298")),
        m("missing-parts", without_field(&map, "parts")),
        m("missing-parts-digest", without_field(&map, "parts-digest")),
        m("parts-digest-short", set("parts-digest", "AAAA")),
        m("parts-digest-non-canonical", set("parts-digest", &("A".repeat(42) + "B="))),
        m("upload-false", set_field(&smap, "upload", "false")),
        m("upload-with-parts", with(&map, "s3crypt-upload", "true")),
        m("upload-with-length", set_field(&smap, "length", "6")),
        m("parts-on-upload", with(&smap, "s3crypt-parts", "2")),
    ];
    let mut twice = bin.clone();
    let at = field_at(&bin, 16);
    twice.extend_from_slice(&bin[at..at + field_len(&bin, at)]);
    out.extend([
        b("parts-short", replace_field(&bin, 15, &[0, 0, 2])),
        b("parts-zero", replace_field(&bin, 15, &[0; 4])),
        b("parts-10001", replace_field(&bin, 15, &10_001u32.to_be_bytes())),
        b("parts-digest-long", replace_field(&bin, 16, &[0; 33])),
        b("missing-parts", remove(&bin, 15)),
        b("missing-parts-digest", remove(&bin, 16)),
        b("duplicate-parts-digest", twice),
        b("upload-0", replace_field(&sbin, 14, &[0])),
        b("upload-two-bytes", replace_field(&sbin, 14, &[1, 1])),
        b("upload-with-parts", {
            let at = field_at(&bin, 15);
            [&bin[..at], &[14, 0, 1, 1], &bin[at..]].concat()
        }),
        b("parts-out-of-order", {
            // Field 15 moved before field 10: out of order.
            let (p, w) = (field_at(&bin, 15), field_at(&bin, 10));
            let parts = &bin[p..p + field_len(&bin, p)];
            [&bin[..w], parts, &bin[w..p], &bin[p + field_len(&bin, p)..]].concat()
        }),
    ]);
    out
}

/// SSE-KMS envelopes: the KMS fields, and KMS fields where they do not belong.
fn kms_cases(sse_s3_map: &[(String, String)]) -> Vec<(String, Encoding)> {
    let env = valid_kms();
    let map = env.to_metadata();
    let bin = env.to_binary();
    let b64 = |s: &str| Base64::encode_string(s.as_bytes());
    let set = |name: &str, value: &str| set_field(&map, name, value);
    let without = |name: &str| without_field(&map, name);
    let m = |name: &str, pairs: Vec<(String, String)>| {
        (format!("metadata-kms-{name}"), Encoding::Metadata(pairs))
    };
    let mut kms_on_s3 = sse_s3_map.to_vec();
    kms_on_s3.extend(
        map.iter().filter(|(k, _)| k.starts_with("s3crypt-kms") || k == "s3crypt-bucket-key").cloned(),
    );
    let mut out = vec![
        ("valid-metadata-kms".to_string(), Encoding::Metadata(map.clone())),
        ("valid-binary-kms".to_string(), Encoding::Binary(bin.clone())),
        m("missing-blob", without("kms-blob")),
        m("missing-context", without("kms-context")),
        m(
            "context-unsorted",
            set("kms-context", &b64(r#"{"tenant":"t1","aws:s3:arn":"arn:aws:s3:::bucket"}"#)),
        ),
        m(
            "context-spaces",
            set("kms-context", &b64(r#"{"aws:s3:arn": "arn:aws:s3:::bucket", "tenant": "t1"}"#)),
        ),
        m("context-duplicate-key", set("kms-context", &b64(r#"{"tenant":"t1","tenant":"t1"}"#))),
        m("context-number", set("kms-context", &b64(r#"{"tenant":1}"#))),
        m("context-not-base64", set("kms-context", r#"{"tenant":"t1"}"#)),
        m("context-too-large", set("kms-context", &b64(&format!(r#"{{"k":"{}"}}"#, "v".repeat(1100))))),
        m("blob-empty", set("kms-blob", "")),
        m("blob-too-long", set("kms-blob", &Base64::encode_string(&[7u8; 513]))),
        m("bucket-key-false", set("bucket-key", "false")),
        m("bucket-key-uppercase", set("bucket-key", "TRUE")),
        m("key-version-1", set("key-version", "1")),
        m("fields-on-sse-s3", kms_on_s3),
    ];
    // Binary: tags 11 (blob), 12 (context), 13 (bucket key).
    let replace = |tag: u8, value: &[u8]| replace_field(&bin, tag, value);
    out.extend([
        ("binary-kms-bucket-key-0".to_string(), Encoding::Binary(replace(13, &[0]))),
        ("binary-kms-bucket-key-2".to_string(), Encoding::Binary(replace(13, &[2]))),
        (
            "binary-kms-context-unsorted".to_string(),
            Encoding::Binary(replace(12, br#"{"tenant":"t1","aws:s3:arn":"arn:aws:s3:::bucket"}"#)),
        ),
        ("binary-kms-context-not-utf8".to_string(), Encoding::Binary(replace(12, &[0x7b, 0xff, 0x7d]))),
        ("binary-kms-blob-empty".to_string(), Encoding::Binary(replace(11, &[]))),
    ]);
    out
}

fn render(expect: &str, e: &Encoding) -> String {
    let (kind, body) = match e {
        Encoding::Metadata(m) => {
            ("metadata", m.iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>())
        }
        Encoding::Binary(b) => ("binary", format!("{}\n", hex(b))),
    };
    format!("expect: {expect}\nencoding: {kind}\n---\n{body}")
}

fn parse_file(text: &str) -> (String, Encoding) {
    let (head, body) = text.split_once("---\n").unwrap();
    let mut lines = head.lines();
    let expect = lines.next().unwrap().strip_prefix("expect: ").unwrap().to_string();
    let kind = lines.next().unwrap().strip_prefix("encoding: ").unwrap();
    let enc = match kind {
        "metadata" => Encoding::Metadata(
            body.lines()
                .map(|l| {
                    l.split_once(": ")
                        .map_or((l.trim_end_matches(':').to_string(), String::new()), |(k, v)| {
                            (k.to_string(), v.to_string())
                        })
                })
                .collect(),
        ),
        "binary" => Encoding::Binary(unhex(body.trim())),
        other => panic!("unknown encoding {other}"),
    };
    (expect, enc)
}

#[test]
fn golden_files() {
    if std::env::var_os("S3CRYPT_WRITE_TESTKIT").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        for (name, enc) in cases() {
            std::fs::write(dir().join(&name), render(&decode(&enc), &enc)).unwrap();
        }
    }
    let mut names: Vec<_> = std::fs::read_dir(dir()).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let expected: Vec<String> = cases().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), expected.len(), "every case has a file and every file a case");
    for path in names {
        let (expect, enc) = parse_file(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(decode(&enc), expect, "{}", path.display());
        let valid = path.file_name().unwrap().to_str().unwrap().starts_with("valid");
        assert_eq!(expect == "ok", valid, "{}: only the valid files decode", path.display());
    }
}

/// The envelope fuzz targets' seeds are these cases: `envelope_binary` gets the binary headers,
/// `envelope_map` the metadata as `name: value` lines. Kept in sync like the golden files.
#[test]
fn fuzz_seeds_are_the_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let write = std::env::var_os("S3CRYPT_WRITE_TESTKIT").is_some();
    for (name, enc) in cases() {
        let (target, bytes) = match &enc {
            Encoding::Binary(b) => ("envelope_binary", b.clone()),
            Encoding::Metadata(m) => (
                "envelope_map",
                m.iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>().into_bytes(),
            ),
        };
        let path = root.join(target).join(&name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{} is stale", path.display());
    }
}
