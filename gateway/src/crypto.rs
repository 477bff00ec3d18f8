//! The encryption glue: which key a request uses, S3's refusals, and the SSE response headers.
//!
//! Everything here is what a gateway has to write by hand on top of s3crypt's sans-I/O core today
//! (see the README's "Embedding in a gateway"): choosing the encryptor from the request headers or
//! from a stored envelope, the bucket-key cache around the KMS, and mapping errors to S3 answers.

use crate::keylog::{KeyEvent, KeyLog};
use crate::store::{BucketEncryption, Store};
use http::HeaderMap;
use s3crypt::{
    BucketKeyCache, CustomerKey, Encryptor, Envelope, Error, Keyring, KmsKey, LocalKms, ObjectId, ObjectKey,
    OsRng, S3ErrorResponse, Scheme, SseError, SseKms, SseRequest, WrongKeyStatus,
};
use s3s::{S3Error, S3ErrorCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared gateway state.
pub struct State {
    /// Object storage.
    pub store: Store,
    /// SSE-S3 root keys.
    pub keyring: Keyring,
    /// The local KMS.
    pub kms: LocalKms<OsRng>,
    /// The KMS key for requests that name none.
    pub default_kms_key: String,
    /// S3 Bucket Keys, shared by every request.
    pub bucket_keys: Mutex<BucketKeyCache>,
    /// The key-usage log.
    pub log: KeyLog,
    /// `false` with `--no-encryption` (a baseline for the load test only).
    pub encrypt: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("store", &self.store).finish_non_exhaustive()
    }
}

impl State {
    /// New shared state; bucket keys live 5 minutes, at most 1024 of them.
    pub fn new(store: Store, keys: crate::keys::Keys, log: KeyLog, encrypt: bool) -> Self {
        Self {
            store,
            keyring: keys.keyring,
            kms: keys.kms,
            default_kms_key: keys.default_kms_key,
            bucket_keys: Mutex::new(BucketKeyCache::new(Duration::from_secs(300), 1024)),
            log,
            encrypt,
        }
    }
}

/// The key material one request seals or opens with.
pub enum ObjectCipher {
    /// SSE-S3: the gateway's keyring.
    SseS3,
    /// SSE-C: the customer's key from this request.
    SseC(CustomerKey),
    /// SSE-KMS: a data key from the KMS (or the bucket-key cache).
    Kms(Arc<KmsKey>),
}

impl ObjectCipher {
    /// The s3crypt encryptor.
    pub fn encryptor<'a>(&'a self, state: &'a State) -> &'a dyn Encryptor {
        match self {
            Self::SseS3 => &state.keyring,
            Self::SseC(key) => key,
            Self::Kms(key) => &**key,
        }
    }

    fn mode(&self) -> &'static str {
        match self {
            Self::SseS3 => "SSE-S3",
            Self::SseC(_) => "SSE-C",
            Self::Kms(_) => "SSE-KMS",
        }
    }
}

/// The SSE response headers of an object, from its envelope (and the request's customer key).
#[derive(Clone, Debug, Default)]
pub struct SseHeaders {
    /// `x-amz-server-side-encryption`.
    pub algorithm: Option<String>,
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    pub kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    pub bucket_key: Option<bool>,
    /// `x-amz-server-side-encryption-context` (base64 JSON, as S3 returns it on writes).
    pub context: Option<String>,
    /// `x-amz-server-side-encryption-customer-algorithm`.
    pub customer_algorithm: Option<String>,
    /// `x-amz-server-side-encryption-customer-key-MD5`.
    pub customer_key_md5: Option<String>,
}

impl SseHeaders {
    /// The headers S3 returns for an object sealed as `envelope`.
    pub fn for_envelope(envelope: &Envelope, customer: Option<&CustomerKey>) -> Self {
        match envelope.scheme() {
            Scheme::SseS3 => Self { algorithm: Some("AES256".into()), ..Self::default() },
            Scheme::SseKms => Self {
                algorithm: Some("aws:kms".into()),
                kms_key_id: Some(envelope.key_id().to_owned()),
                bucket_key: envelope.bucket_key().then_some(true),
                context: None,
                ..Self::default()
            },
            Scheme::SseC => Self {
                customer_algorithm: Some("AES256".into()),
                customer_key_md5: customer.map(|c| {
                    use base64ct::{Base64, Encoding};
                    Base64::encode_string(&c.md5())
                }),
                ..Self::default()
            },
            _ => Self::default(),
        }
    }
}

/// An S3 error response as an s3s error.
pub fn s3_error(r: &S3ErrorResponse) -> S3Error {
    let code = S3ErrorCode::from_bytes(r.code.as_bytes()).unwrap_or(S3ErrorCode::InternalError);
    let mut e = S3Error::with_message(code, r.message.to_string());
    if let Ok(status) = http::StatusCode::from_u16(r.status) {
        e.set_status_code(status);
    }
    e
}

/// An s3crypt error on a write path as S3 answers it.
pub fn write_error(e: &Error) -> S3Error {
    s3_error(&e.s3_response(WrongKeyStatus::AccessDenied))
}

