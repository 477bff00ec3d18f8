//! SSE-KMS: the sans-I/O round trip, encryption contexts, header rules, bucket keys, re-wrapping
//! and the copy matrix, against a KMS stub that counts calls, fails on demand and binds contexts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

mod common;

use common::{TestRng, block_on, pattern};
use s3crypt::{
    AsyncKms, BucketKeyCache, CustomerKey, DecryptRequest, EncryptionContext, Encryptor, Envelope, Error,
    GenerateDataKeyRequest, GenerateDataKeyResponse, Keyring, Kms, KmsDataKey, KmsError, KmsKey, LocalKms,
    ObjectId, ReEncryptRequest, ReEncryptResponse, RootKey, Scheme, SealOptions, SseError, SseKms,
    SseRequest, WrongKeyStatus,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEY_A: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_B: &str = "alias/other-key";

/// A KMS stub over the local KMS: counts calls, fails on demand, and can be told to ignore the
/// context on decrypt (a careless KMS), to show the envelope still catches a changed context.
struct Stub {
    kms: LocalKms<TestRng>,
    generated: Cell<u64>,
    decrypted: Cell<u64>,
    re_encrypted: Cell<u64>,
    fail_next: RefCell<Option<KmsError>>,
    ignore_context: bool,
    contexts: RefCell<HashMap<Vec<u8>, EncryptionContext>>,
}

impl Stub {
    fn new() -> Self {
        let mut kms = LocalKms::new(TestRng(77));
        kms.create_key(KEY_A, RootKey::from_bytes([0xaa; 32])).unwrap();
        kms.create_key(KEY_B, RootKey::from_bytes([0xbb; 32])).unwrap();
        Self {
            kms,
            generated: Cell::new(0),
            decrypted: Cell::new(0),
            re_encrypted: Cell::new(0),
            fail_next: RefCell::new(None),
            ignore_context: false,
            contexts: RefCell::new(HashMap::new()),
        }
    }

    fn fail(&self) -> Result<(), KmsError> {
        self.fail_next.borrow_mut().take().map_or(Ok(()), Err)
    }
}

impl Kms for Stub {
    fn generate_data_key(&self, r: &GenerateDataKeyRequest) -> Result<GenerateDataKeyResponse, KmsError> {
        self.generated.set(self.generated.get() + 1);
        self.fail()?;
        let response = self.kms.generate_data_key(r)?;
        self.contexts.borrow_mut().insert(response.ciphertext_blob.clone(), r.context.clone());
        Ok(response)
    }
    fn decrypt(&self, r: &DecryptRequest) -> Result<KmsDataKey, KmsError> {
        self.decrypted.set(self.decrypted.get() + 1);
        self.fail()?;
        let mut r = r.clone();
        if self.ignore_context {
            if let Some(original) = self.contexts.borrow().get(&r.ciphertext_blob) {
                r.context = original.clone();
            }
        }
        self.kms.decrypt(&r)
    }
    fn re_encrypt(&self, r: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        self.re_encrypted.set(self.re_encrypted.get() + 1);
        self.fail()?;
        self.kms.re_encrypt(r)
    }
}

/// The async face of the same stub: ready futures (the runtime is the caller's business).
struct AsyncStub(Mutex<Stub>);

impl AsyncKms for AsyncStub {
    fn generate_data_key(
        &self,
        r: &GenerateDataKeyRequest,
    ) -> impl Future<Output = Result<GenerateDataKeyResponse, KmsError>> + Send {
        std::future::ready(self.0.lock().unwrap().kms.generate_data_key(r))
    }
    fn decrypt(&self, r: &DecryptRequest) -> impl Future<Output = Result<KmsDataKey, KmsError>> + Send {
        std::future::ready(self.0.lock().unwrap().kms.decrypt(r))
    }
    fn re_encrypt(
        &self,
        r: &ReEncryptRequest,
    ) -> impl Future<Output = Result<ReEncryptResponse, KmsError>> + Send {
        std::future::ready(self.0.lock().unwrap().kms.re_encrypt(r))
    }
}

fn seal(enc: &dyn Encryptor, object: &ObjectId<'_>, msg: &[u8], seed: u64) -> (Envelope, Vec<u8>) {
    common::seal_object(enc, object, msg, SealOptions::default(), seed)
}

use common::open_object as open;

fn user_context() -> EncryptionContext {
    let mut c = EncryptionContext::new();
    c.insert("tenant", "t1").unwrap();
    c
}

#[test]
fn round_trip_with_context_through_both_encodings() {
    let kms = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let msg = pattern(50_000);
    let sse = SseKms::new(KEY_A).unwrap().with_context(user_context());
    let key = sse.generate_key(&kms, &object).unwrap();
    let (envelope, body) = seal(&key, &object, &msg, 1);
    assert_eq!(envelope.scheme(), Scheme::SseKms);
    assert_eq!(envelope.key_id(), KEY_A);
    let ctx = envelope.kms_context().unwrap();
    assert_eq!(ctx.get("tenant"), Some("t1"));
    assert_eq!(ctx.get("aws:s3:arn"), Some("arn:aws:s3:::bkt/k"));
    assert_eq!(ctx.canonical_json(), r#"{"aws:s3:arn":"arn:aws:s3:::bkt/k","tenant":"t1"}"#);
    for decoded in [
        Envelope::from_metadata(envelope.to_metadata()).unwrap(),
        Envelope::from_binary(&envelope.to_binary()).unwrap(),
    ] {
        assert_eq!(decoded, envelope);
        let request = KmsKey::decrypt_request(&decoded, &object).unwrap();
        assert_eq!(&request.context, ctx, "the KMS gets back exactly the stored context");
        let key = KmsKey::for_envelope(&kms, &decoded, &object).unwrap();
        assert_eq!(open(&key, &object, &decoded, &body).unwrap(), msg);
    }
    assert_eq!((kms.generated.get(), kms.decrypted.get()), (1, 2));
    assert!(envelope.metadata_len() < 2048);
}

#[test]
fn async_round_trip_needs_no_runtime() {
    let kms = AsyncStub(Mutex::new(Stub::new()));
    let object = ObjectId::new("bkt", "k");
    let sse = SseKms::new(KEY_A).unwrap();
    let key = block_on(sse.generate_key_async(&kms, &object)).unwrap();
    let (envelope, body) = seal(&key, &object, b"async", 2);
    let key = block_on(KmsKey::for_envelope_async(&kms, &envelope, &object)).unwrap();
    assert_eq!(open(&key, &object, &envelope, &body).unwrap(), b"async");
}

type Pairs = Vec<(String, String)>;
type Edit = Box<dyn Fn(&mut Pairs)>;

/// Rewrites the stored context of an SSE-KMS envelope's metadata.
fn with_context(envelope: &Envelope, edit: impl Fn(&mut Vec<(String, String)>)) -> Envelope {
    let ctx = envelope.kms_context().unwrap();
    let mut pairs: Vec<(String, String)> = ctx.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    edit(&mut pairs);
    let mut sorted: Vec<(String, String)> = pairs.clone();
    sorted.sort();
    let canonical = format!(
        "{{{}}}",
        sorted.iter().map(|(k, v)| format!("{:?}:{:?}", k, v)).collect::<Vec<_>>().join(",")
    );
    let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(canonical.as_bytes());
    let map: Vec<(String, String)> = envelope
        .to_metadata()
        .into_iter()
        .map(|(k, v)| if k == "s3crypt-kms-context" { (k, b64.clone()) } else { (k, v) })
        .collect();
    Envelope::from_metadata(map).unwrap()
}

#[test]
fn a_changed_missing_or_extra_context_entry_fails() {
    let object = ObjectId::new("bkt", "k");
    for ignore_context in [false, true] {
        let mut kms = Stub::new();
        kms.ignore_context = ignore_context;
        let key =
            SseKms::new(KEY_A).unwrap().with_context(user_context()).generate_key(&kms, &object).unwrap();
        let (envelope, body) = seal(&key, &object, b"data", 3);
        let edits: [Edit; 3] = [
            Box::new(|p| p.iter_mut().filter(|(k, _)| k == "tenant").for_each(|(_, v)| *v = "t2".into())),
            Box::new(|p| p.retain(|(k, _)| k != "tenant")),
            Box::new(|p| p.push(("extra".into(), "1".into()))),
        ];
        for edit in edits {
            let tampered = with_context(&envelope, edit);
            let result = KmsKey::for_envelope(&kms, &tampered, &object)
                .and_then(|k| open(&k, &object, &tampered, &body));
            if ignore_context {
                // A KMS that ignores the context hands out the key; the envelope's AAD still fails.
                assert_eq!(result, Err(Error::Authentication));
            } else {
                let Err(Error::Kms(e)) = result else { panic!("{result:?}") };
                assert_eq!(e.code, "KMS.InvalidCiphertextException");
            }
        }
    }
}

#[test]
fn kms_errors_pass_through_and_nothing_is_half_written() {
    let kms = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let sse = SseKms::new(KEY_A).unwrap();
    // During seal: the key is resolved before the body is written, so a failure writes nothing.
    *kms.fail_next.borrow_mut() =
        Some(KmsError::new("KMS.DisabledException", "key disabled").with_status(400));
    let body: Vec<u8> = Vec::new();
    let err = sse.generate_key(&kms, &object).unwrap_err();
    assert!(body.is_empty());
    let r = err.s3_response(WrongKeyStatus::default());
    assert_eq!((r.status, &*r.code), (400, "KMS.DisabledException"));
    assert_ne!(err, Error::Authentication, "a KMS failure is not an authentication failure");
    // During open: nothing is released.
    let key = sse.generate_key(&kms, &object).unwrap();
    let (envelope, body) = seal(&key, &object, b"data", 4);
    *kms.fail_next.borrow_mut() = Some(KmsError::new("KMS.KMSInvalidStateException", "pending deletion"));
    let err = KmsKey::for_envelope(&kms, &envelope, &object).unwrap_err();
    assert!(matches!(err, Error::Kms(ref e) if e.code == "KMS.KMSInvalidStateException"));
    assert_eq!(err.s3_response(WrongKeyStatus::default()).status, 500);
    // An unknown key id at the KMS.
    let err = SseKms::new("alias/missing").unwrap().generate_key(&kms, &object).unwrap_err();
    assert!(matches!(err, Error::Kms(ref e) if e.code == "KMS.NotFoundException"));
    assert_eq!(
        open(&KmsKey::for_envelope(&kms, &envelope, &object).unwrap(), &object, &envelope, &body).unwrap(),
        b"data"
    );
}

#[test]
fn keys_and_blobs_of_other_objects_do_not_open() {
    let kms = Stub::new();
    let (a, b) = (ObjectId::new("bkt", "a"), ObjectId::new("bkt", "b"));
    let ka = SseKms::new(KEY_A).unwrap().generate_key(&kms, &a).unwrap();
    let kb = SseKms::new(KEY_B).unwrap().generate_key(&kms, &b).unwrap();
    let (ea, ba) = seal(&ka, &a, b"a", 5);
    let (eb, _) = seal(&kb, &b, b"b", 6);
    // The key for another KMS key id.
    assert_eq!(open(&kb, &a, &ea, &ba), Err(Error::UnknownKey { key_id: KEY_A.into(), version: 0 }));
    // Another object's data key presented as this envelope's (same key id).
    let ka2 = SseKms::new(KEY_A).unwrap().generate_key(&kms, &a).unwrap();
    assert_eq!(open(&ka2, &a, &ea, &ba), Err(Error::WrongKey));
    let stolen = kms.kms.decrypt(&KmsKey::decrypt_request(&eb, &b).unwrap()).unwrap();
    let forged = KmsKey::from_decrypted(&ea, &a, stolen).unwrap();
    assert_eq!(open(&forged, &a, &ea, &ba), Err(Error::WrongKey));
    // b's blob and context spliced into a's envelope: the KMS (context) or the key check refuses.
    let map: Vec<(String, String)> = ea
        .to_metadata()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "s3crypt-kms-blob" | "s3crypt-kms-context" => {
                let v2 = eb.to_metadata().into_iter().find(|(k2, _)| *k2 == k).unwrap().1;
                (k, v2)
            }
            "s3crypt-key-id" => (k, KEY_B.to_string()),
            _ => (k, v),
        })
        .collect();
    let spliced = Envelope::from_metadata(map).unwrap();
    // b's context names b: refused before the KMS is asked (issue 8, the confused deputy).
    let r = KmsKey::for_envelope(&kms, &spliced, &a).and_then(|k| open(&k, &a, &spliced, &ba));
    assert_eq!(r, Err(Error::KmsContextMismatch));
    // The envelope moved to another name.
    assert_eq!(open(&ka, &b, &ea, &ba), Err(Error::Authentication));
}

