//! Writes S3 Encryption Client objects with s3crypt for AWS's own client to read.
//!
//! `cargo run --example s3ec_write -- <dir>` seals V2 and V3 objects (AES/GCM and kms+context wraps,
//! sizes 0 to 1 MiB + 3, ASCII and non-ASCII contexts, metadata and instruction-file forms) into
//! `<dir>`, each as `<name>.json` (metadata, instruction file, KMS answers, seeded plaintext) and
//! `<name>.bin` (body), the format of tests/s3ec/vectors. `.ci/run` then has AWS's Python client
//! decrypt every one: `python tests/s3ec/check_decrypt.py <dir>`.

use s3crypt::{
    CommitmentPolicy, EncryptionContext, Kms, LocalKms, OsRng, RootKey, S3ecAesKey, S3ecEnvelope,
    S3ecOptions, S3ecSealer,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;

const KMS_KEY_ID: &str = "s3crypt-s3ec-check";
const AES_KEY: [u8; 32] = [0x5a; 32];

/// The seeded plaintext both sides regenerate: SHA-256(seed ‖ BE32(i)) blocks, truncated.
fn plaintext(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut i = 0u32;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update(i.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        i += 1;
    }
    out.truncate(len);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(bytes)
}

fn context_json(c: &EncryptionContext) -> Value {
    Value::Object(c.iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: s3ec_write <dir>")?;
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let mut kms = LocalKms::new(OsRng);
    kms.create_key(KMS_KEY_ID, RootKey::generate(&mut OsRng)?)?;
    let aes = S3ecAesKey::from_bytes(AES_KEY);
    let mut ascii = EncryptionContext::new();
    ascii.insert("tenant", "t1")?;
    let mut utf8 = EncryptionContext::new();
    utf8.insert("projet", "chiffré")?;
    utf8.insert("名前", "値 🔐")?;
    let mut written = 0;
    for (version, policy) in [
        (2, CommitmentPolicy::ForbidEncryptAllowDecrypt),
        (3, CommitmentPolicy::RequireEncryptRequireDecrypt),
    ] {
        let options = S3ecOptions::new().with_commitment_policy(policy);
        for wrap in ["kms+context", "AES/GCM"] {
            for size in [0usize, 1, 15, 16, 17, (1 << 20) + 3] {
                for (ctx_name, context) in [("ascii", &ascii), ("utf8", &utf8)] {
                    if size > 17 && ctx_name != "ascii" {
                        continue;
                    }
                    let tag = if wrap == "AES/GCM" { "aes" } else { "kms" };
                    let name = format!("rs-v{version}-{tag}-{size}-{ctx_name}");
                    let data = plaintext(&name, size);
                    let sealer = if wrap == "AES/GCM" {
                        S3ecSealer::aes(&aes, context.clone(), &options, &mut OsRng)?
                    } else {
                        S3ecSealer::with_kms(&kms, KMS_KEY_ID, context, &options, &mut OsRng)?
                    };
                    let (envelope, body) = sealer.seal(&data)?;
                    let kms_answer = if wrap == "AES/GCM" {
                        Value::Null
                    } else {
                        let request = envelope.kms_decrypt_request(KMS_KEY_ID, context)?;
                        let plain = kms.decrypt(&request)?;
                        json!({
                            "key_id": KMS_KEY_ID,
                            "ciphertext_blob": b64(&request.ciphertext_blob),
                            "plaintext": b64(S3ecEnvelope::kms_data_key(&plain).expose_secret()),
                            "context": context_json(&request.context),
                        })
                    };
                    let mut forms = vec![(name.clone(), envelope.to_metadata(), None)];
                    if size == 17 {
                        let (on_object, file) = envelope.to_instruction_file();
                        forms.push((format!("{name}-instr"), on_object, Some(file)));
                    }
                    for (form, metadata, instruction) in forms {
                        std::fs::write(dir.join(format!("{form}.bin")), &body)?;
                        let metadata: Map<String, Value> =
                            metadata.into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect();
                        let desc = json!({
                            "name": form,
                            "version": version,
                            "wrap": wrap,
                            "metadata": metadata,
                            "instruction": instruction,
                            "body": format!("{form}.bin"),
                            "plaintext": {"len": size, "seed": name, "sha256": hex(&Sha256::digest(&data))},
                            "context": if wrap == "AES/GCM" { Value::Null } else { context_json(context) },
                            "kms": kms_answer,
                            "aes_key": if wrap == "AES/GCM" { Value::String(hex(&AES_KEY)) } else { Value::Null },
                            "python_decrypts": true,
                        });
                        std::fs::write(dir.join(format!("{form}.json")), serde_json::to_vec_pretty(&desc)?)?;
                        written += 1;
                    }
                }
            }
        }
    }
    println!("wrote {written} S3EC objects to {}", dir.display());
    Ok(())
}
