//! The S3EC metadata codec never panics; whatever it accepts re-encodes and decodes again to the
//! same envelope, as metadata and as an instruction file; the legacy opt-ins only add objects, never
//! change how a non-legacy one parses; and the key unwraps and body opener (CBC included) never
//! panic on what the codec accepted. The input is `name: value` lines, then the body after a NUL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{
    CommitmentPolicy, EncryptionContext, S3ecAesKey, S3ecDataKey, S3ecEnvelope, S3ecMetadata, S3ecOptions,
};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let text = String::from_utf8_lossy(head);
    let pairs: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    let current = S3ecOptions::new().with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    let legacy = current
        .enable_legacy_unauthenticated_modes(true)
        .enable_legacy_wrapping_algorithms(true)
        .with_buffer_limit(1 << 16);
    let without = S3ecEnvelope::from_metadata(pairs.iter().copied(), &current);
    let Ok(S3ecMetadata::Envelope(envelope)) = S3ecEnvelope::from_metadata(pairs.iter().copied(), &legacy)
    else {
        assert!(!matches!(without, Ok(S3ecMetadata::Envelope(_))), "an opt-in refused an object");
        return;
    };
    if let Ok(S3ecMetadata::Envelope(plain)) = &without {
        assert_eq!(plain, &envelope, "an opt-in changed how an object parses");
    }
    let map = envelope.to_metadata();
    let again = S3ecEnvelope::from_metadata(map.iter().map(|(k, v)| (*k, v.as_str())), &legacy)
        .expect("canonical output decodes");
    assert_eq!(again, S3ecMetadata::Envelope(envelope.clone()));
    let (on_object, file) = envelope.to_instruction_file();
    let from_file = S3ecEnvelope::from_instruction_file(
        on_object.iter().map(|(k, v)| (*k, v.as_str())),
        file.as_bytes(),
        &legacy,
    )
    .expect("instruction-file form decodes");
    assert_eq!(from_file, envelope);
    // The unwraps (AES/GCM, AESWrap, V1 AES) and the KMS request checks, then the opener.
    let _ = envelope.unwrap_aes(&S3ecAesKey::from_bytes([7; 32]));
    let _ = envelope.kms_decrypt_request("key", &EncryptionContext::new());
    if let Ok(opener) = envelope.opener(&S3ecDataKey::from_bytes([7; 32]), &legacy) {
        let _ = opener.open(body);
    }
});
