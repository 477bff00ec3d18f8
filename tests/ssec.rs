//! SSE-C request headers: AWS's answer for every malformed trio, and real boto3 requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

use base64ct::{Base64, Encoding};
use s3crypt::{CustomerKey, Error, SseError, WrongKeyStatus};

const ALG: &str = "x-amz-server-side-encryption-customer-algorithm";
const KEY: &str = "x-amz-server-side-encryption-customer-key";
const MD5: &str = "x-amz-server-side-encryption-customer-key-MD5";

/// From `boto3-captures/ssec_put_raw_key_auto_b64_md5.json` (boto3 1.44.8): the raw key boto3 was
/// given, and the two headers it computed from it.
const BOTO3_RAW_KEY: [u8; 32] = [
    0xa4, 0xed, 0xee, 0xa4, 0x49, 0x6b, 0xc2, 0xe1, 0x17, 0x4a, 0x81, 0x70, 0x09, 0xf9, 0xd9, 0x3d, 0xd4,
    0xac, 0x9a, 0xdf, 0xf1, 0x59, 0xe1, 0x5a, 0xd0, 0xdf, 0x4a, 0x80, 0x38, 0xa3, 0xc1, 0x5b,
];
const BOTO3_KEY_B64: &str = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=";
const BOTO3_MD5_B64: &str = "DWygnHRtgiJ77HCm+1rvHw==";
/// `ssec_put_b64_key_without_md5_double_encoded.json`: the base64 string passed as if raw, so boto3
/// encoded it again (60 characters, 44 bytes) and hashed that.
const BOTO3_DOUBLE_KEY: &str = "cE8zdXBFbHJ3dUVYU29Gd0NmblpQZFNzbXQveFdlRmEwTjlLZ0RpandWcz0=";
const BOTO3_DOUBLE_MD5: &str = "LZHe5m3jZJdfxjptzJ7/DA==";

fn parse(headers: &[(&str, &str)]) -> Result<Option<CustomerKey>, Error> {
    CustomerKey::from_headers(headers)
}

fn trio(alg: &str, key: &str, md5: &str) -> Vec<(&'static str, String)> {
    vec![(ALG, alg.to_string()), (KEY, key.to_string()), (MD5, md5.to_string())]
}

fn parse_owned(h: &[(&str, String)]) -> Result<Option<CustomerKey>, Error> {
    CustomerKey::from_headers(h)
}

fn md5_b64(bytes: &[u8]) -> String {
    use md5::Digest;
    Base64::encode_string(&md5::Md5::digest(bytes))
}

#[test]
fn boto3_requests_parse_to_the_raw_key() {
    let key = parse_owned(&trio("AES256", BOTO3_KEY_B64, BOTO3_MD5_B64)).unwrap().unwrap();
    assert_eq!(key.expose_secret(), &BOTO3_RAW_KEY);
    assert_eq!(Base64::encode_string(&key.md5()), BOTO3_MD5_B64);
    assert_eq!(
        key.response_headers(),
        [(ALG, "AES256".to_string()), (MD5, BOTO3_MD5_B64.to_string())],
        "the response echoes algorithm and MD5, never the key"
    );
    // boto3's double-encoding pitfall is refused as an invalid key.
    assert_eq!(
        parse_owned(&trio("AES256", BOTO3_DOUBLE_KEY, BOTO3_DOUBLE_MD5)),
        Err(SseError::InvalidCustomerKey.into())
    );
}

#[test]
fn header_names_are_case_insensitive_and_other_headers_ignored() {
    let h = [
        ("Host", "example.com"),
        ("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256"),
        ("x-amz-server-side-encryption-customer-KEY", BOTO3_KEY_B64),
        ("x-amz-server-side-encryption-customer-key-md5", BOTO3_MD5_B64),
    ];
    assert!(parse(&h).unwrap().is_some());
    assert!(parse(&[("host", "x")]).unwrap().is_none(), "no SSE-C headers: not an SSE-C request");
}

#[test]
fn missing_headers() {
    assert_eq!(
        parse(&[(KEY, BOTO3_KEY_B64), (MD5, BOTO3_MD5_B64)]),
        Err(SseError::MissingCustomerAlgorithm.into())
    );
    assert_eq!(parse(&[(ALG, "AES256"), (MD5, BOTO3_MD5_B64)]), Err(SseError::MissingCustomerKey.into()));
    assert_eq!(parse(&[(ALG, "AES256"), (KEY, BOTO3_KEY_B64)]), Err(SseError::MissingCustomerKeyMd5.into()));
    assert_eq!(parse(&[(MD5, BOTO3_MD5_B64)]), Err(SseError::MissingCustomerAlgorithm.into()));
}

