//! SSE-C header parsing never panics, and accepts only a consistent trio: algorithm `AES256`, a
//! 32-byte key, and its MD5. The input is `name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::CustomerKey;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let headers: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    for (prefix, parsed) in [
        ("x-amz-server-side-encryption-customer-", CustomerKey::from_headers(&headers)),
        (
            "x-amz-copy-source-server-side-encryption-customer-",
            CustomerKey::from_copy_source_headers(&headers),
        ),
    ] {
        if let Ok(Some(key)) = parsed {
            let get = |s: &str| {
                let name = format!("{prefix}{s}");
                headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| *v)
            };
            assert_eq!(get("algorithm"), Some("AES256"));
            let [_, (_, md5)] = key.response_headers();
            assert_eq!(get("key-md5"), Some(md5.as_str()));
        }
    }
});
