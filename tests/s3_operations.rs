//! The per-operation request API: every S3 refusal with S3's exact status, code and message, the
//! keys each operation resolves, and the response headers of every mode. Header sets are the real
//! requests boto3 1.44.8 sent (`boto3-captures/`, copied here as constants).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod common;

use common::{TestRng, open_object, pattern, seal_object};
use s3crypt::{
    BucketEncryption, CustomerKey, DefaultAlgorithm, Envelope, Error, Keyring, KmsKey, LocalKms, ObjectId,
    OpenKey, Operation, RootKey, S3ErrorResponse, S3Request, SealKey, SealOptions, SseHeaders, SseKms,
    UploadEncryption, WrongKeyStatus, parse_range,
};

type H = [(&'static str, &'static str)];

const ALG: &str = "x-amz-server-side-encryption-customer-algorithm";
const KEY: &str = "x-amz-server-side-encryption-customer-key";
const MD5: &str = "x-amz-server-side-encryption-customer-key-MD5";
const COPY_ALG: &str = "x-amz-copy-source-server-side-encryption-customer-algorithm";
const COPY_KEY: &str = "x-amz-copy-source-server-side-encryption-customer-key";
const COPY_MD5: &str = "x-amz-copy-source-server-side-encryption-customer-key-MD5";
const SSE: &str = "x-amz-server-side-encryption";

/// `ssec_put_raw_key_auto_b64_md5.json` / `ssec_get.json`: boto3's SSE-C key and its MD5.
const BOTO3_KEY_B64: &str = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=";
const BOTO3_MD5_B64: &str = "DWygnHRtgiJ77HCm+1rvHw==";
/// `upload_part_copy_ssec_both.json`: the destination key of an UploadPartCopy.
const BOTO3_KEY2_B64: &str = "6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=";
const BOTO3_MD5_2_B64: &str = "arxBvwY2V4SiOne6yppVPQ==";

