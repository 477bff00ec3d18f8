//! The S3EC instruction-file parser never panics, and whatever it accepts (legacy V1/CBC objects
//! included) round-trips. The input is
//! the object's `name: value` metadata lines, a blank line, then the instruction file's body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{CommitmentPolicy, S3ecEnvelope, S3ecMetadata, S3ecOptions};

fuzz_target!(|data: &[u8]| {
    let split = data.windows(2).position(|w| w == b"\n\n").unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let body = body.get(2..).unwrap_or_default();
    let text = String::from_utf8_lossy(head);
    let pairs: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    // The legacy opt-ins on: V1 and CBC envelopes must round-trip too.
    let options = S3ecOptions::new()
        .with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .enable_legacy_unauthenticated_modes(true)
        .enable_legacy_wrapping_algorithms(true);
    let Ok(envelope) = S3ecEnvelope::from_instruction_file(pairs.iter().copied(), body, &options) else {
        return;
    };
    let (on_object, file) = envelope.to_instruction_file();
    let again = S3ecEnvelope::from_instruction_file(
        on_object.iter().map(|(k, v)| (*k, v.as_str())),
        file.as_bytes(),
        &options,
    )
    .expect("canonical output decodes");
    assert_eq!(again, envelope);
    let map = envelope.to_metadata();
    assert_eq!(
        S3ecEnvelope::from_metadata(map.iter().map(|(k, v)| (*k, v.as_str())), &options).ok(),
        Some(S3ecMetadata::Envelope(envelope))
    );
});
