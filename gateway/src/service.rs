//! The S3 operations (s3s's `S3` trait) over [`crate::store`] and [`crate::crypto`].

use crate::body::{self, Decrypt, ReceiveError};
use crate::crypto::{SseHeaders, State, read_error, s3_error, write_error};
use crate::store::{BucketEncryption, OpenObject, Record, random_hex};
use base64ct::{Base64, Encoding};
use s3crypt::{CustomerKey, Envelope, ObjectId, ObjectSealer, OsRng, SealOptions};
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The gateway as one listener sees it: `secure` is whether that listener is TLS.
#[derive(Clone)]
pub struct Gateway {
    /// Shared state.
    pub state: Arc<State>,
    /// Requests arrive over TLS.
    pub secure: bool,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("secure", &self.secure).finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    S3Error::with_message(S3ErrorCode::InternalError, format!("internal error: {e}"))
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from(
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Runs blocking filesystem work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> S3Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?.map_err(internal)
}

fn decode_envelope(record: &Record) -> Result<Option<Envelope>, S3Error> {
    let Some(b64) = &record.envelope else { return Ok(None) };
    let bytes = Base64::decode_vec(b64).map_err(|_| read_error(&s3crypt::Error::Authentication))?;
    Envelope::from_binary(&bytes).map(Some).map_err(|e| read_error(&e))
}

/// The request's SSE-C key (its parse errors are S3's 400s).
fn customer_key(req_headers: &http::HeaderMap, copy_source: bool) -> Result<Option<CustomerKey>, S3Error> {
    let pairs = crate::crypto::header_pairs(req_headers);
    let parsed = if copy_source {
        CustomerKey::from_copy_source_headers(&pairs)
    } else {
        CustomerKey::from_headers(&pairs)
    };
    parsed.map_err(|e| write_error(&e))
}

/// A stored object opened for reading: the file, its record, and the opened key (if encrypted).
struct Readable {
    object: OpenObject,
    key: Option<s3crypt::ObjectKey>,
    sse: SseHeaders,
    size: u64,
}

impl Gateway {
    fn check_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.state.store.bucket_exists(bucket) {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"))
        }
    }

    async fn open_stored(&self, bucket: &str, key: &str) -> S3Result<OpenObject> {
        self.check_bucket(bucket)?;
        let state = Arc::clone(&self.state);
        let (b, k) = (bucket.to_owned(), key.to_owned());
        blocking(move || state.store.open_object(&b, &k))
            .await?
            .ok_or_else(|| s3_error!(NoSuchKey, "The specified key does not exist."))
    }

    /// Opens object `key` for GET / HEAD / GetObjectAttributes / a copy's source.
    async fn readable(
        &self,
        op: &str,
        bucket: &str,
        key: &str,
        customer: Option<CustomerKey>,
    ) -> S3Result<Readable> {
        let object = self.open_stored(bucket, key).await?;
        let Some(envelope) = decode_envelope(&object.record)? else {
            let size = object.body_len;
            return Ok(Readable { object, key: None, sse: SseHeaders::default(), size });
        };
        let (opened, sse) = self.state.open_envelope(op, &envelope, customer, self.secure, bucket, key)?;
        // The stored body must be as long as the authenticated length says (a truncated or
        // extended body is refused before any byte is sent).
        if opened.body_len().ok() != Some(object.body_len) {
            self.state.log_failure(op, "stored", (bucket, key), &s3crypt::Error::Truncated);
            return Err(read_error(&s3crypt::Error::Truncated));
        }
        let size = opened.plaintext_len();
        Ok(Readable { object, key: Some(opened), sse, size })
    }

