//! The SSE-KMS read path's object check never panics, and never lets a request through for an
//! envelope whose context does not name the object read (its bucket, for a bucket key). The input
//! is a bucket line, an object-key line, then the envelope as `name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{Envelope, KmsKey, ObjectId, S3_ARN_KEY, s3_arn};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let (Some(bucket), Some(key)) = (lines.next(), lines.next()) else { return };
    let pairs: Vec<(&str, &str)> = lines.map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    let Ok(envelope) = Envelope::from_metadata(pairs.iter().copied()) else { return };
    let object = ObjectId::new(bucket, key);
    let Ok(request) = KmsKey::decrypt_request(&envelope, &object) else { return };
    assert!(!bucket.is_empty() && !bucket.contains('/'), "no ARN for an ambiguous bucket name");
    let named = if envelope.bucket_key() { None } else { Some(key.as_bytes()) };
    let arn = s3_arn(bucket.as_bytes(), named).expect("a checked object has an ARN");
    assert_eq!(request.context.get(S3_ARN_KEY), Some(arn.as_str()));
    assert_eq!(request.key_id, envelope.key_id());
});
