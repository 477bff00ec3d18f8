//! The hand-written parsers of request state never panic, and what they accept round-trips: the
//! PutBucketEncryption XML parser (accepted configurations re-serialise and parse to the same
//! value), the canonical upload-state JSON (accepted input is byte-identical to its re-encoding),
//! and `Range` headers (an accepted range lies inside the object and is not empty).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{BucketEncryption, SseKms, UploadEncryption, parse_range};

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = BucketEncryption::from_xml(data) {
        let xml = config.to_xml();
        assert_eq!(BucketEncryption::from_xml(xml.as_bytes()).as_ref(), Ok(&config));
    }
    if let Ok(state) = UploadEncryption::from_json(data) {
        assert_eq!(state.to_json().as_bytes(), data, "the upload state encoding is canonical");
    }
    if let Ok(settings) = SseKms::from_json(data) {
        assert_eq!(settings.to_json().as_bytes(), data, "the SSE-KMS settings encoding is canonical");
    }
    if let (Some((&len, rest)), true) = (data.split_first(), data.len() > 1) {
        if let Ok(value) = core::str::from_utf8(rest) {
            let len = u64::from(len) * 1000;
            if let Ok(Some(range)) = parse_range(value, len) {
                assert!(range.start < range.end && range.end <= len, "{value:?} {len}: {range:?}");
            }
        }
    }
});