    /// Seals `body` as a new object and stores it; returns the record and envelope.
    async fn store_new(
        &self,
        op: &str,
        bucket: &str,
        key: &str,
        headers: &http::HeaderMap,
        body: Option<StreamingBlob>,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> S3Result<(Record, Option<Envelope>, SseHeaders)> {
        let state = &self.state;
        let write =
            if state.encrypt { Some(state.write_key(op, headers, bucket, key, self.secure)?) } else { None };
        let mut pending = state.store.begin().map_err(internal)?;
        let mut sealer = match write {
            Some(_) => {
                Some(ObjectSealer::new(SealOptions::default(), &mut OsRng).map_err(|e| write_error(&e))?)
            }
            None => None,
        };
        let size = match body::receive(body, &mut pending.file, sealer.as_mut()).await {
            Ok(n) => n,
            Err(ReceiveError::Client(m)) => {
                return Err(S3Error::with_message(S3ErrorCode::IncompleteBody, m));
            }
            Err(ReceiveError::Crypto(e)) => return Err(write_error(&e)),
            Err(ReceiveError::Io(e)) => return Err(internal(e)),
        };
        let (envelope, sse) = match (sealer, &write) {
            (Some(sealer), Some(w)) => {
                let mut tail = Vec::new();
                let object = ObjectId::new(bucket, key);
                let sealed = sealer.finish(&mut tail, w.cipher.encryptor(state), &object, &mut OsRng);
                let envelope = match sealed {
                    Ok(e) => e,
                    Err(e) => {
                        state.log_write(op, w, None, (bucket, key), Err(&e));
                        return Err(write_error(&e));
                    }
                };
                tokio::task::block_in_place(|| std::io::Write::write_all(&mut pending.file, &tail))
                    .map_err(internal)?;
                let customer = match &w.cipher {
                    crate::crypto::ObjectCipher::SseC(c) => Some(c),
                    _ => None,
                };
                let mut sse = SseHeaders::for_envelope(&envelope, customer);
                if let Some(ctx) = envelope.kms_context() {
                    sse.context = Some(ctx.to_header());
                }
                (Some(envelope), sse)
            }
            _ => (None, SseHeaders::default()),
        };
        let record = Record {
            key: key.to_owned(),
            etag: random_hex(16),
            last_modified: now(),
            content_type,
            metadata,
            envelope: envelope.as_ref().map(|e| Base64::encode_string(&e.to_binary())),
            size,
        };
        let st = Arc::clone(state);
        let (b, r) = (bucket.to_owned(), record.clone());
        blocking(move || st.store.commit(pending, &b, &r)).await?;
        if let Some(w) = &write {
            state.log_write(op, w, envelope.as_ref(), (bucket, key), Ok(()));
        }
        Ok((record, envelope, sse))
    }
}

fn etag(record: &Record) -> ETag {
    ETag::Strong(record.etag.clone())
}

fn metadata(record: &Record) -> Option<Metadata> {
    (!record.metadata.is_empty())
        .then(|| record.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn byte_range(range: Option<Range>, size: u64) -> S3Result<Option<std::ops::Range<u64>>> {
    match range {
        None => Ok(None),
        Some(r) => r
            .check(size)
            .map(Some)
            .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable")),
    }
}

#[async_trait::async_trait]
impl S3 for Gateway {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket;
        let state = Arc::clone(&self.state);
        let b = bucket.clone();
        let created =
            tokio::task::spawn_blocking(move || state.store.create_bucket(&b)).await.map_err(internal)?;
        match created {
            Ok(true) => Ok(S3Response::new(CreateBucketOutput { location: Some(format!("/{bucket}")) })),
            Ok(false) => Err(s3_error!(BucketAlreadyOwnedByYou)),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Err(s3_error!(InvalidBucketName)),
            Err(e) => Err(internal(e)),
        }
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.check_bucket(&req.input.bucket)?;
        let state = Arc::clone(&self.state);
        let b = req.input.bucket.clone();
        if blocking(move || state.store.delete_bucket(&b)).await? {
            Ok(S3Response::new(DeleteBucketOutput {}))
        } else {
            Err(s3_error!(BucketNotEmpty))
        }
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.check_bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let state = Arc::clone(&self.state);
        let buckets = blocking(move || state.store.list_buckets()).await?;
        let buckets = buckets
            .into_iter()
            .map(|(name, created)| Bucket {
                name: Some(name),
                creation_date: Some(ts(created)),
                bucket_region: None,
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput { buckets: Some(buckets), ..Default::default() }))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        self.check_bucket(&input.bucket)?;
        let metadata = input.metadata.unwrap_or_default().into_iter().collect();
        let content_type = input.content_type.map(|c| c.to_string());
        let (record, envelope, sse) = self
            .store_new(
                "PutObject",
                &input.bucket,
                &input.key,
                &req.headers,
                input.body,
                content_type,
                metadata,
            )
            .await?;
        let _ = envelope;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(etag(&record)),
            server_side_encryption: sse.algorithm.map(ServerSideEncryption::from),
            ssekms_key_id: sse.kms_key_id,
            bucket_key_enabled: sse.bucket_key,
            ssekms_encryption_context: sse.context,
            sse_customer_algorithm: sse.customer_algorithm,
            sse_customer_key_md5: sse.customer_key_md5,
            size: i64::try_from(record.size).ok(),
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        State::refuse_sse_on_read(&req.headers)?;
        let input = req.input;
        if input.part_number.is_some_and(|p| p != 1) {
            return Err(s3_error(&s3crypt::S3ErrorResponse {
                status: 416,
                code: "InvalidPartNumber".into(),
                message: "The requested partnumber is not satisfiable".into(),
            }));
        }
        let customer = customer_key(&req.headers, false)?;
        let r = self.readable("GetObject", &input.bucket, &input.key, customer).await?;
        let range = byte_range(input.range, r.size)?;
        let (len, content_range) = match &range {
            Some(rg) => (rg.end - rg.start, Some(format!("bytes {}-{}/{}", rg.start, rg.end - 1, r.size))),
            None => (r.size, None),
        };
        let decrypt = match (r.key, range) {
            (Some(key), Some(rg)) => Decrypt::Range(key, rg),
            (Some(key), None) => Decrypt::Whole(key),
            (None, rg) => Decrypt::Plain(rg.unwrap_or(0..r.size)),
        };
        let record = r.object.record.clone();
        let blob = body::stream(r.object.file, r.object.body_len, decrypt, len);
        Ok(S3Response::new(GetObjectOutput {
            body: Some(blob),
            content_length: i64::try_from(len).ok(),
            content_range,
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag(&record)),
            last_modified: Some(ts(record.last_modified)),
            content_type: record.content_type.clone(),
            metadata: metadata(&record),
            server_side_encryption: r.sse.algorithm.map(ServerSideEncryption::from),
            ssekms_key_id: r.sse.kms_key_id,
            bucket_key_enabled: r.sse.bucket_key,
            sse_customer_algorithm: r.sse.customer_algorithm,
            sse_customer_key_md5: r.sse.customer_key_md5,
            parts_count: input.part_number.map(|_| 1),
            ..Default::default()
        }))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        State::refuse_sse_on_read(&req.headers)?;
        let input = req.input;
        let customer = customer_key(&req.headers, false)?;
        let r = self.readable("HeadObject", &input.bucket, &input.key, customer).await?;
        let range = byte_range(input.range, r.size)?;
        let record = &r.object.record;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: i64::try_from(range.as_ref().map_or(r.size, |rg| rg.end - rg.start)).ok(),
            content_range: range.map(|rg| format!("bytes {}-{}/{}", rg.start, rg.end - 1, r.size)),
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag(record)),
            last_modified: Some(ts(record.last_modified)),
            content_type: record.content_type.clone(),
            metadata: metadata(record),
            server_side_encryption: r.sse.algorithm.map(ServerSideEncryption::from),
            ssekms_key_id: r.sse.kms_key_id,
            bucket_key_enabled: r.sse.bucket_key,
            sse_customer_algorithm: r.sse.customer_algorithm,
            sse_customer_key_md5: r.sse.customer_key_md5,
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.check_bucket(&req.input.bucket)?;
        let state = Arc::clone(&self.state);
        let (b, k) = (req.input.bucket.clone(), req.input.key.clone());
        blocking(move || state.store.delete_object(&b, &k)).await?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        self.check_bucket(&input.bucket)?;
        let state = Arc::clone(&self.state);
        let b = input.bucket.clone();
        let records = blocking(move || state.store.list_objects(&b)).await?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let max_keys = usize::try_from(input.max_keys.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
        let after = input.continuation_token.clone().or(input.start_after.clone()).unwrap_or_default();
        let mut contents = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut truncated = false;
        let mut last = None;
        for r in records.iter().filter(|r| r.key.starts_with(&prefix) && r.key.as_str() > after.as_str()) {
            if let Some(d) = input.delimiter.as_deref().filter(|d| !d.is_empty()) {
                if let Some(pos) = r.key[prefix.len()..].find(d) {
                    let cp = r.key[..prefix.len() + pos + d.len()].to_owned();
                    if prefixes.last() == Some(&cp) {
                        continue;
                    }
                    if contents.len() + prefixes.len() == max_keys {
                        truncated = true;
                        break;
                    }
                    last = Some(cp.clone());
                    prefixes.push(cp);
                    continue;
                }
            }
            if contents.len() + prefixes.len() == max_keys {
                truncated = true;
                break;
            }
            last = Some(r.key.clone());
            contents.push(Object {
                key: Some(r.key.clone()),
                e_tag: Some(etag(r)),
                size: i64::try_from(r.size).ok(),
                last_modified: Some(ts(r.last_modified)),
                storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
                ..Default::default()
            });
        }
        let key_count = i32::try_from(contents.len() + prefixes.len()).unwrap_or(i32::MAX);
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter,
            max_keys: input.max_keys.or(Some(1000)),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            start_after: input.start_after,
            is_truncated: Some(truncated),
            next_continuation_token: if truncated { last } else { None },
            contents: Some(contents),
            common_prefixes: Some(prefixes.into_iter().map(|p| CommonPrefix { prefix: Some(p) }).collect()),
            ..Default::default()
        }))
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        let CopySource::Bucket { bucket: src_bucket, key: src_key, .. } = &input.copy_source else {
            return Err(s3_error!(NotImplemented, "access-point copy sources are not supported"));
        };
        let (src_bucket, src_key) = (src_bucket.to_string(), src_key.to_string());
        self.check_bucket(&input.bucket)?;
        let state = &self.state;
        let src_customer = customer_key(&req.headers, true)?;
        let source = self.open_stored(&src_bucket, &src_key).await?;
        let src_envelope = decode_envelope(&source.record)?;
        let write = if state.encrypt {
            Some(state.write_key("CopyObject", &req.headers, &input.bucket, &input.key, self.secure)?)
        } else {
            None
        };

        // The new envelope: the source's data key re-sealed for the destination; the body is copied
        // byte for byte (its derivation does not depend on the object's name or mode).
        let (envelope, sse) = match (&src_envelope, &write) {
            (Some(src_env), Some(w)) => {
                let (src_cipher, _) = state.read_cipher(
                    "CopyObject",
                    src_env,
                    src_customer,
                    self.secure,
                    &src_bucket,
                    &src_key,
                )?;
                let from = ObjectId::new(&src_bucket, &src_key);
                let to = ObjectId::new(&input.bucket, &input.key);
                let resealed = src_env.reseal(
                    (src_cipher.encryptor(state), &from),
                    (w.cipher.encryptor(state), &to),
                    &mut OsRng,
                );
                let envelope = match resealed {
                    Ok(e) => e,
                    Err(e) => {
                        state.log_write("CopyObject", w, None, (&input.bucket, &input.key), Err(&e));
                        return Err(read_error(&e));
                    }
                };
                if envelope.body_len().ok() != Some(source.body_len) {
                    return Err(read_error(&s3crypt::Error::Truncated));
                }
                let customer = match &w.cipher {
                    crate::crypto::ObjectCipher::SseC(c) => Some(c),
                    _ => None,
                };
                let sse = SseHeaders::for_envelope(&envelope, customer);
                state.log_write("CopyObject", w, Some(&envelope), (&input.bucket, &input.key), Ok(()));
                (Some(envelope), sse)
            }
            (None, None) => (None, SseHeaders::default()),
            _ => return Err(s3_error!(NotImplemented, "copy between encrypted and unencrypted stores")),
        };
        let replace =
            input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let (content_type, metadata) = if replace {
            (
                input.content_type.map(|c| c.to_string()),
                input.metadata.unwrap_or_default().into_iter().collect(),
            )
        } else {
            (source.record.content_type.clone(), source.record.metadata.clone())
        };
        let record = Record {
            key: input.key.clone(),
            etag: random_hex(16),
            last_modified: now(),
            content_type,
            metadata,
            envelope: envelope.as_ref().map(|e| Base64::encode_string(&e.to_binary())),
            size: source.record.size,
        };
        let st = Arc::clone(state);
        let (b, r) = (input.bucket.clone(), record.clone());
        blocking(move || {
            let mut pending = st.store.begin()?;
            let mut body = std::io::Read::take(&source.file, source.body_len);
            let copied = std::io::copy(&mut body, &mut pending.file)?;
            if copied != source.body_len {
                return Err(std::io::Error::other("source body shorter than recorded"));
            }
            st.store.commit(pending, &b, &r)
        })
        .await?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&record)),
                last_modified: Some(ts(record.last_modified)),
                ..Default::default()
            }),
            server_side_encryption: sse.algorithm.map(ServerSideEncryption::from),
            ssekms_key_id: sse.kms_key_id,
            bucket_key_enabled: sse.bucket_key,
            sse_customer_algorithm: sse.customer_algorithm,
            sse_customer_key_md5: sse.customer_key_md5,
            ..Default::default()
        }))
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        let customer = customer_key(&req.headers, false)?;
        let r = self.readable("GetObjectAttributes", &input.bucket, &input.key, customer).await?;
        // The header is a comma-separated list (s3s may hand it over as one entry).
        let want =
            |a: &str| input.object_attributes.iter().any(|x| x.as_str().split(',').any(|v| v.trim() == a));
        let record = &r.object.record;
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: want(ObjectAttributes::ETAG).then(|| etag(record)),
            object_size: want(ObjectAttributes::OBJECT_SIZE)
                .then(|| i64::try_from(r.size).unwrap_or(i64::MAX)),
            storage_class: want(ObjectAttributes::STORAGE_CLASS)
                .then(|| StorageClass::from_static(StorageClass::STANDARD)),
            last_modified: Some(ts(record.last_modified)),
            ..Default::default()
        }))
    }

    async fn put_bucket_encryption(
        &self,
        req: S3Request<PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        let input = req.input;
        self.check_bucket(&input.bucket)?;
        let rules = &input.server_side_encryption_configuration.rules;
        let [rule] = rules.as_slice() else {
            return Err(s3_error!(MalformedXML, "exactly one rule is required"));
        };
        let by_default = rule
            .apply_server_side_encryption_by_default
            .as_ref()
            .ok_or_else(|| s3_error!(MalformedXML, "ApplyServerSideEncryptionByDefault is required"))?;
        let algorithm = by_default.sse_algorithm.as_str().to_owned();
        let config = match algorithm.as_str() {
            "AES256" => {
                if by_default.kms_master_key_id.is_some() {
                    return Err(s3_error!(InvalidArgument, "a KMS key id requires aws:kms"));
                }
                BucketEncryption {
                    algorithm,
                    kms_key_id: None,
                    bucket_key: rule.bucket_key_enabled.unwrap_or(false),
                }
            }
            "aws:kms" => {
                if let Some(id) = &by_default.kms_master_key_id {
                    s3crypt::SseKms::new(id).map_err(|_| s3_error!(InvalidArgument, "Invalid keyId"))?;
                }
                BucketEncryption {
                    algorithm,
                    kms_key_id: by_default.kms_master_key_id.clone(),
                    bucket_key: rule.bucket_key_enabled.unwrap_or(false),
                }
            }
            _ => return Err(s3_error!(InvalidArgument, "The encryption method specified is not supported")),
        };
        let state = Arc::clone(&self.state);
        let b = input.bucket.clone();
        blocking(move || state.store.set_bucket_encryption(&b, Some(&config))).await?;
        Ok(S3Response::new(PutBucketEncryptionOutput {}))
    }

    async fn get_bucket_encryption(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        self.check_bucket(&req.input.bucket)?;
        let config = self.state.store.bucket_encryption(&req.input.bucket).map_err(internal)?;
        // Like S3 since 2023: a bucket without a configuration encrypts with SSE-S3.
        let config = config.unwrap_or(BucketEncryption {
            algorithm: "AES256".into(),
            kms_key_id: None,
            bucket_key: false,
        });
        let rule = ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                sse_algorithm: ServerSideEncryption::from(config.algorithm),
                kms_master_key_id: config.kms_key_id,
            }),
            bucket_key_enabled: Some(config.bucket_key),
            ..Default::default()
        };
        Ok(S3Response::new(GetBucketEncryptionOutput {
            server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
                rules: vec![rule],
            }),
        }))
    }

    async fn delete_bucket_encryption(
        &self,
        req: S3Request<DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        self.check_bucket(&req.input.bucket)?;
        let state = Arc::clone(&self.state);
        let b = req.input.bucket.clone();
        blocking(move || state.store.set_bucket_encryption(&b, None)).await?;
        Ok(S3Response::new(DeleteBucketEncryptionOutput {}))
    }
}