#[test]
fn algorithms_other_than_aes256() {
    for alg in ["aes256", "AES128", "aws:kms", "AES256 ", "", "AES-256"] {
        assert_eq!(
            parse_owned(&trio(alg, BOTO3_KEY_B64, BOTO3_MD5_B64)),
            Err(SseError::InvalidCustomerAlgorithm.into()),
            "{alg:?}"
        );
    }
}

#[test]
fn keys_of_the_wrong_size() {
    for len in [0usize, 16, 31, 33, 64] {
        let raw = vec![0x5a; len];
        let b64 = Base64::encode_string(&raw);
        // Even with a matching MD5, the key is refused for its size.
        assert_eq!(
            parse_owned(&trio("AES256", &b64, &md5_b64(&raw))),
            Err(SseError::InvalidCustomerKey.into()),
            "{len} bytes"
        );
    }
}

#[test]
fn keys_that_are_not_strict_base64() {
    let k = BOTO3_KEY_B64;
    let cases = [
        format!(" {k}"),
        format!("{k} "),
        format!("{}\n{}", &k[..20], &k[20..]),
        format!("{}\r\n", k),
        k.replace('/', "_"),                 // URL-safe alphabet
        k.trim_end_matches('=').to_string(), // missing padding
        format!("{k}AAAA"),                  // trailing junk
        format!("{k}="),
        k.replace("Vs=", "Vt="), // non-canonical final digit
        "!".repeat(44),
    ];
    for bad in &cases {
        assert_eq!(
            parse_owned(&trio("AES256", bad, BOTO3_MD5_B64)),
            Err(SseError::InvalidCustomerKey.into()),
            "{bad:?}"
        );
    }
}

#[test]
fn md5_mismatches() {
    let other = md5_b64(b"something else");
    for bad in [
        other.as_str(),
        "",
        "DWygnHRtgiJ77HCm+1rvHw",
        "DWygnHRtgiJ77HCm+1rvHw==\n",
        "DWygnHRtgiJ77HCm+1rvHx==",
        "AAAA",
    ] {
        assert_eq!(
            parse_owned(&trio("AES256", BOTO3_KEY_B64, bad)),
            Err(SseError::CustomerKeyMd5Mismatch.into()),
            "{bad:?}"
        );
    }
}

#[test]
fn duplicated_headers_are_ambiguous() {
    let mut h = trio("AES256", BOTO3_KEY_B64, BOTO3_MD5_B64);
    h.push((KEY, BOTO3_KEY_B64.to_string()));
    assert_eq!(parse_owned(&h), Err(SseError::InvalidCustomerKey.into()));
}

#[test]
fn copy_source_headers_are_separate() {
    let h = [
        ("x-amz-copy-source", "bkt/k"),
        ("x-amz-copy-source-server-side-encryption-customer-algorithm", "AES256"),
        ("x-amz-copy-source-server-side-encryption-customer-key", BOTO3_KEY_B64),
        ("x-amz-copy-source-server-side-encryption-customer-key-MD5", BOTO3_MD5_B64),
        (ALG, "AES256"),
        (KEY, "6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4="),
        (MD5, "arxBvwY2V4SiOne6yppVPQ=="),
    ];
    let source = CustomerKey::from_copy_source_headers(&h).unwrap().unwrap();
    let dest = CustomerKey::from_headers(&h).unwrap().unwrap();
    assert_eq!(source.expose_secret(), &BOTO3_RAW_KEY);
    assert_ne!(source, dest);
    assert_eq!(CustomerKey::from_copy_source_headers(&[(ALG, "AES256")]).unwrap(), None);
}

#[test]
fn s3_responses() {
    let r = Error::from(SseError::CustomerKeyMd5Mismatch).s3_response(WrongKeyStatus::default());
    assert_eq!((r.status, &*r.code), (400, "InvalidArgument"));
    assert_eq!(r.message, "The calculated MD5 hash of the key did not match the hash that was provided.");
    let r = Error::WrongKey.s3_response(WrongKeyStatus::AccessDenied);
    assert_eq!((r.status, &*r.code, &*r.message), (403, "AccessDenied", "Access Denied"));
    assert_eq!(Error::WrongKey.s3_response(WrongKeyStatus::BadRequest).status, 400);
    let r = Error::Authentication.s3_response(WrongKeyStatus::default());
    assert_eq!(r.status, 500, "a tampered object is never served");
    let r = SseError::InsecureTransport.response();
    assert_eq!((r.status, &*r.code), (400, "InvalidRequest"));
    assert_eq!(
        SseError::MissingCustomerKey.response().message,
        "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
    );
}
