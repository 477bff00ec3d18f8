//! `docs/FORMAT.md` is normative, and its worked examples are checked here: every `example.*` hex
//! line of the document is recomputed twice, once by s3crypt and once independently from the spec
//! with the RustCrypto primitives, and all three must agree.
//!
//! `S3CRYPT_PRINT_EXAMPLES=1 cargo test --test format -- --nocapture` prints the lines to paste.
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

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use common::Replay;
use hkdf::Hkdf;
use s3crypt::{ChunkSize, DataKey, Envelope, Keyring, ObjectId, ObjectSealer, RootKey, SealOptions, Sealer};
use sha2::Sha512;
use std::collections::BTreeMap;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The `example.NAME HEX` lines of FORMAT.md's text blocks.
fn documented() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("example."))
        .map(|l| {
            let (name, value) = l.split_once(char::is_whitespace).expect("name and value");
            (name.to_string(), value.trim().to_string())
        })
        .collect()
}

/// The body example, computed from the spec alone: HKDF-Expand-SHA-512 and AES-256-GCM per chunk.
fn body_by_the_spec(
    key: &[u8; 32],
    salt: &[u8; 24],
    ctx: &[u8],
    cs: usize,
    msg: &[u8],
) -> (Vec<u8>, [u8; 76]) {
    let label =
        if cs == 16384 { "AEAD_AES_256_GCM".to_string() } else { format!("AEAD_AES_256_GCM;chunk={cs}") };
    let mut prk = [0u8; 64];
    prk[..32].copy_from_slice(key);
    let info = [b"c2sp.org/chunked-encryption@v1+".as_slice(), label.as_bytes(), &[0], salt, ctx].concat();
    let mut okm = [0u8; 76];
    Hkdf::<Sha512>::from_prk(&prk).unwrap().expand(&info, &mut okm).unwrap();
    let gcm = Aes256Gcm::new(okm[..32].try_into().unwrap());
    let mut out = [salt.as_slice(), &okm[44..76]].concat();
    let n = msg.len() / cs + 1;
    for i in 0..n {
        let mut nonce: [u8; 12] = okm[32..44].try_into().unwrap();
        for (b, x) in nonce[4..].iter_mut().zip((i as u64).to_be_bytes()) {
            *b ^= x;
        }
        let mut chunk = msg[i * cs..((i + 1) * cs).min(msg.len())].to_vec();
        let tag = gcm.encrypt_inout_detached(&nonce.into(), &[], chunk.as_mut_slice().into()).unwrap();
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&tag);
    }
    (out, okm)
}

#[test]
fn body_examples() {
    let doc = documented();
    let print = std::env::var_os("S3CRYPT_PRINT_EXAMPLES").is_some();
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let salt: [u8; 24] = core::array::from_fn(|i| 0xa0 + i as u8);
    for (name, cs, msg) in [
        ("body16k", ChunkSize::C2SP, b"s3crypt worked example".to_vec()),
        ("body64k", ChunkSize::KIB_64, b"s3crypt worked example".to_vec()),
    ] {
        let ctx = b"example context";
        let mut sealer = Sealer::new(&DataKey::from_bytes(key), cs, ctx, &mut Replay::new(&salt)).unwrap();
        let mut stored = Vec::new();
        sealer.update(&msg, &mut stored).unwrap();
        sealer.finish(&mut stored).unwrap();
        let (spec, okm) = body_by_the_spec(&key, &salt, ctx, cs.bytes(), &msg);
        assert_eq!(hex(&stored), hex(&spec), "{name}: s3crypt and the spec disagree");
        let lines = [
            ("key", hex(&key)),
            ("salt", hex(&salt)),
            ("context", hex(ctx)),
            ("chunk_size", cs.bytes().to_string()),
            ("plaintext", hex(&msg)),
            ("aead_key", hex(&okm[..32])),
            ("base_nonce", hex(&okm[32..44])),
            ("commitment", hex(&okm[44..])),
            ("stored", hex(&stored)),
        ];
        for (field, value) in lines {
            let full = format!("{name}.{field}");
            if print {
                println!("example.{full:<22} {value}");
            } else {
                assert_eq!(doc.get(&full), Some(&value), "FORMAT.md example.{full}");
            }
        }
    }
}

