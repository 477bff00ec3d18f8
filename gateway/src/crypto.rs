//! The encryption glue between s3s and s3crypt.
//!
//! s3crypt's [`S3Request`] answers each operation's encryption question (which key, S3's refusal,
//! the response headers) from the request's `http::HeaderMap`, the stored envelope, the bucket's
//! default encryption and whether the listener is TLS. What is left here is what needs the
//! gateway's own state: the keyring, the KMS and the bucket-key cache that turn a
//! [`SealKey`]/[`OpenKey`] into an encryptor, S3 errors as s3s values, and the key-usage log.

use crate::keylog::KeyLog;
use crate::store::Store;
use http::HeaderMap;
use s3crypt::{
    BucketEncryption, BucketKeyCache, CustomerKey, Encryptor, Envelope, Error, KeyEvent, KeyUse, Keyring,
    KmsKey, LocalKms, ObjectId, ObjectKey, OpenKey, Operation, OsRng, S3ErrorResponse, S3Request, Scheme,
    SealKey, WrongKeyStatus,
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
    /// The KMS key for `aws:kms` requests that name none.
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

/// An s3crypt error on a request or write path as S3 answers it.
pub fn write_error(e: &Error) -> S3Error {
    s3_error(&e.s3_response(WrongKeyStatus::AccessDenied))
}

/// An s3crypt error on a read path (the stored envelope chose the key) as S3 answers it.
pub fn read_error(e: &Error) -> S3Error {
    s3_error(&e.s3_read_response(WrongKeyStatus::AccessDenied))
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

    /// The request as s3crypt sees it: headers read in place, TLS or not, the gateway's KMS key.
    pub fn request<'a>(
        &'a self,
        headers: &'a HeaderMap,
        object: ObjectId<'a>,
        secure: bool,
        bucket_default: Option<&'a BucketEncryption>,
    ) -> S3Request<'a, HeaderMap> {
        S3Request::new(headers, object)
            .secure(secure)
            .bucket_encryption(bucket_default)
            .default_kms_key(&self.default_kms_key)
    }

    /// Logs `event`.
    pub fn log(&self, event: &KeyEvent) {
        self.log.line(&event.to_json_line());
    }

    /// Logs a refused request (nothing was sealed or opened).
    pub fn log_refused(&self, op: Operation, scheme: Scheme, object: &ObjectId<'_>, e: &Error) {
        let event = KeyEvent::new(op, KeyUse::Open, scheme, object).with_result::<()>(&Err(e.clone()));
        self.log(&event);
    }

    /// Turns a write plan's key into a cipher: SSE-KMS goes through the bucket-key cache and
    /// otherwise asks the KMS for a data key (logged as a `kms-generate` event).
    pub fn seal_cipher(
        &self,
        op: Operation,
        key: SealKey,
        object: &ObjectId<'_>,
    ) -> Result<ObjectCipher, S3Error> {
        let settings = match key {
            SealKey::Customer(k) => return Ok(ObjectCipher::SseC(k)),
            SealKey::Kms(settings) => settings,
            _ => return Ok(ObjectCipher::SseS3),
        };
        let now = Instant::now();
        let cached =
            self.bucket_keys.lock().ok().and_then(|c| c.for_write(&settings, object, now).ok().flatten());
        if let Some(key) = cached {
            return Ok(ObjectCipher::Kms(key));
        }
        let generated = settings.generate_key(&self.kms, object);
        let mut event =
            KeyEvent::new(op, KeyUse::KmsGenerate, Scheme::SseKms, object).with_result(&generated);
        event.key_id = Some(settings.key_id().to_owned());
        self.log(&event);
        let generated = generated.map_err(|e| write_error(&e))?;
        let key = match self.bucket_keys.lock() {
            Ok(mut cache) => cache.insert(generated, now),
            Err(_) => Arc::new(generated),
        };
        Ok(ObjectCipher::Kms(key))
    }

    /// Turns a read plan's key into a cipher without opening the envelope (a copy's source, which
    /// is re-sealed): SSE-KMS asks the KMS (`KmsKey::for_envelope`) unless the cache holds the key.
    pub fn open_cipher(
        &self,
        op: Operation,
        key: OpenKey,
        envelope: &Envelope,
        object: &ObjectId<'_>,
    ) -> Result<ObjectCipher, S3Error> {
        match key {
            OpenKey::Customer(k) => Ok(ObjectCipher::SseC(k)),
            OpenKey::Kms(_) => self.kms_for_envelope(op, envelope, object),
            _ => Ok(ObjectCipher::SseS3),
        }
    }

    /// The SSE-KMS key of a stored envelope (an object's or an upload's state): from the
    /// bucket-key cache, else `KmsKey::for_envelope` (logged as a `kms-decrypt` event).
    pub fn kms_for_envelope(
        &self,
        op: Operation,
        envelope: &Envelope,
        object: &ObjectId<'_>,
    ) -> Result<ObjectCipher, S3Error> {
        if let Some(k) =
            self.bucket_keys.lock().ok().and_then(|c| c.for_read(envelope, object, Instant::now()))
        {
            return Ok(ObjectCipher::Kms(k));
        }
        let fetched = KmsKey::for_envelope(&self.kms, envelope, object);
        self.log(&KeyEvent::for_envelope(op, KeyUse::KmsDecrypt, envelope, object).with_result(&fetched));
        Ok(ObjectCipher::Kms(Arc::new(fetched.map_err(|e| read_error(&e))?)))
    }

    /// Opens `envelope` of `object` with a read plan's key. A bucket key that opened an envelope
    /// is proven, and the cache hands it to later reads.
    pub fn open(
        &self,
        op: Operation,
        key: OpenKey,
        envelope: &Envelope,
        object: &ObjectId<'_>,
    ) -> Result<ObjectKey, S3Error> {
        let cipher = self.open_cipher(op, key, envelope, object)?;
        let opened = match cipher {
            ObjectCipher::Kms(k) if envelope.bucket_key() => match Arc::try_unwrap(k) {
                // Fresh from the KMS: the cache keeps it once it has opened this envelope.
                Ok(fresh) => match self.bucket_keys.lock() {
                    Ok(mut cache) => cache.open(fresh, envelope, object, Instant::now()).map(|(o, _)| o),
                    Err(_) => Err(Error::Authentication),
                },
                Err(cached) => envelope.open(&*cached, object),
            },
            c => envelope.open(c.encryptor(self), object),
        };
        self.log(&KeyEvent::for_envelope(op, KeyUse::Open, envelope, object).with_result(&opened));
        opened.map_err(|e| read_error(&e))
    }
}