/// An s3crypt error on a read path (the stored envelope chose the key) as S3 answers it.
pub fn read_error(e: &Error) -> S3Error {
    s3_error(&e.s3_read_response(WrongKeyStatus::AccessDenied))
}

/// The request headers as the `(name, value)` pairs s3crypt's parsers take (a copy per request).
pub fn header_pairs(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers.iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect()
}

fn outcome(e: &Error) -> String {
    match e {
        Error::Authentication => "authentication-failed".into(),
        Error::WrongKey => "wrong-key".into(),
        Error::SchemeMismatch { .. } => "scheme-mismatch".into(),
        Error::Kms(k) => format!("kms-error:{}", k.code),
        other => format!("error:{other}"),
    }
}

/// What a write's encryption resolved to.
pub struct WriteKey {
    /// The cipher to seal with.
    pub cipher: ObjectCipher,
    /// Whether a bucket key was used, and whether the KMS was called.
    kms_call: Option<&'static str>,
}

impl State {
    fn log_event(
        &self,
        op: &str,
        cipher_mode: &str,
        envelope: Option<&Envelope>,
        object: (&str, &str),
        kms: Option<&'static str>,
        result: Result<(), &Error>,
    ) {
        self.log.record(&KeyEvent {
            op,
            mode: cipher_mode,
            key_id: envelope
                .map(|e| if e.scheme() == Scheme::SseC { "customer".into() } else { e.key_id().to_owned() }),
            key_version: envelope.map(Envelope::key_version),
            bucket: object.0,
            key: object.1,
            bucket_key: envelope.filter(|e| e.scheme() == Scheme::SseKms).map(Envelope::bucket_key),
            kms_call: kms,
            outcome: match result {
                Ok(()) => "ok".into(),
                Err(e) => outcome(e),
            },
        });
    }

    /// Logs the end of a write that sealed `envelope`.
    pub fn log_write(
        &self,
        op: &str,
        key: &WriteKey,
        envelope: Option<&Envelope>,
        object: (&str, &str),
        result: Result<(), &Error>,
    ) {
        self.log_event(op, key.cipher.mode(), envelope, object, key.kms_call, result);
    }

    /// Logs a failure before any envelope existed.
    pub fn log_failure(&self, op: &str, mode: &str, object: (&str, &str), e: &Error) {
        self.log_event(op, mode, None, object, None, Err(e));
    }

    /// Resolves the key a write (PutObject, CopyObject's destination) seals with: the request's SSE
    /// headers, else the bucket's default encryption, else SSE-S3 (S3's default since 2023).
    pub fn write_key(
        &self,
        op: &str,
        headers: &HeaderMap,
        bucket: &str,
        key: &str,
        secure: bool,
    ) -> Result<WriteKey, S3Error> {
        let object = ObjectId::new(bucket, key);
        let pairs = header_pairs(headers);
        let fail = |e: Error| {
            self.log_failure(op, "request", (bucket, key), &e);
            write_error(&e)
        };
        let request = SseRequest::from_headers(&pairs, &object).map_err(fail)?;
        let kms = match request {
            SseRequest::SseC(customer) => {
                if !secure {
                    return Err(fail(SseError::InsecureTransport.into()));
                }
                return Ok(WriteKey { cipher: ObjectCipher::SseC(customer), kms_call: None });
            }
            SseRequest::SseS3 => None,
            SseRequest::SseKms(kms) => Some(kms.settings(&self.default_kms_key, false).map_err(fail)?),
            SseRequest::None => {
                match self.store.bucket_encryption(bucket).map_err(S3Error::internal_error)? {
                    Some(BucketEncryption { algorithm, kms_key_id, bucket_key })
                        if algorithm == "aws:kms" =>
                    {
                        Some(
                            SseKms::new(kms_key_id.as_deref().unwrap_or(&self.default_kms_key))
                                .map_err(fail)?
                                .with_bucket_key(bucket_key),
                        )
                    }
                    _ => None,
                }
            }
            _ => return Err(fail(SseError::UnsupportedEncryption.into())),
        };
        let Some(sse) = kms else {
            return Ok(WriteKey { cipher: ObjectCipher::SseS3, kms_call: None });
        };
        // A request's bucket-key header defaults to the bucket's setting.
        let sse = match (SseRequest::from_headers(&pairs, &object), self.store.bucket_encryption(bucket)) {
            (Ok(SseRequest::SseKms(r)), Ok(Some(b))) if r.bucket_key.is_none() => {
                sse.with_bucket_key(b.bucket_key)
            }
            _ => sse,
        };
        let now = Instant::now();
        let cached =
            self.bucket_keys.lock().ok().and_then(|c| c.for_write(&sse, &object, now).ok().flatten());
        if let Some(key) = cached {
            return Ok(WriteKey { cipher: ObjectCipher::Kms(key), kms_call: Some("cache") });
        }
        let generated = sse.generate_key(&self.kms, &object).map_err(fail)?;
        let key = match self.bucket_keys.lock() {
            Ok(mut cache) => cache.insert(generated, now),
            Err(_) => Arc::new(generated),
        };
        Ok(WriteKey { cipher: ObjectCipher::Kms(key), kms_call: Some("GenerateDataKey") })
    }