/// The envelope example: an SSE-S3 object sealed with replayed randomness, every intermediate value
/// recomputed from FORMAT.md §2-§3 with independent HKDF and AES-GCM calls.
#[test]
fn envelope_example() {
    let doc = documented();
    let print = std::env::var_os("S3CRYPT_PRINT_EXAMPLES").is_some();
    let root: [u8; 32] = core::array::from_fn(|i| 0x40 + i as u8);
    let data_key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
    let body_salt: [u8; 24] = core::array::from_fn(|i| 0xa0 + i as u8);
    let wrap_salt: [u8; 32] = core::array::from_fn(|i| 0xc0 + i as u8);
    let (bucket, key, msg) =
        (b"examplebucket".as_slice(), b"photos/cat.jpg".as_slice(), b"s3crypt worked example");
    let ring = Keyring::new("root-1", 7, RootKey::from_bytes(root)).unwrap();
    let mut rng = Replay::new(&[&data_key[..], &body_salt, &wrap_salt].concat());
    let mut sealer =
        ObjectSealer::new(SealOptions { md5: true, ..SealOptions::default() }, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(msg, &mut body).unwrap();
    let envelope = sealer.finish(&mut body, &ring, &ObjectId::new(bucket, key), &mut rng).unwrap();
    assert!(rng.exhausted());

    // The body: C2SP with the s3crypt body context.
    let mut ctx = b"s3crypt/v1 body\0".to_vec();
    ctx.extend_from_slice(&[1, 14, 0, 0, 0, 0, 0]);
    let (spec_body, _) = body_by_the_spec(&data_key, &body_salt, &ctx, 16384, msg);
    assert_eq!(hex(&body), hex(&spec_body));

    // The key wrap.
    let mut info = b"s3crypt/v1 key wrap\0".to_vec();
    info.extend_from_slice(&[1, 1, 6]);
    info.extend_from_slice(b"root-1");
    info.extend_from_slice(&7u32.to_be_bytes());
    let mut okm = [0u8; 64];
    Hkdf::<Sha512>::new(Some(&wrap_salt), &root).expand(&info, &mut okm).unwrap();
    let (kek, check) = okm.split_at(32);
    let mut header = b"S3CE\x01".to_vec();
    let mut tlv = |tag: u8, v: &[u8]| {
        header.push(tag);
        header.extend_from_slice(&(v.len() as u16).to_be_bytes());
        header.extend_from_slice(v);
    };
    tlv(1, &[1]);
    tlv(2, &[1]);
    tlv(3, &[14]);
    tlv(4, &(msg.len() as u64).to_be_bytes());
    tlv(5, &[1]);
    tlv(6, b"root-1");
    tlv(7, &7u32.to_be_bytes());
    tlv(8, &wrap_salt);
    tlv(9, check);
    let mut aad = b"s3crypt/v1 envelope\0".to_vec();
    aad.extend_from_slice(&header);
    for part in [bucket, key] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part);
    }
    use md5::Digest;
    let mut payload = data_key.to_vec();
    payload.extend_from_slice(&[1, 16]);
    payload.extend_from_slice(&md5::Md5::digest(msg));
    let gcm = Aes256Gcm::new(kek.try_into().unwrap());
    let tag = gcm.encrypt_inout_detached(&[0; 12].into(), &aad, payload.as_mut_slice().into()).unwrap();
    let wrapped = [payload.as_slice(), tag.as_slice()].concat();
    let mut binary = header.clone();
    binary.push(10);
    binary.extend_from_slice(&(wrapped.len() as u16).to_be_bytes());
    binary.extend_from_slice(&wrapped);
    assert_eq!(hex(&envelope.to_binary()), hex(&binary), "s3crypt and the spec disagree");
    assert_eq!(Envelope::from_binary(&binary).unwrap(), envelope);

    let mut lines = vec![
        ("root_key".to_string(), hex(&root)),
        ("key_id".into(), "root-1".into()),
        ("key_version".into(), "7".into()),
        ("bucket".into(), hex(bucket)),
        ("object_key".into(), hex(key)),
        ("plaintext".into(), hex(msg)),
        ("data_key".into(), hex(&data_key)),
        ("body_salt".into(), hex(&body_salt)),
        ("body_context".into(), hex(&ctx)),
        ("body".into(), hex(&body)),
        ("wrap_salt".into(), hex(&wrap_salt)),
        ("wrap_info".into(), hex(&info)),
        ("kek".into(), hex(kek)),
        ("key_check".into(), hex(check)),
        ("wrap_aad".into(), hex(&aad)),
        ("wrapped_key".into(), hex(&wrapped)),
        ("binary".into(), hex(&binary)),
    ];
    for (name, value) in envelope.to_metadata() {
        lines.push((format!("meta.{name}"), value));
    }
    for (field, value) in lines {
        let full = format!("envelope.{field}");
        if print {
            println!("example.{full:<30} {value}");
        } else {
            assert_eq!(doc.get(&full), Some(&value), "FORMAT.md example.{full}");
        }
    }
}
