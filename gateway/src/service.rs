//! The S3 operations (s3s's `S3` trait) over [`crate::store`] and [`crate::crypto`].

use crate::body::{self, ReceiveError};
use crate::crypto::{ObjectCipher, State, read_error, write_error};
use crate::store::{OpenObject, Record, random_hex};
use base64ct::{Base64, Encoding};
use s3crypt::{
    BucketEncryption, DefaultAlgorithm, Envelope, KeyEvent, KeyUse, MultipartBody, ObjectId, Operation,
    OsRng, PartTable, Scheme, SseHeaders,
};
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

/// A stored object opened for reading: the file, its record, the opened key (if encrypted), the
/// planned range and the SSE response headers.
struct Readable {
    object: OpenObject,
    key: Option<s3crypt::ObjectKey>,
    response: Option<SseHeaders>,
    range: Option<std::ops::Range<u64>>,
    size: u64,
    /// A multipart object's body (its part table checked against the envelope).
    multipart: Option<MultipartBody>,
    /// The `partNumber` asked for.
    part_number: Option<u32>,
    /// The object's mode (for the key-usage log).
    scheme: Scheme,
}

impl Readable {
    /// The plaintext bytes the response carries, and its `Content-Range`.
    fn extent(&self) -> S3Result<(u64, Option<String>)> {
        if let (Some(mp), Some(n)) = (&self.multipart, self.part_number) {
            let part = mp.part_by_number(n).ok_or_else(|| read_error(&s3crypt::Error::InvalidPart))?;
            let p = part.plaintext;
            let range = (p.end > p.start).then(|| format!("bytes {}-{}/{}", p.start, p.end - 1, self.size));
            return Ok((p.end - p.start, range));
        }
        Ok(match &self.range {
            Some(rg) => (rg.end - rg.start, Some(format!("bytes {}-{}/{}", rg.start, rg.end - 1, self.size))),
            None => (self.size, None),
        })
    }

    fn parts_count(&self) -> Option<i32> {
        let n = self.part_number?;
        let _ = n;
        Some(self.multipart.as_ref().map_or(1, |m| i32::try_from(m.part_count()).unwrap_or(i32::MAX)))
    }
}

fn customer_md5(cipher: &ObjectCipher) -> Option<[u8; 16]> {
    match cipher {
        ObjectCipher::SseC(c) => Some(c.md5()),
        _ => None,
    }
}

