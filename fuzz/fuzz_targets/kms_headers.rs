//! SSE request headers (SSE-S3, SSE-KMS with key id, context and bucket key, SSE-C) and encryption
//! contexts never panic; an accepted context is canonical and round-trips through its header form.
//! The input is `name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{EncryptionContext, ObjectId, SseRequest};

const ARN: &str = "arn:aws:s3:::bkt/k";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let headers: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    let object = ObjectId::new("bkt", "k");
    if let Ok(SseRequest::SseKms(request)) = SseRequest::from_headers(&headers, &object) {
        let again = EncryptionContext::from_header(&request.context.to_header(), ARN)
            .expect("canonical output parses");
        assert_eq!(again, request.context);
        assert!(request.context.iter().all(|(k, _)| !k.to_ascii_lowercase().starts_with("aws:")));
        if let Ok(settings) = request.settings("alias/aws/s3", false) {
            let context = settings.context_for(&object).expect("a parsed context fits with the ARN");
            assert!(context.get("aws:s3:arn").is_some());
        }
    }
    // Any value as a context header on its own.
    for (_, value) in &headers {
        if let Ok(context) = EncryptionContext::from_header(value, ARN) {
            assert_eq!(EncryptionContext::from_header(&context.to_header(), ARN).as_ref(), Ok(&context));
        }
    }
});