#[test]
fn request_headers() {
    let object = ObjectId::new("bkt", "k");
    let parse = |h: &[(&str, &str)]| SseRequest::from_headers(h, &object);
    // boto3-captures/sse_kms_put_with_context_bucket_key.json
    let h = [
        ("x-amz-server-side-encryption", "aws:kms"),
        ("x-amz-server-side-encryption-aws-kms-key-id", KEY_A),
        (
            "x-amz-server-side-encryption-context",
            "eyJ0ZW5hbnQiOiJ0MSIsImF3czpzMzphcm4iOiJhcm46YXdzOnMzOjo6Ymt0L2sifQ==",
        ),
        ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
    ];
    let SseRequest::SseKms(req) = parse(&h).unwrap() else { panic!() };
    assert_eq!(req.key_id.as_deref(), Some(KEY_A));
    assert_eq!(req.context.canonical_json(), r#"{"tenant":"t1"}"#);
    assert_eq!(req.bucket_key, Some(true));
    let sse = req.settings("alias/aws/s3", false).unwrap();
    assert!(sse.bucket_key());
    assert_eq!(
        sse.context_for(&object).unwrap().get("aws:s3:arn"),
        Some("arn:aws:s3:::bkt"),
        "bucket ARN with a bucket key"
    );
    // Defaults.
    let SseRequest::SseKms(req) = parse(&[("X-Amz-Server-Side-Encryption", "aws:kms")]).unwrap() else {
        panic!()
    };
    assert_eq!(req.settings("alias/aws/s3", false).unwrap().key_id(), "alias/aws/s3");
    assert!(matches!(parse(&[("x-amz-server-side-encryption", "AES256")]).unwrap(), SseRequest::SseS3));
    assert!(matches!(parse(&[("content-type", "x")]).unwrap(), SseRequest::None));

    let ssec = [
        ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
        ("x-amz-server-side-encryption-customer-key", "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs="),
        ("x-amz-server-side-encryption-customer-key-MD5", "DWygnHRtgiJ77HCm+1rvHw=="),
    ];
    assert!(matches!(parse(&ssec).unwrap(), SseRequest::SseC(_)));
    let err = |h: &[(&str, &str)]| match parse(h) {
        Err(Error::Sse(e)) => e,
        other => panic!("{other:?}"),
    };
    let mut both = ssec.to_vec();
    both.push(("x-amz-server-side-encryption", "aws:kms"));
    assert_eq!(err(&both), SseError::ConflictingEncryption);
    let mut with_bucket_key = ssec.to_vec();
    with_bucket_key.push(("x-amz-server-side-encryption-bucket-key-enabled", "true"));
    assert_eq!(err(&with_bucket_key), SseError::ConflictingEncryption);
    assert_eq!(
        err(&[
            ("x-amz-server-side-encryption", "AES256"),
            ("x-amz-server-side-encryption-aws-kms-key-id", KEY_A)
        ]),
        SseError::KmsParametersWithoutKms
    );
    assert_eq!(err(&[("x-amz-server-side-encryption-context", "e30=")]), SseError::KmsParametersWithoutKms);
    assert_eq!(err(&[("x-amz-server-side-encryption", "aws:kms:dsse")]), SseError::DsseNotSupported);
    for v in ["AES128", "aws:KMS", "aes256", ""] {
        assert_eq!(err(&[("x-amz-server-side-encryption", v)]), SseError::UnsupportedEncryption, "{v:?}");
    }
    let kms = |k: &'static str, v: &'static str| [("x-amz-server-side-encryption", "aws:kms"), (k, v)];
    let ctx = "x-amz-server-side-encryption-context";
    // boto3-captures/sse_kms_put_context_raw_json_not_encoded.json
    assert_eq!(
        err(&kms(ctx, r#"{"tenant":"t1","aws:s3:arn":"arn:aws:s3:::bkt/k"}"#)),
        SseError::InvalidEncryptionContext
    );
    for (json_b64, expected) in [
        ("eyJhIjoiMSIsImEiOiIyIn0=", SseError::InvalidEncryptionContext), // {"a":"1","a":"2"}
        ("eyJhIjoxfQ==", SseError::InvalidEncryptionContext),             // {"a":1}
        ("eyJhd3M6eCI6IjEifQ==", SseError::ReservedContextKey),           // {"aws:x":"1"}
    ] {
        assert_eq!(err(&kms(ctx, json_b64)), expected, "{json_b64}");
    }
    assert_eq!(
        err(&kms("x-amz-server-side-encryption-bucket-key-enabled", "yes")),
        SseError::InvalidBucketKeyEnabled
    );
    assert_eq!(
        err(&kms("x-amz-server-side-encryption-aws-kms-key-id", "bad key")),
        SseError::InvalidKmsKeyId
    );
    assert_eq!(
        err(&[("x-amz-server-side-encryption", "aws:kms"), ("x-amz-server-side-encryption", "aws:kms")]),
        SseError::AmbiguousHeader
    );
    let r = Error::Sse(SseError::ConflictingEncryption).s3_response(WrongKeyStatus::default());
    assert_eq!((r.status, &*r.code), (400, "InvalidArgument"));
}

#[test]
fn master_key_rotation_and_rewrap_leave_the_body_alone() {
    let mut stub = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let msg = pattern(33_000);
    let sse_a = SseKms::new(KEY_A).unwrap().with_context(user_context());
    let key = sse_a.generate_key(&stub, &object).unwrap();
    let (envelope, body) = seal(&key, &object, &msg, 7);

    // Rotation at the KMS: old blobs still decrypt.
    stub.kms.rotate(KEY_A, RootKey::from_bytes([0xa2; 32])).unwrap();
    let old = KmsKey::for_envelope(&stub, &envelope, &object).unwrap();
    assert_eq!(open(&old, &object, &envelope, &body).unwrap(), msg);

    // Re-wrap after the rotation (ReEncrypt to the same key: the blob moves to the new version).
    let request = old.re_encrypt_request(&sse_a, &object).unwrap();
    let response = stub.re_encrypt(&request).unwrap();
    let new = old.re_encrypted(&request, response, &sse_a).unwrap();
    assert_ne!(new.blob(), old.blob());
    let rewrapped = envelope.reseal((&old, &object), (&new, &object), &mut TestRng(8)).unwrap();
    assert_eq!(
        open(&KmsKey::for_envelope(&stub, &rewrapped, &object).unwrap(), &object, &rewrapped, &body).unwrap(),
        msg
    );

    // Move to another KMS key.
    let sse_b = SseKms::new(KEY_B).unwrap();
    let request = old.re_encrypt_request(&sse_b, &object).unwrap();
    let response = stub.re_encrypt(&request).unwrap();
    let moved_key = old.re_encrypted(&request, response, &sse_b).unwrap();
    let moved = envelope.reseal((&old, &object), (&moved_key, &object), &mut TestRng(9)).unwrap();
    assert_eq!(moved.key_id(), KEY_B);
    assert_eq!(
        open(&KmsKey::for_envelope(&stub, &moved, &object).unwrap(), &object, &moved, &body).unwrap(),
        msg
    );
    assert_eq!(stub.re_encrypted.get(), 2);
}

#[test]
fn the_copy_matrix_rewrites_only_envelopes() {
    let kms = Stub::new();
    let (src, dst) = (ObjectId::new("bkt", "src"), ObjectId::new("bkt2", "dst"));
    let ring = Keyring::new("root", 1, RootKey::from_bytes([1; 32])).unwrap();
    let customer = CustomerKey::from_bytes([2; 32]);
    let msg = pattern(20_000);
    let (start, body) = seal(&ring, &src, &msg, 10);
    let mut rng = TestRng(11);
    // SSE-S3 -> SSE-KMS -> SSE-C -> SSE-KMS (bucket key) -> SSE-S3, alternating names.
    let kms_key = SseKms::new(KEY_A).unwrap().generate_key(&kms, &dst).unwrap();
    let e1 = start.reseal((&ring, &src), (&kms_key, &dst), &mut rng).unwrap();
    let k1 = KmsKey::for_envelope(&kms, &e1, &dst).unwrap();
    let e2 = e1.reseal((&k1, &dst), (&customer, &src), &mut rng).unwrap();
    let bucket = SseKms::new(KEY_B).unwrap().with_bucket_key(true).generate_key(&kms, &dst).unwrap();
    let e3 = e2.reseal((&customer, &src), (&bucket, &dst), &mut rng).unwrap();
    assert!(e3.bucket_key());
    let k3 = KmsKey::for_envelope(&kms, &e3, &dst).unwrap();
    let e4 = e3.reseal((&k3, &dst), (&ring, &src), &mut rng).unwrap();
    assert_eq!(open(&k1, &dst, &e1, &body).unwrap(), msg);
    assert_eq!(open(&customer, &src, &e2, &body).unwrap(), msg);
    assert_eq!(open(&k3, &dst, &e3, &body).unwrap(), msg);
    assert_eq!(open(&ring, &src, &e4, &body).unwrap(), msg);
}

/// KMS calls for 10,000 PUTs, one every 360 ms (an hour), then 10,000 GETs of them in the same
/// order from a cold cache, with and without bucket keys (TTL 5 minutes).
fn calls(bucket_key: bool) -> (u64, u64) {
    let kms = Stub::new();
    let sse = SseKms::new(KEY_A).unwrap().with_bucket_key(bucket_key);
    let names: Vec<String> = (0..10_000).map(|i| format!("obj-{i}")).collect();
    let start = Instant::now();
    let mut writes = BucketKeyCache::new(Duration::from_secs(300), 64);
    let mut stored = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let now = start + Duration::from_millis(360 * i as u64);
        let object = ObjectId::new("bkt", name);
        let key = match writes.for_write(&sse, &object, now).unwrap() {
            Some(key) => key,
            None => writes.insert(sse.generate_key(&kms, &object).unwrap(), now),
        };
        stored.push(seal(key.as_ref(), &object, b"", i as u64).0);
    }
    let mut reads = BucketKeyCache::new(Duration::from_secs(300), 64);
    for (i, (name, envelope)) in names.iter().zip(&stored).enumerate() {
        let now = start + Duration::from_secs(7200) + Duration::from_millis(360 * i as u64);
        let object = ObjectId::new("bkt", name);
        match reads.for_read(envelope, &object, now) {
            Some(key) => drop(envelope.open(key.as_ref(), &object).unwrap()),
            None => {
                let key = KmsKey::for_envelope(&kms, envelope, &object).unwrap();
                reads.open(key, envelope, &object, now).unwrap();
            }
        }
    }
    (kms.generated.get(), kms.decrypted.get())
}

#[test]
fn bucket_keys_cut_kms_calls() {
    let without = calls(false);
    let with = calls(true);
    println!("KMS calls per 10,000 PUTs and 10,000 GETs: without bucket keys {without:?}, with {with:?}");
    assert_eq!(without, (10_000, 10_000));
    // 10,000 PUTs over 3,600 s with a 300 s TTL: one GenerateDataKey per 300 s window.
    assert_eq!(with, (12, 12));
}

#[test]
fn bucket_key_cache_expires_and_matches_exactly() {
    let kms = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let sse = SseKms::new(KEY_A).unwrap().with_bucket_key(true);
    let t0 = Instant::now();
    let mut cache = BucketKeyCache::new(Duration::from_secs(60), 2);
    cache.insert(sse.generate_key(&kms, &object).unwrap(), t0);
    assert!(
        cache
            .for_write(&sse, &ObjectId::new("bkt", "other"), t0 + Duration::from_secs(59))
            .unwrap()
            .is_some()
    );
    assert!(cache.for_write(&sse, &object, t0 + Duration::from_secs(60)).unwrap().is_none(), "expired");
    assert!(cache.for_write(&sse, &ObjectId::new("bkt2", "k"), t0).unwrap().is_none(), "another bucket");
    assert!(
        cache.for_write(&SseKms::new(KEY_B).unwrap().with_bucket_key(true), &object, t0).unwrap().is_none()
    );
    // Per-object keys are never cached.
    let per_object = SseKms::new(KEY_A).unwrap();
    cache.insert(per_object.generate_key(&kms, &object).unwrap(), t0);
    assert!(cache.for_write(&per_object, &object, t0).unwrap().is_none());
}

#[test]
fn local_kms_binds_key_id_context_and_version() {
    let kms = Stub::new();
    let req = GenerateDataKeyRequest { key_id: KEY_A.into(), context: user_context() };
    let resp = kms.kms.generate_data_key(&req).unwrap();
    assert_eq!(resp.ciphertext_blob.len(), 89);
    let dec = |key_id: &str, context: EncryptionContext, blob: Vec<u8>| {
        kms.kms.decrypt(&DecryptRequest { key_id: key_id.into(), ciphertext_blob: blob, context })
    };
    assert_eq!(dec(KEY_A, user_context(), resp.ciphertext_blob.clone()).unwrap(), resp.plaintext);
    assert!(dec(KEY_B, user_context(), resp.ciphertext_blob.clone()).is_err());
    assert!(dec(KEY_A, EncryptionContext::new(), resp.ciphertext_blob.clone()).is_err());
    let mut flipped = resp.ciphertext_blob.clone();
    flipped[6] ^= 1; // the version
    assert!(dec(KEY_A, user_context(), flipped).is_err());
    assert!(format!("{:?} {:?}", kms.kms, resp).contains("[REDACTED]"));
}

/// The envelope sizes the README quotes (`cargo test --test kms envelope_sizes -- --nocapture`).
#[test]
fn envelope_sizes() {
    let object = ObjectId::new("example-bucket", "photos/2026/cat.jpg");
    let ring = Keyring::new("root-2026-01", 1, RootKey::from_bytes([1; 32])).unwrap();
    let customer = CustomerKey::from_bytes([2; 32]);
    let mut department = EncryptionContext::new();
    department.insert("department", "marketing").unwrap();
    let mut local = LocalKms::new(TestRng(1));
    local.create_key("alias/photos", RootKey::from_bytes([3; 32])).unwrap();
    let local_key = SseKms::new("alias/photos")
        .unwrap()
        .with_context(department.clone())
        .generate_key(&local, &object)
        .unwrap();
    // An AWS-KMS-sized answer: the key ARN and a 184-byte blob.
    let sse = SseKms::new(KEY_A).unwrap().with_context(department);
    let request = sse.generate_data_key_request(&object).unwrap();
    let response = GenerateDataKeyResponse {
        key_id: KEY_A.into(),
        plaintext: KmsDataKey::from_bytes([4; 32]),
        ciphertext_blob: vec![0xb1; 184],
    };
    let aws_key = sse.key_from_response(&request, response).unwrap();
    for (name, enc) in [
        ("sse-s3", &ring as &dyn Encryptor),
        ("sse-c", &customer),
        ("sse-kms local", &local_key),
        ("sse-kms aws-sized", &aws_key),
    ] {
        let (envelope, _) = seal(enc, &object, b"x", 12);
        let meta = envelope.to_metadata();
        println!(
            "{name}: {} bytes of metadata in {} pairs, {} bytes binary",
            envelope.metadata_len(),
            meta.len(),
            envelope.to_binary().len()
        );
        assert!(envelope.metadata_len() <= 2048);
        assert_eq!(Envelope::from_binary(&envelope.to_binary()).unwrap(), envelope);
    }
}

#[test]
fn a_kms_key_only_seals_the_object_its_context_names() {
    let kms = Stub::new();
    let (a, b, other_bucket) =
        (ObjectId::new("bkt", "a"), ObjectId::new("bkt", "b"), ObjectId::new("bkt2", "a"));
    let per_object = SseKms::new(KEY_A).unwrap().generate_key(&kms, &a).unwrap();
    let (envelope, body) = seal(&per_object, &a, b"data", 30);
    // Copying under the same KMS key to another name: S3 does not carry the context over.
    assert_eq!(
        envelope.reseal((&per_object, &a), (&per_object, &b), &mut TestRng(31)),
        Err(Error::KmsContextMismatch)
    );
    let for_b = SseKms::new(KEY_A).unwrap().generate_key(&kms, &b).unwrap();
    let copied = envelope.reseal((&per_object, &a), (&for_b, &b), &mut TestRng(32)).unwrap();
    assert_eq!(open(&for_b, &b, &copied, &body).unwrap(), b"data");
    // A bucket key serves its bucket, and only it.
    let bucket = SseKms::new(KEY_A).unwrap().with_bucket_key(true).generate_key(&kms, &a).unwrap();
    let in_bucket = envelope.reseal((&per_object, &a), (&bucket, &b), &mut TestRng(33)).unwrap();
    assert_eq!(open(&bucket, &b, &in_bucket, &body).unwrap(), b"data");
    assert_eq!(
        envelope.reseal((&per_object, &a), (&bucket, &other_bucket), &mut TestRng(34)),
        Err(Error::KmsContextMismatch)
    );
}

/// A KMS that, like AWS, names keys by ARN in its answers whatever alias it was asked with.
struct ArnKms(Stub);

impl Kms for ArnKms {
    fn generate_data_key(&self, r: &GenerateDataKeyRequest) -> Result<GenerateDataKeyResponse, KmsError> {
        let mut response = self.0.generate_data_key(&GenerateDataKeyRequest {
            key_id: KEY_A.into(),
            context: r.context.clone(),
        })?;
        response.key_id = KEY_A.into();
        Ok(response)
    }
    fn decrypt(&self, r: &DecryptRequest) -> Result<KmsDataKey, KmsError> {
        self.0.decrypt(r)
    }
    fn re_encrypt(&self, r: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        self.0.re_encrypt(r)
    }
}

#[test]
fn bucket_key_cache_hits_when_the_kms_answers_an_alias_with_an_arn() {
    let kms = ArnKms(Stub::new());
    let sse = SseKms::new("alias/aws/s3").unwrap().with_bucket_key(true);
    let t0 = Instant::now();
    let mut cache = BucketKeyCache::new(Duration::from_secs(300), 8);
    for i in 0..10 {
        let name = format!("o{i}");
        let object = ObjectId::new("bkt", &name);
        let key = match cache.for_write(&sse, &object, t0).unwrap() {
            Some(key) => key,
            None => cache.insert(sse.generate_key(&kms, &object).unwrap(), t0),
        };
        let (envelope, _) = seal(key.as_ref(), &object, b"x", i);
        assert_eq!(envelope.key_id(), KEY_A, "the envelope records the ARN the KMS answered with");
        assert!(cache.for_read(&envelope, &object, t0).is_some());
    }
    assert_eq!(kms.0.generated.get(), 1);
}

#[test]
fn large_envelopes_decode_from_the_wire_form_too() {
    // An envelope near the 2 KiB budget decodes from `x-amz-meta-` headers: the transport prefix
    // does not count against S3's user-metadata budget.
    let kms = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let mut context = EncryptionContext::new();
    context.insert("note", &"n".repeat(930)).unwrap();
    let key = SseKms::new(KEY_A).unwrap().with_context(context).generate_key(&kms, &object).unwrap();
    let (envelope, _) = seal(&key, &object, b"x", 35);
    assert!(envelope.metadata_len() + 13 * "x-amz-meta-".len() > 2048, "{}", envelope.metadata_len());
    let wire: Vec<(String, String)> =
        envelope.to_metadata().into_iter().map(|(k, v)| (format!("x-amz-meta-{k}"), v)).collect();
    assert_eq!(Envelope::from_metadata(wire).unwrap(), envelope);
}

// --- Hardening (issue 8) ---------------------------------------------------------------------------

/// Rewrites one metadata field of an envelope (or adds it), decoding the result.
fn edit_field(envelope: &Envelope, name: &str, value: Option<&str>) -> Envelope {
    let key = format!("s3crypt-{name}");
    let mut map: Vec<(String, String)> =
        envelope.to_metadata().into_iter().filter(|(k, _)| *k != key).collect();
    if let Some(value) = value {
        map.push((key, value.to_owned()));
    }
    Envelope::from_metadata(map).unwrap()
}

#[test]
fn a_copied_kms_envelope_is_refused_before_the_kms_is_asked() {
    // Tenant X's secret, its envelope and body copied by someone with write access to the storage
    // over tenant Y's public object. Reading Y must not make the gateway ask the KMS to use X's key.
    let kms = Stub::new();
    let (secret, public) = (ObjectId::new("tenant-x", "secret"), ObjectId::new("tenant-y", "public"));
    let key = SseKms::new(KEY_A).unwrap().with_context(user_context()).generate_key(&kms, &secret).unwrap();
    let (envelope, body) = seal(&key, &secret, b"x's secret", 40);
    for copied in [envelope.clone(), Envelope::from_binary(&envelope.to_binary()).unwrap()] {
        assert_eq!(KmsKey::decrypt_request(&copied, &public), Err(Error::KmsContextMismatch));
        assert_eq!(KmsKey::for_envelope(&kms, &copied, &public).unwrap_err(), Error::KmsContextMismatch);
        let plaintext = KmsDataKey::from_bytes([0; 32]);
        assert_eq!(
            KmsKey::from_decrypted(&copied, &public, plaintext).unwrap_err(),
            Error::KmsContextMismatch
        );
        let async_kms = AsyncStub(Mutex::new(Stub::new()));
        assert_eq!(
            block_on(KmsKey::for_envelope_async(&async_kms, &copied, &public)).unwrap_err(),
            Error::KmsContextMismatch
        );
    }
    assert_eq!(kms.decrypted.get(), 0, "the KMS was never asked");
    // The same object in another bucket, and another object of the same bucket, are refused too.
    for other in [ObjectId::new("tenant-y", "secret"), ObjectId::new("tenant-x", "secret2")] {
        assert_eq!(KmsKey::decrypt_request(&envelope, &other), Err(Error::KmsContextMismatch));
    }
    // A moved envelope is storage damage: 500, like any other tampering; never the KMS's answer.
    let r = Error::KmsContextMismatch.s3_read_response(WrongKeyStatus::default());
    assert_eq!((r.status, &*r.code), (500, "InternalError"));
    // The genuine read still works, with one Decrypt.
    let key = KmsKey::for_envelope(&kms, &envelope, &secret).unwrap();
    assert_eq!(open(&key, &secret, &envelope, &body).unwrap(), b"x's secret");
    assert_eq!(kms.decrypted.get(), 1);
}

#[test]
fn a_bucket_key_envelope_is_read_only_within_its_bucket() {
    let kms = Stub::new();
    let (a, b, elsewhere) =
        (ObjectId::new("bkt", "a"), ObjectId::new("bkt", "b"), ObjectId::new("bkt2", "a"));
    let bucket = SseKms::new(KEY_A).unwrap().with_bucket_key(true).generate_key(&kms, &a).unwrap();
    let (envelope, body) = seal(&bucket, &a, b"bucket key", 41);
    assert_eq!(KmsKey::for_envelope(&kms, &envelope, &elsewhere).unwrap_err(), Error::KmsContextMismatch);
    assert_eq!(kms.decrypted.get(), 0);
    // Within the bucket the KMS may be asked (the context names the bucket), but the envelope
    // itself binds the object: moved to `b`, it does not open.
    let key = KmsKey::for_envelope(&kms, &envelope, &b).unwrap();
    assert_eq!(open(&key, &b, &envelope, &body), Err(Error::Authentication));
    // The bucket-key flag selects which ARN the context must hold, so flipping it is refused
    // before the KMS either way.
    let unflagged = edit_field(&envelope, "bucket-key", None);
    assert_eq!(KmsKey::for_envelope(&kms, &unflagged, &a).unwrap_err(), Error::KmsContextMismatch);
    let per_object = SseKms::new(KEY_A).unwrap().generate_key(&kms, &a).unwrap();
    let (per_object_envelope, _) = seal(&per_object, &a, b"x", 42);
    let flagged = edit_field(&per_object_envelope, "bucket-key", Some("true"));
    assert_eq!(KmsKey::for_envelope(&kms, &flagged, &a).unwrap_err(), Error::KmsContextMismatch);
    assert_eq!(kms.decrypted.get(), 1);
}

#[test]
fn kms_errors_on_reads_reveal_nothing_about_keys() {
    // On a read the stored envelope picks the key id and blob, so the KMS's verdict on them is
    // not passed to the client: not found, disabled, pending deletion and invalid ciphertext look
    // alike. A busy KMS is a retryable 503.
    let kms = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let key = SseKms::new(KEY_A).unwrap().generate_key(&kms, &object).unwrap();
    let (envelope, _) = seal(&key, &object, b"data", 43);
    let mut answers = Vec::new();
    for (code, status) in [
        ("KMS.NotFoundException", 400),
        ("KMS.DisabledException", 400),
        ("KMS.KMSInvalidStateException", 400),
        ("KMS.InvalidCiphertextException", 400),
        ("KMS.AccessDeniedException", 400),
        ("KMS.IncorrectKeyException", 500),
    ] {
        *kms.fail_next.borrow_mut() = Some(KmsError::new(code, "detail").with_status(status));
        let err = KmsKey::for_envelope(&kms, &envelope, &object).unwrap_err();
        answers.push(err.s3_read_response(WrongKeyStatus::default()));
        // The write path keeps the KMS's answer (the caller chose the key id there).
        assert_eq!(err.s3_response(WrongKeyStatus::default()).code, code);
    }
    assert!(
        answers.iter().all(|r| (r.status, &*r.code, &*r.message) == (403, "AccessDenied", "Access Denied"))
    );
    *kms.fail_next.borrow_mut() =
        Some(KmsError::new("KMS.ThrottlingException", "slow down").with_status(400));
    let err = KmsKey::for_envelope(&kms, &envelope, &object).unwrap_err();
    assert_eq!(err.s3_read_response(WrongKeyStatus::default()).status, 503);
    // A real unknown key id, from the local KMS, answers the same 403.
    let unknown = edit_field(&envelope, "key-id", Some("alias/does-not-exist"));
    let err = KmsKey::for_envelope(&kms, &unknown, &object).unwrap_err();
    assert!(matches!(err, Error::Kms(_)), "{err:?}");
    assert_eq!(err.s3_read_response(WrongKeyStatus::default()).status, 403);
}

#[test]
fn arns_cannot_confuse_a_bucket_with_a_key_prefix() {
    // `("a", "b/c")` and `("a/b", "c")` would share `arn:aws:s3:::a/b/c`; S3 refuses bucket names
    // with a slash, and so does every ARN check here.
    let kms = Stub::new();
    let (one, other) = (ObjectId::new("a", "b/c"), ObjectId::new("a/b", "c"));
    let sse = SseKms::new(KEY_A).unwrap();
    let key = sse.generate_key(&kms, &one).unwrap();
    let (envelope, _) = seal(&key, &one, b"data", 44);
    assert!(sse.generate_data_key_request(&other).is_err(), "no ARN for a bucket name with '/'");
    assert_eq!(
        envelope.reseal((&key, &one), (&key, &other), &mut TestRng(45)),
        Err(Error::KmsContextMismatch),
        "a key for one is not a key for the other"
    );
    assert_eq!(KmsKey::decrypt_request(&envelope, &other), Err(Error::KmsContextMismatch));
    assert!(
        SseKms::new(KEY_A)
            .unwrap()
            .with_bucket_key(true)
            .generate_key(&kms, &ObjectId::new("", "k"))
            .is_err()
    );
}

/// A GET through a bucket-key cache, as a gateway does it.
fn cached_get(
    cache: &mut BucketKeyCache,
    kms: &Stub,
    envelope: &Envelope,
    object: &ObjectId<'_>,
    body: &[u8],
    now: Instant,
) -> Result<Vec<u8>, Error> {
    let key = match cache.for_read(envelope, object, now) {
        Some(key) => envelope.open(key.as_ref(), object)?,
        None => cache.open(KmsKey::for_envelope(kms, envelope, object)?, envelope, object, now)?.0,
    };
    let mut plain = Vec::new();
    let mut opener = key.opener();
    opener.update(body, &mut plain)?;
    opener.finish(&mut plain)?;
    Ok(plain)
}

#[test]
fn a_forged_envelope_does_not_poison_the_bucket_key_cache() {
    let kms = Stub::new();
    let object = ObjectId::new("bkt", "k");
    let t0 = Instant::now();
    // A per-object envelope with the bucket-key flag added, and a bucket-key envelope with it
    // removed: neither may leave a key in the cache that makes the genuine object fail.
    let per_object = SseKms::new(KEY_A).unwrap().generate_key(&kms, &object).unwrap();
    let (e1, b1) = seal(&per_object, &object, b"per-object", 46);
    let bucket = SseKms::new(KEY_A).unwrap().with_bucket_key(true).generate_key(&kms, &object).unwrap();
    let (e2, b2) = seal(&bucket, &object, b"bucket key", 47);
    for (genuine, body, forged) in [
        (&e1, &b1, edit_field(&e1, "bucket-key", Some("true"))),
        (&e2, &b2, edit_field(&e2, "bucket-key", None)),
    ] {
        let mut cache = BucketKeyCache::new(Duration::from_secs(300), 16);
        assert!(cached_get(&mut cache, &kms, &forged, &object, body, t0).is_err());
        assert!(cache.is_empty(), "nothing cached for a forged envelope");
        for _ in 0..2 {
            assert_eq!(
                cached_get(&mut cache, &kms, genuine, &object, body, t0).unwrap(),
                body_plain(genuine)
            );
        }
    }
    // A key recovered for an envelope that then fails to open is not cached either.
    let mut cache = BucketKeyCache::new(Duration::from_secs(300), 16);
    // One bit of the wrapped key flipped: the KMS decrypts the blob, the envelope does not open.
    let wrapped = e2.to_metadata().into_iter().find(|(k, _)| k == "s3crypt-wrapped-key").unwrap().1;
    let mut wrapped = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&wrapped).unwrap();
    wrapped[40] ^= 1;
    let wrapped = <base64ct::Base64 as base64ct::Encoding>::encode_string(&wrapped);
    let damaged = edit_field(&e2, "wrapped-key", Some(&wrapped));
    let key = KmsKey::for_envelope(&kms, &damaged, &object).unwrap();
    assert_eq!(cache.open(key, &damaged, &object, t0).unwrap_err(), Error::Authentication);
    assert!(cache.is_empty());
    // And `insert` keeps only what the KMS generated, not keys recovered from storage.
    cache.insert(KmsKey::for_envelope(&kms, &e2, &object).unwrap(), t0);
    assert!(cache.is_empty());
    cache.insert(SseKms::new(KEY_A).unwrap().with_bucket_key(true).generate_key(&kms, &object).unwrap(), t0);
    assert_eq!(cache.len(), 1);
}

fn body_plain(envelope: &Envelope) -> &'static [u8] {
    if envelope.bucket_key() { b"bucket key" } else { b"per-object" }
}

