//! The S3EC metadata codec never panics; whatever it accepts re-encodes and decodes again to the
//! same envelope, as metadata and as an instruction file. The input is `name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{CommitmentPolicy, S3ecEnvelope, S3ecMetadata, S3ecOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    let options = S3ecOptions::new().with_commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt);
    let Ok(S3ecMetadata::Envelope(envelope)) = S3ecEnvelope::from_metadata(pairs.iter().copied(), &options)
    else {
        return;
    };
    let map = envelope.to_metadata();
    let again = S3ecEnvelope::from_metadata(map.iter().map(|(k, v)| (*k, v.as_str())), &options)
        .expect("canonical output decodes");
    assert_eq!(again, S3ecMetadata::Envelope(envelope.clone()));
    let (on_object, file) = envelope.to_instruction_file();
    let from_file = S3ecEnvelope::from_instruction_file(
        on_object.iter().map(|(k, v)| (*k, v.as_str())),
        file.as_bytes(),
        &options,
    )
    .expect("instruction-file form decodes");
    assert_eq!(from_file, envelope);
});
