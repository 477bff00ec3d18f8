//! `docs/FORMAT.md` is normative, and its worked examples are checked here: every `example.*` hex
//! line of the document is recomputed twice, once by s3crypt and once independently from the spec
//! with the RustCrypto primitives, and all three must agree.
//!
//! `S3CRYPT_PRINT_EXAMPLES=1 cargo test --test format -- --nocapture` prints the lines to paste.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation)]

mod common;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::Aes256Gcm;
use common::Replay;
use hkdf::Hkdf;
use s3crypt::{ChunkSize, DataKey, Sealer};
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
fn body_by_the_spec(key: &[u8; 32], salt: &[u8; 24], ctx: &[u8], cs: usize, msg: &[u8]) -> (Vec<u8>, [u8; 76]) {
    let label = if cs == 16384 { "AEAD_AES_256_GCM".to_string() } else { format!("AEAD_AES_256_GCM;chunk={cs}") };
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