#[test]
fn bucket_key_cache_is_a_bounded_map() {
    // 5,000 bucket keys (one per bucket), then a read and a write lookup of each: hash-map
    // lookups, with the oldest evicted past the bound and expired entries dropped.
    let kms = Stub::new();
    let t0 = Instant::now();
    let mut cache = BucketKeyCache::new(Duration::from_secs(300), 5_000);
    let sse = SseKms::new(KEY_A).unwrap().with_bucket_key(true);
    let names: Vec<String> = (0..5_001).map(|i| format!("bucket-{i}")).collect();
    let mut envelopes = Vec::new();
    for name in &names {
        let object = ObjectId::new(name, "k");
        let key = cache.insert(sse.generate_key(&kms, &object).unwrap(), t0);
        envelopes.push(seal(key.as_ref(), &object, b"", 48).0);
    }
    assert_eq!(cache.len(), 5_000, "bounded");
    let started = Instant::now();
    let mut hits = 0;
    for (name, envelope) in names.iter().zip(&envelopes) {
        let object = ObjectId::new(name, "k");
        hits += usize::from(cache.for_read(envelope, &object, t0).is_some());
        hits += usize::from(cache.for_write(&sse, &object, t0).unwrap().is_some());
    }
    let per_lookup = started.elapsed() / 10_002;
    println!("bucket-key cache at 5,000 entries: {per_lookup:?} per lookup");
    assert_eq!(hits, 2 * 5_000, "all but the evicted oldest hit");
    assert!(cache.for_read(&envelopes[0], &ObjectId::new(&names[0], "k"), t0).is_none(), "oldest evicted");
    // Expiry: nothing is live after the TTL, and the next insert drops the expired entries.
    let later = t0 + Duration::from_secs(300);
    assert!(cache.for_read(&envelopes[1], &ObjectId::new(&names[1], "k"), later).is_none());
    let object = ObjectId::new("fresh", "k");
    cache.insert(sse.generate_key(&kms, &object).unwrap(), later);
    assert_eq!(cache.len(), 1);
}