impl Gateway {
    pub(crate) fn check_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.state.store.bucket_exists(bucket) {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"))
        }
    }

    pub(crate) async fn open_stored(&self, bucket: &str, key: &str) -> S3Result<OpenObject> {
        self.check_bucket(bucket)?;
        let state = Arc::clone(&self.state);
        let (b, k) = (bucket.to_owned(), key.to_owned());
        blocking(move || state.store.open_object(&b, &k))
            .await?
            .ok_or_else(|| s3_error!(NoSuchKey, "The specified key does not exist."))
    }

    fn bucket_default(&self, bucket: &str) -> S3Result<Option<BucketEncryption>> {
        self.state.store.bucket_encryption(bucket).map_err(internal)
    }

    /// Opens object `key` for GetObject / HeadObject / GetObjectAttributes: s3crypt's read plan
    /// (refusals, the key to use, the range, the response headers), then the envelope.
    async fn readable(
        &self,
        op: Operation,
        headers: &http::HeaderMap,
        bucket: &str,
        key: &str,
        part_number: Option<i32>,
    ) -> S3Result<Readable> {
        let object = self.open_stored(bucket, key).await?;
        let Some(envelope) = decode_envelope(&object.record)? else {
            let size = object.body_len;
            let range = match headers.get(http::header::RANGE).and_then(|v| v.to_str().ok()) {
                Some(v) => s3crypt::parse_range(v, size).map_err(|e| write_error(&e))?,
                None => None,
            };
            return Ok(Readable {
                object,
                key: None,
                response: None,
                range,
                size,
                multipart: None,
                part_number: None,
                scheme: Scheme::SseS3,
            });
        };
        let table = match &object.record.parts {
            Some(b64) => {
                let bytes =
                    Base64::decode_vec(b64).map_err(|_| read_error(&s3crypt::Error::Authentication))?;
                Some(PartTable::from_bytes(&bytes).map_err(|e| read_error(&e))?)
            }
            None => None,
        };
        let parts = table.as_ref().map_or(1, PartTable::part_count);
        let id = ObjectId::new(bucket, key);
        let request = self.state.request(headers, id, self.secure, None);
        let part = part_number.map(|p| u32::try_from(p).unwrap_or(0));
        let plan = match op {
            Operation::GetObject => request.get_object(&envelope, part, parts),
            Operation::HeadObject => request.head_object(&envelope, part, parts),
            _ => request.get_object_attributes(&envelope),
        };
        let plan = plan.map_err(|e| {
            self.state.log_refused(op, envelope.scheme(), &id, &e);
            read_error(&e)
        })?;
        let opened = self.state.open(op, plan.key, &envelope, &id)?;
        let size = opened.plaintext_len();
        let multipart = match &table {
            Some(t) => Some(opened.multipart(t).map_err(|e| {
                self.state.log(
                    &KeyEvent::for_envelope(op, KeyUse::Open, &envelope, &id)
                        .with_result::<()>(&Err(e.clone())),
                );
                read_error(&e)
            })?),
            None => None,
        };
        Ok(Readable {
            object,
            key: Some(opened),
            response: Some(plan.response),
            range: plan.range,
            size,
            multipart,
            part_number: plan.part_number,
            scheme: envelope.scheme(),
        })
    }

    /// Seals `body` as a new object and stores it; returns the record and the SSE headers.
    #[allow(clippy::too_many_arguments)]
    async fn store_new(
        &self,
        bucket: &str,
        key: &str,
        headers: &http::HeaderMap,
        body: Option<StreamingBlob>,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> S3Result<(Record, Option<SseHeaders>)> {
        let state = &self.state;
        let op = Operation::PutObject;
        let id = ObjectId::new(bucket, key);
        let mut pending = state.store.begin().map_err(internal)?;
        let received = if state.encrypt {
            let default = self.bucket_default(bucket)?;
            let plan =
                state.request(headers, id, self.secure, default.as_ref()).put_object().map_err(|e| {
                    state.log_refused(op, Scheme::SseS3, &id, &e);
                    write_error(&e)
                })?;
            let cipher = state.seal_cipher(op, plan.key, &id)?;
            let sealed = body::receive_sealed(body, &mut pending.file, &cipher, state, &id).await;
            if let Ok((_, envelope, _)) = &sealed {
                state.log(&KeyEvent::for_envelope(op, KeyUse::Seal, envelope, &id));
            }
            sealed.map(|(n, envelope, etag)| {
                let sse = SseHeaders::for_envelope(op, &envelope, customer_md5(&cipher));
                (n, Some(envelope), Some(sse), etag.to_string())
            })
        } else {
            body::receive_plain(body, &mut pending.file).await.map(|n| (n, None, None, random_hex(16)))
        };
        let (size, envelope, sse, etag) = match received {
            Ok(r) => r,
            Err(ReceiveError::Client(m)) => {
                return Err(S3Error::with_message(S3ErrorCode::IncompleteBody, m));
            }
            Err(ReceiveError::Crypto(e)) => return Err(write_error(&e)),
            Err(ReceiveError::Io(e)) => return Err(internal(e)),
        };
        let record = Record {
            key: key.to_owned(),
            etag,
            last_modified: now(),
            content_type,
            metadata,
            envelope: envelope.as_ref().map(|e| Base64::encode_string(&e.to_binary())),
            size,
            parts: None,
        };
        let st = Arc::clone(state);
        let (b, r) = (bucket.to_owned(), record.clone());
        blocking(move || st.store.commit(pending, &b, &r)).await?;
        Ok((record, sse))
    }
}

/// `resp` with the SSE headers appended.
fn with_sse<T>(output: T, sse: Option<&SseHeaders>) -> S3Response<T> {
    let mut resp = S3Response::new(output);
    if let Some(sse) = sse {
        sse.append_to(&mut resp.headers);
    }
    resp
}