/// `ssec_get_range.json`: a ranged SSE-C GET as boto3 sends it (all headers but auth and UA).
const SSEC_GET_RANGE: &H = &[
    ("Host", "127.0.0.1:33245"),
    ("Accept-Encoding", "identity"),
    ("Range", "bytes=100-199"),
    (ALG, "AES256"),
    (KEY, BOTO3_KEY_B64),
    (MD5, BOTO3_MD5_B64),
    ("x-amz-checksum-mode", "ENABLED"),
    ("X-Amz-Content-SHA256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
];
/// `ssec_get.json`, `ssec_head.json`, `ssec_get_object_attributes_b64_md5.json`,
/// `ssec_list_parts_b64_md5.json`, `ssec_complete_multipart.json`, `ssec_upload_part_1.json`:
/// the SSE-C trio boto3 sends.
const SSEC_TRIO: &H = &[
    ("Host", "127.0.0.1:33245"),
    (ALG, "AES256"),
    (KEY, BOTO3_KEY_B64),
    (MD5, BOTO3_MD5_B64),
    ("x-amz-checksum-mode", "ENABLED"),
];
/// `sse_kms_get_plain.json`: a GET of an SSE-S3/SSE-KMS object carries no SSE header.
const PLAIN_GET: &H =
    &[("Host", "127.0.0.1:33245"), ("Accept-Encoding", "identity"), ("x-amz-checksum-mode", "ENABLED")];
/// `sse_kms_upload_part_no_sse_headers.json`.
const KMS_UPLOAD_PART: &H =
    &[("Host", "127.0.0.1:33245"), ("x-amz-checksum-crc32", "Xg5djw=="), ("Content-Length", "5")];
/// `sse_s3_put.json`.
const SSE_S3_PUT: &H = &[(SSE, "AES256"), ("x-amz-checksum-crc32", "NhCmhg=="), ("Content-Length", "5")];
/// `sse_kms_put_with_context_bucket_key.json`.
const KMS_PUT: &H = &[
    (SSE, "aws:kms"),
    (
        "x-amz-server-side-encryption-aws-kms-key-id",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    (
        "x-amz-server-side-encryption-context",
        "eyJ0ZW5hbnQiOiJ0MSIsImF3czpzMzphcm4iOiJhcm46YXdzOnMzOjo6Ymt0L2sifQ==",
    ),
    ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
    ("x-amz-checksum-crc32", "NhCmhg=="),
];
/// `copy_ssec_to_sse_kms.json`.
const COPY_SSEC_TO_KMS: &H = &[
    ("x-amz-copy-source", "bkt/k"),
    (COPY_ALG, "AES256"),
    (COPY_KEY, BOTO3_KEY_B64),
    (SSE, "aws:kms"),
    ("x-amz-server-side-encryption-aws-kms-key-id", "alias/my-key"),
    (COPY_MD5, BOTO3_MD5_B64),
];
/// `upload_part_copy_ssec_both.json`.
const UPLOAD_PART_COPY_SSEC_BOTH: &H = &[
    ("x-amz-copy-source", "bkt/k"),
    ("x-amz-copy-source-range", "bytes=0-99"),
    (COPY_ALG, "AES256"),
    (COPY_KEY, BOTO3_KEY_B64),
    (ALG, "AES256"),
    (KEY, BOTO3_KEY2_B64),
    (MD5, BOTO3_MD5_2_B64),
    (COPY_MD5, BOTO3_MD5_B64),
];
/// `dsse_kms_put.json`.
const DSSE_PUT: &H = &[(SSE, "aws:kms:dsse")];

fn object() -> ObjectId<'static> {
    ObjectId::new("bkt", "k")
}

fn boto3_key() -> CustomerKey {
    CustomerKey::from_base64(BOTO3_KEY_B64).unwrap()
}

fn keyring() -> Keyring {
    Keyring::new("root", 1, RootKey::from_bytes([7; 32])).unwrap()
}

/// An object of 65,536 bytes sealed under each mode.
fn sse_s3_envelope() -> Envelope {
    seal_object(&keyring(), &object(), &pattern(65536), SealOptions::default(), 1).0
}
fn ssec_envelope() -> Envelope {
    seal_object(&boto3_key(), &object(), &pattern(65536), SealOptions::default(), 2).0
}
fn kms_envelope(bucket_key: bool) -> Envelope {
    let mut kms = LocalKms::new(TestRng(3));
    kms.create_key("alias/my-key", RootKey::from_bytes([9; 32])).unwrap();
    let key = SseKms::new("alias/my-key")
        .unwrap()
        .with_bucket_key(bucket_key)
        .generate_key(&kms, &object())
        .unwrap();
    seal_object(&key, &object(), &pattern(65536), SealOptions::default(), 4).0
}

/// Asserts that `result` is refused with exactly this S3 answer.
#[track_caller]
fn refused<T: core::fmt::Debug>(result: Result<T, Error>, status: u16, code: &str, message: &str) {
    let err = result.expect_err("must be refused");
    let response = err.s3_response(WrongKeyStatus::AccessDenied);
    assert_eq!(
        response,
        S3ErrorResponse { status, code: code.to_owned().into(), message: message.to_owned().into() },
        "{err:?}"
    );
}

const INSECURE: &str = "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.";
const NEEDS_KEY: &str = "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.";
const NOT_APPLICABLE: &str = "The encryption parameters are not applicable to this object.";
const NOT_SUPPORTED: &str = "x-amz-server-side-encryption header is not supported for this operation.";
const UPLOAD_NEEDS_KEY: &str = "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.";
const UPLOAD_OTHER_KEY: &str = "The provided encryption parameters did not match the ones used originally.";

// ---- GET / HEAD / GetObjectAttributes ----

#[test]
fn get_refuses_sse_headers_on_every_mode() {
    for envelope in [sse_s3_envelope(), kms_envelope(false), ssec_envelope()] {
        for name in [
            SSE,
            "x-amz-server-side-encryption-aws-kms-key-id",
            "x-amz-server-side-encryption-context",
            "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled",
        ] {
            let headers = [(name, "AES256")];
            let request = S3Request::new(&headers, object());
            refused(request.get_object(&envelope, None, 1), 400, "InvalidArgument", NOT_SUPPORTED);
            refused(request.head_object(&envelope, None, 1), 400, "InvalidArgument", NOT_SUPPORTED);
            refused(request.get_object_attributes(&envelope), 400, "InvalidArgument", NOT_SUPPORTED);
        }
    }
}

#[test]
fn get_refuses_ssec_over_plain_http_before_parsing() {
    let envelope = ssec_envelope();
    refused(
        S3Request::new(SSEC_TRIO, object()).secure(false).get_object(&envelope, None, 1),
        400,
        "InvalidRequest",
        INSECURE,
    );
    // Even a lone, malformed SSE-C header is refused for the transport first.
    let headers = [(MD5, "garbage")];
    refused(
        S3Request::new(&headers, object()).secure(false).head_object(&envelope, None, 1),
        400,
        "InvalidRequest",
        INSECURE,
    );
    // And on an object that is not SSE-C.
    refused(
        S3Request::new(SSEC_TRIO, object()).secure(false).get_object(&sse_s3_envelope(), None, 1),
        400,
        "InvalidRequest",
        INSECURE,
    );
}

#[test]
fn get_of_ssec_object_without_key_is_refused() {
    let envelope = ssec_envelope();
    let request = S3Request::new(PLAIN_GET, object());
    refused(request.get_object(&envelope, None, 1), 400, "InvalidRequest", NEEDS_KEY);
    refused(request.head_object(&envelope, None, 1), 400, "InvalidRequest", NEEDS_KEY);
    refused(request.get_object_attributes(&envelope), 400, "InvalidRequest", NEEDS_KEY);
}

#[test]
fn ssec_headers_on_other_modes_are_not_applicable() {
    for envelope in [sse_s3_envelope(), kms_envelope(false), kms_envelope(true)] {
        let request = S3Request::new(SSEC_TRIO, object());
        refused(request.get_object(&envelope, None, 1), 400, "InvalidRequest", NOT_APPLICABLE);
        refused(request.head_object(&envelope, None, 1), 400, "InvalidRequest", NOT_APPLICABLE);
        refused(request.get_object_attributes(&envelope), 400, "InvalidRequest", NOT_APPLICABLE);
    }
}

#[test]
fn malformed_trio_on_get_gets_s3s_answers() {
    let envelope = ssec_envelope();
    let cases: [(&H, &str); 5] = [
        (
            &[(KEY, BOTO3_KEY_B64), (MD5, BOTO3_MD5_B64)],
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
        ),
        (
            &[(ALG, "AES128"), (KEY, BOTO3_KEY_B64), (MD5, BOTO3_MD5_B64)],
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
        ),
        (
            &[(ALG, "AES256"), (MD5, BOTO3_MD5_B64)],
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
        ),
        (
            &[(ALG, "AES256"), (KEY, BOTO3_KEY_B64)],
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
        ),
        (
            &[(ALG, "AES256"), (KEY, BOTO3_KEY_B64), (MD5, BOTO3_MD5_2_B64)],
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ),
    ];
    for (headers, message) in cases {
        refused(
            S3Request::new(headers, object()).get_object(&envelope, None, 1),
            400,
            "InvalidArgument",
            message,
        );
    }
}

#[test]
fn get_resolves_the_right_key_and_echoes_the_right_headers() {
    // SSE-C: the customer key, and the algorithm + MD5 echoed (`ssec_get_range.json`'s response).
    let envelope = ssec_envelope();
    let plan = S3Request::new(SSEC_GET_RANGE, object()).get_object(&envelope, None, 1).unwrap();
    let OpenKey::Customer(key) = &plan.key else { panic!("{:?}", plan.key) };
    assert_eq!(key, &boto3_key());
    assert_eq!(plan.range, Some(100..200));
    assert_eq!(
        plan.content_range(envelope.unverified_plaintext_len()).as_deref(),
        Some("bytes 100-199/65536")
    );
    assert_eq!(plan.response.iter().collect::<Vec<_>>(), [(ALG, "AES256"), (MD5, BOTO3_MD5_B64)]);
    assert!(
        open_object(
            key,
            &object(),
            &envelope,
            &seal_object(&boto3_key(), &object(), &pattern(65536), SealOptions::default(), 2).1
        )
        .is_ok()
    );

    // SSE-S3: the keyring; AES256.
    let plan = S3Request::new(PLAIN_GET, object()).get_object(&sse_s3_envelope(), None, 1).unwrap();
    assert!(matches!(plan.key, OpenKey::Keyring));
    assert_eq!(plan.response.iter().collect::<Vec<_>>(), [(SSE, "AES256")]);

    // SSE-KMS: a Decrypt request under the stored context; key id and bucket key, never the context.
    let envelope = kms_envelope(true);
    let plan = S3Request::new(PLAIN_GET, object()).head_object(&envelope, None, 1).unwrap();
    let OpenKey::Kms(request) = &plan.key else { panic!() };
    assert_eq!(request.key_id, envelope.key_id());
    assert_eq!(&request.context, envelope.kms_context().unwrap());
    assert_eq!(
        plan.response.iter().collect::<Vec<_>>(),
        [
            (SSE, "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", envelope.key_id()),
            ("x-amz-server-side-encryption-bucket-key-enabled", "true")
        ]
    );
    assert!(plan.response.get("x-amz-server-side-encryption-context").is_none());

    // GetObjectAttributes echoes nothing.
    let plan = S3Request::new(SSEC_TRIO, object()).get_object_attributes(&ssec_envelope()).unwrap();
    assert!(plan.response.is_empty());
    assert!(matches!(plan.key, OpenKey::Customer(_)));
}

#[test]
fn wrong_ssec_key_fails_when_opening_with_403() {
    let headers = [(ALG, "AES256"), (KEY, BOTO3_KEY2_B64), (MD5, BOTO3_MD5_2_B64)];
    let envelope = ssec_envelope();
    let plan = S3Request::new(&headers, object()).get_object(&envelope, None, 1).unwrap();
    let OpenKey::Customer(key) = plan.key else { panic!() };
    let err = envelope.open(&key, &object()).unwrap_err();
    refused::<()>(Err(err.clone()), 403, "AccessDenied", "Access Denied");
    assert_eq!(err.s3_response(WrongKeyStatus::BadRequest).status, 400);
}

#[test]
fn range_and_part_number() {
    let envelope = sse_s3_envelope();
    let headers = [("Range", "bytes=0-0")];
    refused(
        S3Request::new(&headers, object()).get_object(&envelope, Some(1), 1),
        400,
        "InvalidRequest",
        "Cannot specify both Range header and partNumber query parameter",
    );
    for (part, parts) in [(0, 1), (2, 1), (4, 3)] {
        refused(
            S3Request::new(PLAIN_GET, object()).get_object(&envelope, Some(part), parts),
            416,
            "InvalidPartNumber",
            "The requested partnumber is not satisfiable",
        );
    }
    let plan = S3Request::new(SSEC_TRIO, object()).get_object(&ssec_envelope(), Some(1), 1).unwrap();
    assert_eq!((plan.part_number, plan.range), (Some(1), None));
    for value in ["bytes=65536-", "bytes=70000-70001", "bytes=-0"] {
        let headers = [("range", value)];
        refused(
            S3Request::new(&headers, object()).get_object(&envelope, None, 1),
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        );
    }
}

#[test]
fn range_parsing_follows_rfc_9110() {
    let len = 1000;
    assert_eq!(parse_range("bytes=0-0", len).unwrap(), Some(0..1));
    assert_eq!(parse_range("bytes=999-999", len).unwrap(), Some(999..1000));
    assert_eq!(parse_range("bytes=990-5000", len).unwrap(), Some(990..1000));
    assert_eq!(parse_range("bytes=10-", len).unwrap(), Some(10..1000));
    assert_eq!(parse_range("bytes=-1", len).unwrap(), Some(999..1000));
    assert_eq!(parse_range("bytes=-5000", len).unwrap(), Some(0..1000));
    assert_eq!(parse_range("bytes=0-18446744073709551615", len).unwrap(), Some(0..1000));
    // Ignored (the whole object is sent), as S3 does for what is not one satisfiable-syntax range.
    for ignored in
        ["items=0-1", "bytes=5-4", "bytes=a-b", "bytes=1-2,5-6", "bytes=--1", "bytes=+1-2", "bytes="]
    {
        assert_eq!(parse_range(ignored, len).unwrap(), None, "{ignored}");
    }
    assert_eq!(parse_range("bytes=1000-", len), Err(Error::InvalidRange));
    assert_eq!(parse_range("bytes=0-0", 0), Err(Error::InvalidRange));
    assert_eq!(parse_range("bytes=-1", 0), Err(Error::InvalidRange));
}

// ---- PUT / CreateMultipartUpload ----

#[test]
fn put_refusals() {
    refused(S3Request::new(SSEC_TRIO, object()).secure(false).put_object(), 400, "InvalidRequest", INSECURE);
    refused(
        S3Request::new(SSEC_TRIO, object()).secure(false).create_multipart_upload(),
        400,
        "InvalidRequest",
        INSECURE,
    );
    refused(
        S3Request::new(DSSE_PUT, object()).put_object(),
        400,
        "InvalidArgument",
        "The encryption method specified is not supported",
    );
    let conflicting = [(SSE, "AES256"), (ALG, "AES256"), (KEY, BOTO3_KEY_B64), (MD5, BOTO3_MD5_B64)];
    refused(
        S3Request::new(&conflicting, object()).put_object(),
        400,
        "InvalidArgument",
        "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
    );
    let aes_with_kms_key = [(SSE, "AES256"), ("x-amz-server-side-encryption-aws-kms-key-id", "alias/x")];
    refused(
        S3Request::new(&aes_with_kms_key, object()).put_object(),
        400,
        "InvalidArgument",
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
    );
    // `sse_kms_put_context_raw_json_not_encoded.json`: raw JSON, not base64.
    let raw = [
        (SSE, "aws:kms"),
        ("x-amz-server-side-encryption-context", r#"{"tenant":"t1","aws:s3:arn":"arn:aws:s3:::bkt/k"}"#),
    ];
    refused(
        S3Request::new(&raw, object()).put_object(),
        400,
        "InvalidArgument",
        "The encryption context must be base64-encoded UTF-8 JSON of string pairs, at most 1 KiB",
    );
}

#[test]
fn put_plans_for_every_mode() {
    let plan = S3Request::new(SSE_S3_PUT, object()).put_object().unwrap();
    assert!(matches!(plan.key, SealKey::Keyring));
    assert_eq!(plan.response.iter().collect::<Vec<_>>(), [(SSE, "AES256")]);

    // `sse_kms_put_with_context_bucket_key.json`: S3 echoes the key id, the context (with the
    // bucket's ARN: a bucket key binds the bucket) and the bucket-key flag.
    let plan = S3Request::new(KMS_PUT, object()).put_object().unwrap();
    let SealKey::Kms(settings) = &plan.key else { panic!() };
    assert!(settings.bucket_key());
    assert_eq!(settings.user_context().get("tenant"), Some("t1"));
    let context = plan.response.get("x-amz-server-side-encryption-context").unwrap();
    assert_eq!(context, settings.context_for(&object()).unwrap().to_header());
    assert_eq!(plan.response.get("x-amz-server-side-encryption-bucket-key-enabled"), Some("true"));
    assert_eq!(
        plan.response.get("x-amz-server-side-encryption-aws-kms-key-id"),
        Some("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    );

    let plan = S3Request::new(SSEC_TRIO, object()).create_multipart_upload().unwrap();
    let SealKey::Customer(key) = &plan.key else { panic!() };
    assert_eq!(plan.key.upload_encryption(), UploadEncryption::SseC { key_md5: key.md5() });
    assert_eq!(plan.response.iter().collect::<Vec<_>>(), [(ALG, "AES256"), (MD5, BOTO3_MD5_B64)]);
}

#[test]
fn bucket_default_applies_only_when_the_request_names_no_mode() {
    let kms_default = BucketEncryption::sse_kms(Some("alias/bucket"), true).unwrap();
    let s3_default = BucketEncryption::sse_s3();
    let none: &H = &[("Content-Length", "5")];

    let plan = S3Request::new(none, object()).bucket_encryption(Some(&kms_default)).put_object().unwrap();
    let SealKey::Kms(settings) = &plan.key else { panic!() };
    assert_eq!((settings.key_id(), settings.bucket_key()), ("alias/bucket", true));

    // A KMS default without a key id uses the gateway's default key.
    let no_id = BucketEncryption::sse_kms(None, false).unwrap();
    let plan = S3Request::new(none, object())
        .bucket_encryption(Some(&no_id))
        .default_kms_key("alias/gw")
        .put_object()
        .unwrap();
    let SealKey::Kms(settings) = &plan.key else { panic!() };
    assert_eq!((settings.key_id(), settings.bucket_key()), ("alias/gw", false));

    // No default, or SSE-S3: SSE-S3 (S3 encrypts every new object).
    for default in [None, Some(&s3_default)] {
        let plan = S3Request::new(none, object()).bucket_encryption(default).put_object().unwrap();
        assert!(matches!(plan.key, SealKey::Keyring));
    }
    // An explicit mode wins over the default.
    let plan =
        S3Request::new(SSE_S3_PUT, object()).bucket_encryption(Some(&kms_default)).put_object().unwrap();
    assert!(matches!(plan.key, SealKey::Keyring));
    let plan =
        S3Request::new(SSEC_TRIO, object()).bucket_encryption(Some(&kms_default)).put_object().unwrap();
    assert!(matches!(plan.key, SealKey::Customer(_)));
    // aws:kms without key id: the AWS-managed key, not the bucket's key; the bucket's
    // bucket-key setting applies when the request does not say.
    let headers = [(SSE, "aws:kms")];
    let plan = S3Request::new(&headers, object()).bucket_encryption(Some(&kms_default)).put_object().unwrap();
    let SealKey::Kms(settings) = &plan.key else { panic!() };
    assert_eq!((settings.key_id(), settings.bucket_key()), (s3crypt::AWS_MANAGED_KMS_KEY, true));
}

// ---- CopyObject ----

#[test]
fn copy_source_refusals() {
    let ssec = ssec_envelope();
    // The source is SSE-C and the copy-source trio is missing.
    refused(
        S3Request::new(SSE_S3_PUT, object()).copy_object(&ssec, &object()),
        400,
        "InvalidRequest",
        NEEDS_KEY,
    );
    // The destination trio is not the source's key.
    refused(
        S3Request::new(SSEC_TRIO, object()).copy_object(&ssec, &object()),
        400,
        "InvalidRequest",
        NEEDS_KEY,
    );
    // A copy-source trio for a source that is not SSE-C.
    refused(
        S3Request::new(COPY_SSEC_TO_KMS, object()).copy_object(&sse_s3_envelope(), &object()),
        400,
        "InvalidRequest",
        NOT_APPLICABLE,
    );
    // Over plain HTTP.
    refused(
        S3Request::new(COPY_SSEC_TO_KMS, object()).secure(false).copy_object(&ssec, &object()),
        400,
        "InvalidRequest",
        INSECURE,
    );
    // A malformed copy-source trio.
    let bad = [(COPY_ALG, "AES256"), (COPY_KEY, BOTO3_KEY_B64), (COPY_MD5, BOTO3_MD5_2_B64)];
    refused(
        S3Request::new(&bad, object()).copy_object(&ssec, &object()),
        400,
        "InvalidArgument",
        "The calculated MD5 hash of the key did not match the hash that was provided.",
    );
}

#[test]
fn copy_plans() {
    // `copy_ssec_to_sse_kms.json`.
    let plan = S3Request::new(COPY_SSEC_TO_KMS, ObjectId::new("bkt", "k2"))
        .copy_object(&ssec_envelope(), &object())
        .unwrap();
    let OpenKey::Customer(source) = &plan.source else { panic!() };
    assert_eq!(source, &boto3_key());
    let SealKey::Kms(settings) = &plan.destination.key else { panic!() };
    assert_eq!(settings.key_id(), "alias/my-key");
    assert_eq!(plan.destination.response.get(SSE), Some("aws:kms"));
    assert_eq!(
        plan.destination.response.get("x-amz-server-side-encryption-aws-kms-key-id"),
        Some("alias/my-key")
    );

    // `copy_sse_s3_in_place_to_ssec.json`.
    let headers = [
        ("x-amz-copy-source", "bkt/k"),
        ("x-amz-metadata-directive", "REPLACE"),
        (ALG, "AES256"),
        (KEY, BOTO3_KEY_B64),
        (MD5, BOTO3_MD5_B64),
    ];
    let plan = S3Request::new(&headers, object()).copy_object(&sse_s3_envelope(), &object()).unwrap();
    assert!(matches!(plan.source, OpenKey::Keyring));
    assert!(matches!(plan.destination.key, SealKey::Customer(_)));
    assert_eq!(plan.destination.response.get(MD5), Some(BOTO3_MD5_B64));

    // A KMS source: a Decrypt request; the destination gets the bucket default, not the source's mode.
    let default = BucketEncryption::sse_s3();
    let headers = [("x-amz-copy-source", "bkt/k")];
    let plan = S3Request::new(&headers, object())
        .bucket_encryption(Some(&default))
        .copy_object(&kms_envelope(false), &object())
        .unwrap();
    assert!(matches!(plan.source, OpenKey::Kms(_)));
    assert!(matches!(plan.destination.key, SealKey::Keyring));
}

// ---- UploadPart / UploadPartCopy / Complete / ListParts ----

fn ssec_upload() -> UploadEncryption {
    UploadEncryption::SseC { key_md5: boto3_key().md5() }
}

#[test]
fn upload_part_refusals() {
    let ssec = ssec_upload();
    let kms = UploadEncryption::SseKms(SseKms::new("alias/my-key").unwrap());
    // No trio on a part of an SSE-C upload.
    refused(
        S3Request::new(KMS_UPLOAD_PART, object()).upload_part(&ssec),
        400,
        "InvalidRequest",
        UPLOAD_NEEDS_KEY,
    );
    let copy_headers = [("x-amz-copy-source", "bkt/k2")];
    refused(
        S3Request::new(&copy_headers, object()).upload_part_copy(&sse_s3_envelope(), &object(), &ssec),
        400,
        "InvalidRequest",
        UPLOAD_NEEDS_KEY,
    );
    // Another key.
    let other = [(ALG, "AES256"), (KEY, BOTO3_KEY2_B64), (MD5, BOTO3_MD5_2_B64)];
    let request = S3Request::new(&other, object());
    refused(request.upload_part(&ssec), 400, "InvalidArgument", UPLOAD_OTHER_KEY);
    refused(
        request.upload_part_copy(&ssec_envelope(), &object(), &ssec),
        400,
        "InvalidArgument",
        UPLOAD_OTHER_KEY,
    );
    refused(request.complete_multipart_upload(&ssec), 400, "InvalidArgument", UPLOAD_OTHER_KEY);
    refused(request.list_parts(&ssec), 400, "InvalidArgument", UPLOAD_OTHER_KEY);
    // SSE-S3/SSE-KMS headers on a part: the mode is the upload's.
    for upload in [&ssec, &kms, &UploadEncryption::SseS3] {
        for headers in [SSE_S3_PUT, KMS_PUT] {
            let request = S3Request::new(headers, object());
            refused(request.upload_part(upload), 400, "InvalidArgument", NOT_SUPPORTED);
            refused(
                request.upload_part_copy(&sse_s3_envelope(), &object(), upload),
                400,
                "InvalidArgument",
                NOT_SUPPORTED,
            );
            refused(request.complete_multipart_upload(upload), 400, "InvalidArgument", NOT_SUPPORTED);
            refused(request.list_parts(upload), 400, "InvalidArgument", NOT_SUPPORTED);
        }
    }
    // A trio on an upload that is not SSE-C.
    for upload in [&kms, &UploadEncryption::SseS3] {
        refused(
            S3Request::new(SSEC_TRIO, object()).upload_part(upload),
            400,
            "InvalidRequest",
            NOT_APPLICABLE,
        );
    }
    // Over plain HTTP.
    refused(
        S3Request::new(SSEC_TRIO, object()).secure(false).upload_part(&ssec),
        400,
        "InvalidRequest",
        INSECURE,
    );
}

#[test]
fn upload_part_plans() {
    let ssec = ssec_upload();
    // `ssec_upload_part_1.json`: the trio; the algorithm and MD5 echoed.
    let plan = S3Request::new(SSEC_TRIO, object()).upload_part(&ssec).unwrap();
    assert_eq!(plan.customer_key, Some(boto3_key()));
    assert_eq!(plan.response.iter().collect::<Vec<_>>(), [(ALG, "AES256"), (MD5, BOTO3_MD5_B64)]);
    // `ssec_complete_multipart.json`: Complete echoes no SSE-C header; ListParts nothing.
    let plan = S3Request::new(SSEC_TRIO, object()).complete_multipart_upload(&ssec).unwrap();
    assert!(plan.response.is_empty());
    // The trio is optional on Complete and ListParts.
    assert!(
        S3Request::new(PLAIN_GET, object()).complete_multipart_upload(&ssec).unwrap().customer_key.is_none()
    );
    assert!(S3Request::new(PLAIN_GET, object()).list_parts(&ssec).unwrap().response.is_empty());
    // `sse_kms_upload_part_no_sse_headers.json`: a KMS part echoes the upload's key id, no context.
    let kms = UploadEncryption::SseKms(SseKms::new("alias/my-key").unwrap().with_bucket_key(true));
    let plan = S3Request::new(KMS_UPLOAD_PART, object()).upload_part(&kms).unwrap();
    assert_eq!(
        plan.response.iter().collect::<Vec<_>>(),
        [
            (SSE, "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "alias/my-key"),
            ("x-amz-server-side-encryption-bucket-key-enabled", "true")
        ]
    );
    let plan = S3Request::new(KMS_UPLOAD_PART, object())
        .complete_multipart_upload(&UploadEncryption::SseS3)
        .unwrap();
    assert_eq!(plan.response.iter().collect::<Vec<_>>(), [(SSE, "AES256")]);
    // `upload_part_copy_ssec_both.json`: source key from the copy-source trio, part key checked.
    let upload = UploadEncryption::SseC { key_md5: CustomerKey::from_base64(BOTO3_KEY2_B64).unwrap().md5() };
    let plan = S3Request::new(UPLOAD_PART_COPY_SSEC_BOTH, ObjectId::new("bkt", "k2"))
        .upload_part_copy(&ssec_envelope(), &object(), &upload)
        .unwrap();
    let OpenKey::Customer(source) = &plan.source else { panic!() };
    assert_eq!(source, &boto3_key());
    assert_eq!(plan.part.customer_key.as_ref().map(CustomerKey::md5), Some(upload_md5(&upload)));
    assert_eq!(plan.part.response.get(MD5), Some(BOTO3_MD5_2_B64));
}

fn upload_md5(upload: &UploadEncryption) -> [u8; 16] {
    match upload {
        UploadEncryption::SseC { key_md5 } => *key_md5,
        _ => panic!(),
    }
}

// ---- response headers from envelopes ----

#[test]
fn response_headers_from_envelopes() {
    let kms = kms_envelope(false);
    let put = SseHeaders::for_envelope(Operation::PutObject, &kms, None);
    assert_eq!(
        put.get("x-amz-server-side-encryption-context"),
        Some(kms.kms_context().unwrap().to_header().as_str())
    );
    assert!(put.get("x-amz-server-side-encryption-bucket-key-enabled").is_none());
    for op in [
        Operation::GetObject,
        Operation::HeadObject,
        Operation::UploadPart,
        Operation::CompleteMultipartUpload,
    ] {
        let headers = SseHeaders::for_envelope(op, &kms, None);
        assert_eq!(headers.len(), 2, "{op}");
        assert!(headers.get("x-amz-server-side-encryption-context").is_none());
    }
    let ssec = ssec_envelope();
    assert!(SseHeaders::for_envelope(Operation::GetObject, &ssec, None).is_empty());
    assert_eq!(
        SseHeaders::for_envelope(Operation::GetObject, &ssec, Some(boto3_key().md5())).get(MD5),
        Some(BOTO3_MD5_B64)
    );
    assert!(SseHeaders::for_envelope(Operation::GetObjectAttributes, &sse_s3_envelope(), None).is_empty());
    assert!(SseHeaders::for_envelope(Operation::ListParts, &kms, None).is_empty());
}

// ---- bucket default encryption XML ----

const MALFORMED: &str =
    "The XML you provided was not well-formed or did not validate against our published schema";

#[test]
fn bucket_encryption_xml_round_trips() {
    for config in [
        BucketEncryption::sse_s3(),
        BucketEncryption::sse_kms(None, false).unwrap(),
        BucketEncryption::sse_kms(Some("arn:aws:kms:us-east-1:111122223333:key/1234&<>\"'"), true).unwrap(),
    ] {
        assert_eq!(BucketEncryption::from_xml(config.to_xml().as_bytes()).unwrap(), config);
    }
    // As boto3 (botocore) serialises put_bucket_encryption.
    let boto = br#"<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"#;
    assert_eq!(BucketEncryption::from_xml(boto).unwrap(), BucketEncryption::sse_s3());
    let pretty = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<ServerSideEncryptionConfiguration>\n <Rule>\n  <BucketKeyEnabled> true </BucketKeyEnabled>\n  <ApplyServerSideEncryptionByDefault>\n   <KMSMasterKeyID>k&amp;1</KMSMasterKeyID><SSEAlgorithm>aws:kms</SSEAlgorithm>\n  </ApplyServerSideEncryptionByDefault>\n </Rule>\n</ServerSideEncryptionConfiguration>\n";
    let config = BucketEncryption::from_xml(pretty).unwrap();
    assert_eq!(config.algorithm(), &DefaultAlgorithm::SseKms { key_id: Some("k&1".into()) });
    assert!(config.bucket_key());
}

#[test]
fn bucket_encryption_xml_refusals() {
    let wrap = |rule: &str| {
        format!(
            r#"<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{rule}</ServerSideEncryptionConfiguration>"#
        )
    };
    let apply = |inner: &str| {
        wrap(&format!(
            "<Rule><ApplyServerSideEncryptionByDefault>{inner}</ApplyServerSideEncryptionByDefault></Rule>"
        ))
    };
    let malformed = [
        String::new(),
        "<ServerSideEncryptionConfiguration/>".to_owned(),
        wrap(""),
        wrap("<Rule/>"),
        wrap("<Rule></Rule>"),
        apply(""),
        apply("<SSEAlgorithm>AES256</SSEAlgorithm><SSEAlgorithm>AES256</SSEAlgorithm>"),
        apply("<SSEAlgorithm>AES128</SSEAlgorithm>"),
        apply("<SSEAlgorithm>AES256</SSEAlgorithm><Extra/>"),
        apply("<SSEAlgorithm>AES256</SSEAlgorithm>text"),
        apply("<SSEAlgorithm><X/>AES256</SSEAlgorithm>"),
        apply("<SSEAlgorithm>AES&#50;56</SSEAlgorithm>"),
        apply("<SSEAlgorithm><![CDATA[AES256]]></SSEAlgorithm>"),
        apply("<SSEAlgorithm>AES256</SSEAlgorithm"),
        apply("<SSEAlgorithm>AES256</sseAlgorithm>"),
        wrap("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>yes</BucketKeyEnabled></Rule>"),
        wrap("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"),
        "<!DOCTYPE x [<!ENTITY a \"AES256\">]><ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>&a;</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>".to_owned(),
        "<ServerSideEncryptionConfiguration xmlns=\"urn:other\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>".to_owned(),
        "<ServerSideEncryptionConfiguration a=\"b\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>".to_owned(),
        format!("{}<x/>", apply("<SSEAlgorithm>AES256</SSEAlgorithm>")),
        format!("<a>{}</a>", apply("<SSEAlgorithm>AES256</SSEAlgorithm>")),
        "x".repeat(20_000),
    ];
    for xml in &malformed {
        refused(BucketEncryption::from_xml(xml.as_bytes()), 400, "MalformedXML", MALFORMED);
    }
    refused(BucketEncryption::from_xml(&[0xff, 0xfe]), 400, "MalformedXML", MALFORMED);
    refused(
        BucketEncryption::from_xml(
            apply("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>").as_bytes(),
        ),
        400,
        "InvalidArgument",
        "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
    );
    refused(
        BucketEncryption::from_xml(apply("<SSEAlgorithm>aws:kms:dsse</SSEAlgorithm>").as_bytes()),
        400,
        "InvalidArgument",
        "The encryption method specified is not supported",
    );
    refused(
        BucketEncryption::from_xml(
            apply("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>a b</KMSMasterKeyID>").as_bytes(),
        ),
        400,
        "InvalidArgument",
        "Invalid keyId",
    );
}

// ---- serialised state ----

#[test]
fn upload_state_round_trips_canonically() {
    let mut context = s3crypt::EncryptionContext::new();
    context.insert("tenant", "t\"1").unwrap();
    let states = [
        UploadEncryption::SseS3,
        UploadEncryption::SseC { key_md5: boto3_key().md5() },
        UploadEncryption::SseKms(SseKms::new("alias/k").unwrap().with_context(context).with_bucket_key(true)),
    ];
    for state in states {
        let json = state.to_json();
        assert_eq!(UploadEncryption::from_json(json.as_bytes()).unwrap(), state, "{json}");
        // Any other encoding of the same value is refused.
        let spaced = json.replace(':', ": ");
        assert_eq!(UploadEncryption::from_json(spaced.as_bytes()), Err(Error::InvalidState));
        let extra = json.replacen('{', r#"{"x":1,"#, 1);
        assert_eq!(UploadEncryption::from_json(extra.as_bytes()), Err(Error::InvalidState));
    }
    assert_eq!(UploadEncryption::SseS3.to_json(), r#"{"v":1,"scheme":"sse-s3"}"#);
    assert_eq!(
        UploadEncryption::SseC { key_md5: boto3_key().md5() }.to_json(),
        format!(r#"{{"v":1,"scheme":"sse-c","key_md5":"{BOTO3_MD5_B64}"}}"#)
    );
    assert_eq!(
        SseKms::new("alias/k").unwrap().to_json(),
        r#"{"v":1,"key_id":"alias/k","context":{},"bucket_key":false}"#
    );
    for bad in [
        r#"{"v":2,"scheme":"sse-s3"}"#,
        r#"{"v":1,"scheme":"sse-x"}"#,
        r#"{"v":1,"scheme":"sse-c","key_md5":"AAAA"}"#,
        r#"{"v":1,"scheme":"sse-s3","scheme":"sse-s3"}"#,
        r#"{"v":1,"key_id":"alias/k","context":{"aws:s3:arn":"x"},"bucket_key":false}"#,
        r#"[]"#,
        "",
    ] {
        assert_eq!(UploadEncryption::from_json(bad.as_bytes()), Err(Error::InvalidState), "{bad}");
    }
    assert_eq!(
        SseKms::from_json(br#"{"v":1,"key_id":"alias/k","context":{"aws:s3:arn":"x"},"bucket_key":false}"#),
        Err(Error::InvalidState)
    );
    assert_eq!(
        SseKms::from_json(br#"{"v":1,"key_id":"","context":{},"bucket_key":false}"#),
        Err(Error::InvalidState)
    );
}

#[test]
fn kms_decrypt_request_of_plan_opens_the_object() {
    let mut kms = LocalKms::new(TestRng(3));
    kms.create_key("alias/my-key", RootKey::from_bytes([9; 32])).unwrap();
    let key = SseKms::new("alias/my-key").unwrap().generate_key(&kms, &object()).unwrap();
    let (envelope, body) = seal_object(&key, &object(), &pattern(1000), SealOptions::default(), 5);
    let plan = S3Request::new(PLAIN_GET, object()).get_object(&envelope, None, 1).unwrap();
    let OpenKey::Kms(request) = plan.key else { panic!() };
    use s3crypt::Kms;
    let data_key = kms.decrypt(&request).unwrap();
    let key = KmsKey::from_decrypted(&envelope, &object(), data_key).unwrap();
    assert_eq!(open_object(&key, &object(), &envelope, &body).unwrap(), pattern(1000));
}

// ---- http::HeaderMap ----

#[cfg(feature = "http")]
mod http_headers {
    use super::*;
    use http::{HeaderMap, HeaderName, HeaderValue};

    fn map(headers: &H) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.append(HeaderName::from_bytes(n.as_bytes()).unwrap(), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn header_map_gives_the_same_answers_as_pairs() {
        let envelope = ssec_envelope();
        let headers = map(SSEC_GET_RANGE);
        let plan = S3Request::new(&headers, object()).get_object(&envelope, None, 1).unwrap();
        assert!(matches!(plan.key, OpenKey::Customer(ref k) if *k == boto3_key()));
        assert_eq!(plan.range, Some(100..200));
        refused(
            S3Request::new(&headers, object()).secure(false).get_object(&envelope, None, 1),
            400,
            "InvalidRequest",
            INSECURE,
        );
        refused(
            S3Request::new(&map(PLAIN_GET), object()).get_object(&envelope, None, 1),
            400,
            "InvalidRequest",
            NEEDS_KEY,
        );
        let plan = S3Request::new(&map(KMS_PUT), object()).put_object().unwrap();
        assert!(matches!(plan.key, SealKey::Kms(_)));
        refused(
            S3Request::new(&map(KMS_PUT), object()).upload_part(&ssec_upload()),
            400,
            "InvalidArgument",
            NOT_SUPPORTED,
        );
        // A repeated header is ambiguous.
        let mut twice = map(SSE_S3_PUT);
        twice.append(SSE, HeaderValue::from_static("AES256"));
        refused(
            S3Request::new(&twice, object()).put_object(),
            400,
            "InvalidArgument",
            "A server-side encryption header was given more than once",
        );
        // The legacy parsers still read pairs.
        assert_eq!(CustomerKey::from_headers(SSEC_TRIO).unwrap(), Some(boto3_key()));
    }

    #[test]
    fn response_headers_convert_to_http() {
        let plan = S3Request::new(SSEC_TRIO, object()).put_object().unwrap();
        let mut response = HeaderMap::new();
        plan.response.append_to(&mut response);
        assert_eq!(response.len(), 2);
        assert_eq!(response["x-amz-server-side-encryption-customer-algorithm"], "AES256");
        assert_eq!(response["x-amz-server-side-encryption-customer-key-md5"], BOTO3_MD5_B64);
        let plan = S3Request::new(KMS_PUT, object()).put_object().unwrap();
        assert_eq!(plan.response.to_http().count(), plan.response.len());
    }
}

// ---- key-usage events ----

#[test]
fn key_events_are_structured_and_secret_free() {
    use s3crypt::{KeyEvent, KeyUse, KmsError, Outcome};
    let envelope = sse_s3_envelope();
    let event = S3Request::new(PLAIN_GET, object())
        .key_event(Operation::GetObject, KeyUse::Open, &envelope)
        .with_result(&envelope.open(&keyring(), &object()));
    assert_eq!(
        event.to_json_line(),
        r#"{"bucket":"bkt","key":"k","key_id":"root","key_version":1,"mode":"SSE-S3","operation":"GetObject","outcome":"success","use":"open"}"#
    );
    // SSE-C: no key id, no MD5, nothing derived from the key.
    let ssec = ssec_envelope();
    let wrong = CustomerKey::from_base64(BOTO3_KEY2_B64).unwrap();
    let event = KeyEvent::for_envelope(Operation::UploadPart, KeyUse::Open, &ssec, &object())
        .with_upload("UPLOAD-1", Some(2))
        .with_result(&ssec.open(&wrong, &object()));
    let line = event.to_json_line();
    assert_eq!(
        line,
        r#"{"bucket":"bkt","key":"k","mode":"SSE-C","operation":"UploadPart","outcome":"wrong-key","part":2,"upload_id":"UPLOAD-1","use":"open"}"#
    );
    for secret in [BOTO3_KEY_B64, BOTO3_MD5_B64, BOTO3_KEY2_B64, BOTO3_MD5_2_B64] {
        assert!(!line.contains(secret));
    }
    // An object key cannot forge a log line.
    let hostile = ObjectId::new("b", "x\"}\n{\"outcome\":\"success");
    let line =
        KeyEvent::new(Operation::PutObject, KeyUse::Seal, s3crypt::Scheme::SseS3, &hostile).to_json_line();
    assert!(!line.contains('\n'));
    let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["key"], "x\"}\n{\"outcome\":\"success");
    // Outcomes of the failures that matter.
    assert_eq!(Outcome::of::<()>(&Err(Error::Authentication)), Outcome::Tampered);
    assert_eq!(Outcome::of::<()>(&Err(Error::Truncated)), Outcome::Tampered);
    assert_eq!(Outcome::of::<()>(&Err(Error::WrongKey)), Outcome::WrongKey);
    assert_eq!(
        Outcome::of::<()>(&Err(Error::Kms(KmsError::new("KMS.DisabledException", "disabled")))),
        Outcome::KmsError("KMS.DisabledException".into())
    );
    assert_eq!(Outcome::of::<()>(&Err(s3crypt::SseError::MissingUploadKey.into())), Outcome::Refused);
}

#[test]
fn a_moved_kms_envelope_is_refused_before_any_kms_request() {
    let envelope = kms_envelope(false);
    let elsewhere = ObjectId::new("bkt", "other");
    // GET of the envelope stored under another name.
    let err = S3Request::new(PLAIN_GET, elsewhere).get_object(&envelope, None, 1).unwrap_err();
    assert_eq!(err, Error::KmsContextMismatch);
    assert_eq!(err.s3_read_response(WrongKeyStatus::AccessDenied).status, 500);
    assert_eq!(s3crypt::Outcome::of::<()>(&Err(err)), s3crypt::Outcome::Tampered);
    // A copy whose source is named as another object than the envelope's.
    let headers = [("x-amz-copy-source", "bkt/other")];
    let err = S3Request::new(&headers, object()).copy_object(&envelope, &elsewhere).unwrap_err();
    assert_eq!(err, Error::KmsContextMismatch);
    let err = S3Request::new(&headers, object())
        .upload_part_copy(&envelope, &elsewhere, &UploadEncryption::SseS3)
        .unwrap_err();
    assert_eq!(err, Error::KmsContextMismatch);
    // Named right, it plans a Decrypt.
    let plan =
        S3Request::new(&headers, ObjectId::new("bkt", "k2")).copy_object(&envelope, &object()).unwrap();
    assert!(matches!(plan.source, OpenKey::Kms(_)));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `parse_range` against a model of RFC 9110's single byte range.
        #[test]
        fn range_matches_the_model(len in 0u64..5000, first in proptest::option::of(0u64..6000), last in proptest::option::of(0u64..6000)) {
            let value = format!(
                "bytes={}-{}",
                first.map(|f| f.to_string()).unwrap_or_default(),
                last.map(|l| l.to_string()).unwrap_or_default()
            );
            let model = match (first, last) {
                (None, None) => Ok(None),
                (None, Some(0)) => Err(Error::InvalidRange),
                (None, Some(_)) if len == 0 => Err(Error::InvalidRange),
                (None, Some(n)) => Ok(Some(len - n.min(len)..len)),
                (Some(f), None) if f >= len => Err(Error::InvalidRange),
                (Some(f), None) => Ok(Some(f..len)),
                (Some(f), Some(l)) if f > l => Ok(None),
                (Some(f), Some(_)) if f >= len => Err(Error::InvalidRange),
                (Some(f), Some(l)) => Ok(Some(f..(l + 1).min(len))),
            };
            prop_assert_eq!(parse_range(&value, len), model);
        }

        /// Any valid configuration round-trips through S3's XML.
        #[test]
        fn bucket_encryption_round_trips(key_id in proptest::option::of("[!-~]{1,255}"), kms in any::<bool>(), bucket_key in any::<bool>()) {
            let config = if kms {
                BucketEncryption::sse_kms(key_id.as_deref(), bucket_key).unwrap()
            } else {
                BucketEncryption::sse_s3()
            };
            prop_assert_eq!(BucketEncryption::from_xml(config.to_xml().as_bytes()).unwrap(), config);
        }
    }
}