    /// Refuses `x-amz-server-side-encryption*` on a read (GET, HEAD), as S3 does.
    pub fn refuse_sse_on_read(headers: &HeaderMap) -> Result<(), S3Error> {
        const REFUSED: [&str; 4] = [
            "x-amz-server-side-encryption",
            "x-amz-server-side-encryption-aws-kms-key-id",
            "x-amz-server-side-encryption-context",
            "x-amz-server-side-encryption-bucket-key-enabled",
        ];
        if REFUSED.iter().any(|h| headers.contains_key(*h)) {
            return Err(s3_error(&S3ErrorResponse {
                status: 400,
                code: "InvalidArgument".into(),
                message: "x-amz-server-side-encryption header is not supported for this operation.".into(),
            }));
        }
        Ok(())
    }

    /// Resolves the cipher that opens a stored `envelope` of `object`: the customer key the request
    /// sent (SSE-C), the keyring (SSE-S3), or the KMS through the bucket-key cache (SSE-KMS).
    /// `customer` is the request's parsed SSE-C key (the copy-source one for a copy's source).
    pub fn read_cipher(
        &self,
        op: &str,
        envelope: &Envelope,
        customer: Option<CustomerKey>,
        secure: bool,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectCipher, Option<&'static str>), S3Error> {
        let object = ObjectId::new(bucket, key);
        let fail = |e: Error| {
            self.log_event(op, mode_name(envelope.scheme()), Some(envelope), (bucket, key), None, Err(&e));
            read_error(&e)
        };
        if customer.is_some() && !secure {
            return Err(fail(SseError::InsecureTransport.into()));
        }
        if let Some(customer) = customer {
            // For a non-SSE-C envelope, opening with it answers S3's "not applicable" 400.
            return Ok((ObjectCipher::SseC(customer), None));
        }
        match envelope.scheme() {
            Scheme::SseS3 => Ok((ObjectCipher::SseS3, None)),
            Scheme::SseKms => {
                let now = Instant::now();
                if let Some(key) =
                    self.bucket_keys.lock().ok().and_then(|c| c.for_read(envelope, &object, now))
                {
                    return Ok((ObjectCipher::Kms(key), Some("cache")));
                }
                let kms_key = KmsKey::for_envelope(&self.kms, envelope, &object).map_err(fail)?;
                Ok((ObjectCipher::Kms(Arc::new(kms_key)), Some("Decrypt")))
            }
            presented => Err(fail(Error::SchemeMismatch { envelope: presented, presented: Scheme::SseS3 })),
        }
    }

    /// Opens `envelope` of `object` for a read: resolves the cipher and opens the envelope.
    pub fn open_envelope(
        &self,
        op: &str,
        envelope: &Envelope,
        customer: Option<CustomerKey>,
        secure: bool,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectKey, SseHeaders), S3Error> {
        let object = ObjectId::new(bucket, key);
        let (cipher, kms_call) = self.read_cipher(op, envelope, customer, secure, bucket, key)?;
        let (cipher, opened) = match cipher {
            // A bucket key that opened an envelope is proven: the cache hands it to later reads.
            ObjectCipher::Kms(k) if envelope.bucket_key() && kms_call == Some("Decrypt") => {
                match Arc::try_unwrap(k) {
                    Ok(fresh) => match self.bucket_keys.lock() {
                        Ok(mut cache) => match cache.open(fresh, envelope, &object, Instant::now()) {
                            Ok((opened, k)) => (ObjectCipher::Kms(k), Ok(opened)),
                            Err(e) => (ObjectCipher::SseS3, Err(e)),
                        },
                        Err(_) => (ObjectCipher::SseS3, Err(Error::Rng)),
                    },
                    Err(k) => {
                        let opened = envelope.open(&*k, &object);
                        (ObjectCipher::Kms(k), opened)
                    }
                }
            }
            c => {
                let opened = envelope.open(c.encryptor(self), &object);
                (c, opened)
            }
        };
        let customer = match &cipher {
            ObjectCipher::SseC(c) => Some(c),
            _ => None,
        };
        let result = opened.as_ref().map(|_| ()).map_err(|e| e.clone());
        self.log_event(
            op,
            mode_name(envelope.scheme()),
            Some(envelope),
            (bucket, key),
            kms_call,
            result.as_ref().map_err(|e| e).copied(),
        );
        let opened = opened.map_err(|e| read_error(&e))?;
        Ok((opened, SseHeaders::for_envelope(envelope, customer)))
    }
}

/// The mode's name in the log.
pub fn mode_name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::SseS3 => "SSE-S3",
        Scheme::SseC => "SSE-C",
        Scheme::SseKms => "SSE-KMS",
        _ => "other",
    }
}