fn etag(record: &Record) -> ETag {
    ETag::Strong(record.etag.clone())
}

fn metadata(record: &Record) -> Option<Metadata> {
    (!record.metadata.is_empty())
        .then(|| record.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
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
        let (record, sse) = self
            .store_new(&input.bucket, &input.key, &req.headers, input.body, input.content_type, metadata)
            .await?;
        let output = PutObjectOutput {
            e_tag: Some(etag(&record)),
            size: i64::try_from(record.size).ok(),
            ..Default::default()
        };
        Ok(with_sse(output, sse.as_ref()))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let r = self
            .readable(Operation::GetObject, &req.headers, &input.bucket, &input.key, input.part_number)
            .await?;
        let (len, content_range) = r.extent()?;
        let parts_count = r.parts_count();
        let record = r.object.record.clone();
        let (file, body_len, key, range) = (r.object.file, r.object.body_len, r.key, r.range);
        let (multipart, part_number, scheme) = (r.multipart, r.part_number, r.scheme);
        let state = Arc::clone(&self.state);
        let (b, k) = (input.bucket.clone(), input.key.clone());
        // Length and header checked before the response starts: a damaged body is a 500, not a
        // 200 that breaks off.
        let source = tokio::task::spawn_blocking(move || {
            let prepared = match &multipart {
                Some(mp) => body::prepare_multipart(file, body_len, mp, part_number, range),
                None => body::prepare(file, body_len, key.as_ref(), range),
            };
            if let Err(e) = &prepared {
                let id = ObjectId::new(&b, &k);
                let event = KeyEvent::new(Operation::GetObject, KeyUse::Open, scheme, &id);
                state.log(&event.with_result::<()>(&Err(e.clone())));
            }
            prepared
        })
        .await
        .map_err(internal)?
        .map_err(|e| read_error(&e))?;
        let output = GetObjectOutput {
            body: Some(body::stream(source, len)),
            content_length: i64::try_from(len).ok(),
            content_range,
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag(&record)),
            last_modified: Some(ts(record.last_modified)),
            content_type: record.content_type.clone(),
            metadata: metadata(&record),
            parts_count,
            ..Default::default()
        };
        Ok(with_sse(output, r.response.as_ref()))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let r = self
            .readable(Operation::HeadObject, &req.headers, &input.bucket, &input.key, input.part_number)
            .await?;
        let record = &r.object.record;
        let (len, content_range) = r.extent()?;
        let output = HeadObjectOutput {
            content_length: i64::try_from(len).ok(),
            content_range,
            accept_ranges: Some("bytes".into()),
            e_tag: Some(etag(record)),
            last_modified: Some(ts(record.last_modified)),
            content_type: record.content_type.clone(),
            metadata: metadata(record),
            parts_count: r.parts_count(),
            ..Default::default()
        };
        Ok(with_sse(output, r.response.as_ref()))
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
            let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
            // A page that ended on a common prefix goes on after every key under it.
            let resumed = input.continuation_token.is_some();
            if resumed && delimiter.is_some_and(|d| after.ends_with(d) && r.key.starts_with(after.as_str())) {
                continue;
            }
            if let Some(d) = delimiter
                && let Some(pos) = r.key[prefix.len()..].find(d)
            {
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
        let op = Operation::CopyObject;
        let source = self.open_stored(&src_bucket, &src_key).await?;
        let src_envelope = decode_envelope(&source.record)?;
        let (src_id, dst_id) =
            (ObjectId::new(&src_bucket, &src_key), ObjectId::new(&input.bucket, &input.key));

        // The new envelope: the source's data key re-sealed for the destination; the body is copied
        // byte for byte (its derivation depends on neither the object's name nor its mode).
        let (envelope, sse) = match (&src_envelope, state.encrypt) {
            (Some(src_env), true) => {
                let default = self.bucket_default(&input.bucket)?;
                let plan = state
                    .request(&req.headers, dst_id, self.secure, default.as_ref())
                    .copy_object(src_env, &src_id);
                let plan = plan.map_err(|e| {
                    state.log_refused(op, src_env.scheme(), &src_id, &e);
                    read_error(&e)
                })?;
                let from = state.open_cipher(op, plan.source, src_env, &src_id)?;
                let to = state.seal_cipher(op, plan.destination.key, &dst_id)?;
                let resealed = src_env.reseal(
                    (from.encryptor(state), &src_id),
                    (to.encryptor(state), &dst_id),
                    &mut OsRng,
                );
                let event = match &resealed {
                    Ok(env) => KeyEvent::for_envelope(op, KeyUse::Reseal, env, &dst_id),
                    Err(e) => KeyEvent::for_envelope(op, KeyUse::Reseal, src_env, &src_id)
                        .with_result::<()>(&Err(e.clone())),
                };
                state.log(&event);
                let envelope = resealed.map_err(|e| read_error(&e))?;
                // (A multipart object's length is checked against its part table on every read.)
                if source.record.parts.is_none() && envelope.body_len().ok() != Some(source.body_len) {
                    return Err(read_error(&s3crypt::Error::Truncated));
                }
                let sse = SseHeaders::for_envelope(op, &envelope, customer_md5(&to));
                (Some(envelope), Some(sse))
            }
            (None, false) => (None, None),
            _ => return Err(s3_error!(NotImplemented, "copy between encrypted and unencrypted stores")),
        };
        let replace =
            input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let (content_type, metadata) = if replace {
            (input.content_type, input.metadata.unwrap_or_default().into_iter().collect())
        } else {
            (source.record.content_type.clone(), source.record.metadata.clone())
        };
        // The data key and the plaintext are the source's, so is its ETag while the scheme stays
        // (S3's ETag rules differ per scheme: an SSE-S3 MD5 must not become an SSE-C object's ETag).
        let same_scheme =
            envelope.as_ref().map(Envelope::scheme) == src_envelope.as_ref().map(Envelope::scheme);
        let record = Record {
            key: input.key.clone(),
            etag: if same_scheme { source.record.etag.clone() } else { random_hex(16) },
            last_modified: now(),
            content_type,
            metadata,
            envelope: envelope.as_ref().map(|e| Base64::encode_string(&e.to_binary())),
            size: source.record.size,
            parts: source.record.parts.clone(),
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
        let output = CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&record)),
                last_modified: Some(ts(record.last_modified)),
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(with_sse(output, sse.as_ref()))
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        let r = self
            .readable(Operation::GetObjectAttributes, &req.headers, &input.bucket, &input.key, None)
            .await?;
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
        let bucket_key = rule.bucket_key_enabled.unwrap_or(false);
        let key_id = by_default.kms_master_key_id.as_deref();
        let config = match by_default.sse_algorithm.as_str() {
            "AES256" if key_id.is_none() => BucketEncryption::sse_s3(),
            "AES256" => return Err(s3_error!(InvalidArgument, "a KMS key id requires aws:kms")),
            "aws:kms" => BucketEncryption::sse_kms(key_id, bucket_key).map_err(|e| write_error(&e))?,
            _ => return Err(write_error(&s3crypt::SseError::UnsupportedEncryption.into())),
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
        // Like S3 since 2023: a bucket without a configuration encrypts with SSE-S3.
        let config = self.bucket_default(&req.input.bucket)?.unwrap_or_else(BucketEncryption::sse_s3);
        let (algorithm, key_id) = match config.algorithm() {
            DefaultAlgorithm::SseKms { key_id } => (ServerSideEncryption::AWS_KMS, key_id.clone()),
            _ => (ServerSideEncryption::AES256, None),
        };
        let rule = ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                sse_algorithm: ServerSideEncryption::from_static(algorithm),
                kms_master_key_id: key_id,
            }),
            bucket_key_enabled: Some(config.bucket_key()),
        };
        Ok(S3Response::new(GetBucketEncryptionOutput {
            server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
                rules: vec![rule],
            }),
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.mp_create(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.mp_upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.mp_upload_part_copy(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.mp_complete(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.mp_abort(req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.mp_list_parts(req).await
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
