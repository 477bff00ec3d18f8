//! Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
//! AbortMultipartUpload.
//!
//! One data key per upload, sealed in the upload's mode into a state envelope kept with the upload
//! (`DIR/uploads/<id>/upload.json`, with s3crypt's `UploadEncryption` so later requests are checked
//! against the upload's mode); each part is its own stream (`Upload::part_sealer`), stored as
//! `<n>.part`. Completion binds the chosen parts into the object's envelope and part table
//! (`Envelope::complete_upload`) and concatenates the parts' stored streams into the object file.

use crate::crypto::{ObjectCipher, read_error, write_error};
use crate::service::Gateway;
use crate::store::{PartRecord, Record, UploadRecord};
use base64ct::{Base64, Encoding};
use futures::StreamExt;
use s3crypt::{
    CustomerKey, ETag as PartETag, Envelope, KeyEvent, KeyUse, ObjectId, Operation, OsRng, Part, PartTable,
    SealOptions, SseError, Upload, UploadEncryption,
};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

const WRITE_STEP: usize = 1024 * 1024;
const READ_STEP: usize = 256 * 1024;
/// S3's minimum size of every part but the last.
const MIN_PART: u64 = 5 * 1024 * 1024;

fn internal(e: impl std::fmt::Display) -> S3Error {
    S3Error::with_message(S3ErrorCode::InternalError, format!("internal error: {e}"))
}

fn no_such_upload() -> S3Error {
    s3_error!(NoSuchUpload, "The specified upload does not exist.")
}

fn invalid_part() -> S3Error {
    write_error(&s3crypt::Error::InvalidPart)
}

fn decode_envelope(b64: &str) -> S3Result<Envelope> {
    let bytes = Base64::decode_vec(b64).map_err(|_| read_error(&s3crypt::Error::Authentication))?;
    Envelope::from_binary(&bytes).map_err(|e| read_error(&e))
}

/// The part's ETag as stored: s3crypt's part ETag (hex digest).
fn parse_part_etag(s: &str) -> Option<PartETag> {
    let s = s.trim_matches('"');
    let mut digest = [0u8; 16];
    let bytes = base16ct::mixed::decode(s, &mut digest).ok()?;
    (bytes.len() == 16).then(|| PartETag::from_digest(digest))
}

impl Gateway {
    async fn load_upload(&self, upload_id: &str, bucket: &str, key: &str) -> S3Result<UploadRecord> {
        let state = Arc::clone(&self.state);
        let id = upload_id.to_owned();
        let upload = tokio::task::spawn_blocking(move || state.store.load_upload(&id))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        upload.filter(|u| u.bucket == bucket && u.key == key).ok_or_else(no_such_upload)
    }

    /// The key that opens an upload's state: the keyring, the request's SSE-C key, or the KMS.
    fn upload_cipher(
        &self,
        op: Operation,
        encryption: &UploadEncryption,
        customer: Option<CustomerKey>,
        state_envelope: &Envelope,
        object: &ObjectId<'_>,
    ) -> S3Result<ObjectCipher> {
        match encryption {
            UploadEncryption::SseC { .. } => customer
                .map(ObjectCipher::SseC)
                .ok_or_else(|| write_error(&SseError::MissingUploadKey.into())),
            UploadEncryption::SseKms(_) => self.state.kms_for_envelope(op, state_envelope, object),
            _ => Ok(ObjectCipher::SseS3),
        }
    }

    /// Opens the upload's state for a part request.
    fn open_upload(
        &self,
        op: Operation,
        upload: &UploadRecord,
        encryption: &UploadEncryption,
        customer: Option<CustomerKey>,
        object: &ObjectId<'_>,
    ) -> S3Result<Upload> {
        let state_envelope = decode_envelope(&upload.state)?;
        let cipher = self.upload_cipher(op, encryption, customer, &state_envelope, object)?;
        let opened = state_envelope.open_upload(cipher.encryptor(&self.state), object);
        self.state
            .log(&KeyEvent::for_envelope(op, KeyUse::Open, &state_envelope, object).with_result(&opened));
        opened.map_err(|e| read_error(&e))
    }

    pub(crate) async fn mp_create(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        self.check_bucket(&input.bucket)?;
        let state = &self.state;
        if !state.encrypt {
            return Err(s3_error!(NotImplemented, "multipart uploads need encryption on"));
        }
        let op = Operation::CreateMultipartUpload;
        let id = ObjectId::new(&input.bucket, &input.key);
        let default = state.store.bucket_encryption(&input.bucket).map_err(internal)?;
        let plan = state.request(&req.headers, id, self.secure, default.as_ref()).create_multipart_upload();
        let plan = plan.map_err(|e| {
            state.log_refused(op, s3crypt::Scheme::SseS3, &id, &e);
            write_error(&e)
        })?;
        let encryption = plan.key.upload_encryption();
        let cipher = state.seal_cipher(op, plan.key, &id)?;
        let created = Upload::create(SealOptions::default(), cipher.encryptor(state), &id, &mut OsRng);
        let (_, state_envelope) = created.map_err(|e| write_error(&e))?;
        state.log(&KeyEvent::for_envelope(op, KeyUse::Seal, &state_envelope, &id));
        let record = UploadRecord {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            state: Base64::encode_string(&state_envelope.to_binary()),
            encryption: encryption.to_json(),
            content_type: input.content_type,
            metadata: input.metadata.unwrap_or_default().into_iter().collect(),
        };
        let st = Arc::clone(state);
        let upload_id = tokio::task::spawn_blocking(move || st.store.create_upload(&record))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        let mut resp = S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        });
        plan.response.append_to(&mut resp.headers);
        Ok(resp)
    }

    pub(crate) async fn mp_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let op = Operation::UploadPart;
        let upload = self.load_upload(&input.upload_id, &input.bucket, &input.key).await?;
        let encryption = UploadEncryption::from_json(upload.encryption.as_bytes()).map_err(internal)?;
        let id = ObjectId::new(&input.bucket, &input.key);
        let plan = self.state.request(&req.headers, id, self.secure, None).upload_part(&encryption);
        let plan = plan.map_err(|e| write_error(&e))?;
        let number = u32::try_from(input.part_number).map_err(|_| invalid_part())?;
        let opened = self.open_upload(op, &upload, &encryption, plan.customer_key, &id)?;
        let mut sealer = opened.part_sealer(number, &mut OsRng).map_err(|e| write_error(&e))?;
        drop(opened);

        let mut pending = self.state.store.begin().map_err(internal)?;
        let mut out = Vec::with_capacity(WRITE_STEP + READ_STEP);
        if let Some(mut body) = input.body {
            while let Some(frame) = body.next().await {
                let frame =
                    frame.map_err(|e| S3Error::with_message(S3ErrorCode::IncompleteBody, e.to_string()))?;
                sealer.update(&frame, &mut out).map_err(|e| write_error(&e))?;
                if out.len() >= WRITE_STEP {
                    tokio::task::block_in_place(|| pending.file.write_all(&out)).map_err(internal)?;
                    out.clear();
                }
            }
        }
        let sealed = sealer.finish(&mut out).map_err(|e| write_error(&e))?;
        tokio::task::block_in_place(|| pending.file.write_all(&out)).map_err(internal)?;
        let etag = sealed.etag().to_string();
        let record = PartRecord { etag: etag.clone(), size: sealed.plaintext_len() };
        let st = Arc::clone(&self.state);
        let upload_id = input.upload_id.clone();
        tokio::task::spawn_blocking(move || st.store.commit_part(pending, &upload_id, number, &record))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        let mut resp =
            S3Response::new(UploadPartOutput { e_tag: Some(ETag::Strong(etag)), ..Default::default() });
        plan.response.append_to(&mut resp.headers);
        Ok(resp)
    }

    pub(crate) async fn mp_upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        let op = Operation::UploadPartCopy;
        let CopySource::Bucket { bucket: src_bucket, key: src_key, .. } = &input.copy_source else {
            return Err(s3_error!(NotImplemented, "access-point copy sources are not supported"));
        };
        let (src_bucket, src_key) = (src_bucket.to_string(), src_key.to_string());
        let upload = self.load_upload(&input.upload_id, &input.bucket, &input.key).await?;
        let encryption = UploadEncryption::from_json(upload.encryption.as_bytes()).map_err(internal)?;
        let id = ObjectId::new(&input.bucket, &input.key);
        let src_id = ObjectId::new(&src_bucket, &src_key);
        let number = u32::try_from(input.part_number).map_err(|_| invalid_part())?;

        let source = self.open_stored(&src_bucket, &src_key).await?;
        let Some(b64) = &source.record.envelope else {
            return Err(s3_error!(NotImplemented, "copy from an unencrypted object"));
        };
        let src_envelope = decode_envelope(b64)?;
        let plan = self.state.request(&req.headers, id, self.secure, None).upload_part_copy(
            &src_envelope,
            &src_id,
            &encryption,
        );
        let plan = plan.map_err(|e| read_error(&e))?;
        let src_key_opened = self.state.open(op, plan.source, &src_envelope, &src_id)?;
        let size = src_key_opened.plaintext_len();
        let range = match &input.copy_source_range {
            Some(v) => Some(
                s3crypt::parse_range(v, size)
                    .map_err(|e| write_error(&e))?
                    .ok_or_else(|| s3_error!(InvalidArgument, "invalid x-amz-copy-source-range"))?,
            ),
            None => None,
        };
        // The source's openers: a multipart source through its part table, a single-part one whole
        // or by range (from its stored header).
        let copy_source: s3crypt::CopySource = match &source.record.parts {
            Some(t) => {
                let bytes = Base64::decode_vec(t).map_err(|_| read_error(&s3crypt::Error::Authentication))?;
                let table = PartTable::from_bytes(&bytes).map_err(|e| read_error(&e))?;
                let mp = src_key_opened.multipart(&table).map_err(|e| read_error(&e))?;
                match range {
                    Some(r) => mp.range_opener(r).map_err(|e| read_error(&e))?.into(),
                    None => mp.opener().into(),
                }
            }
            None => match range {
                Some(r) => {
                    let mut header = [0u8; s3crypt::HEADER_LEN];
                    source
                        .file
                        .read_exact_at(&mut header, 0)
                        .map_err(|_| read_error(&s3crypt::Error::Truncated))?;
                    let chunks = src_key_opened.chunk_opener(&header).map_err(|e| read_error(&e))?;
                    chunks.open_range(r).map_err(|e| read_error(&e))?.into()
                }
                None => src_key_opened.opener().into(),
            },
        };
        let opened = self.open_upload(op, &upload, &encryption, plan.part.customer_key, &id)?;
        let mut copier = opened.copy_part(number, copy_source, &mut OsRng).map_err(|e| write_error(&e))?;
        drop(opened);
        let stored = copier.source_range().unwrap_or(0..source.body_len);
        let st = Arc::clone(&self.state);
        let upload_id = input.upload_id.clone();
        let mut src_file = source.file;
        let etag = tokio::task::spawn_blocking(move || -> Result<String, S3Error> {
            let mut pending = st.store.begin().map_err(internal)?;
            src_file.seek(SeekFrom::Start(stored.start)).map_err(internal)?;
            let mut left = stored.end - stored.start;
            let mut buf = vec![0u8; READ_STEP];
            let mut out = Vec::with_capacity(2 * READ_STEP);
            while left > 0 {
                let n = usize::try_from(left).map_or(READ_STEP, |l| l.min(READ_STEP));
                src_file.read_exact(&mut buf[..n]).map_err(|_| read_error(&s3crypt::Error::Truncated))?;
                copier.update(&buf[..n], &mut out).map_err(|e| read_error(&e))?;
                pending.file.write_all(&out).map_err(internal)?;
                out.clear();
                left -= n as u64;
            }
            let sealed = copier.finish(&mut out).map_err(|e| read_error(&e))?;
            pending.file.write_all(&out).map_err(internal)?;
            let etag = sealed.etag().to_string();
            let record = PartRecord { etag: etag.clone(), size: sealed.plaintext_len() };
            st.store.commit_part(pending, &upload_id, number, &record).map_err(internal)?;
            Ok(etag)
        })
        .await
        .map_err(internal)??;
        let mut resp = S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult { e_tag: Some(ETag::Strong(etag)), ..Default::default() }),
            ..Default::default()
        });
        plan.part.response.append_to(&mut resp.headers);
        Ok(resp)
    }

    pub(crate) async fn mp_complete(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let op = Operation::CompleteMultipartUpload;
        let upload = self.load_upload(&input.upload_id, &input.bucket, &input.key).await?;
        let encryption = UploadEncryption::from_json(upload.encryption.as_bytes()).map_err(internal)?;
        let id = ObjectId::new(&input.bucket, &input.key);
        let plan =
            self.state.request(&req.headers, id, self.secure, None).complete_multipart_upload(&encryption);
        let plan = plan.map_err(|e| write_error(&e))?;
        let requested = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if requested.is_empty() {
            return Err(s3_error!(MalformedXML, "You must specify at least one part"));
        }
        // The parts the client chose, with their ETags checked, as s3crypt's part list.
        let mut files = Vec::with_capacity(requested.len());
        let mut list = Vec::with_capacity(requested.len());
        let mut etags = Vec::with_capacity(requested.len());
        let mut size = 0u64;
        for (i, p) in requested.iter().enumerate() {
            let n = p.part_number.and_then(|n| u32::try_from(n).ok()).ok_or_else(invalid_part)?;
            let found = self.state.store.open_part(&input.upload_id, n).map_err(internal)?;
            let (file, stored_len, record) = found.ok_or_else(invalid_part)?;
            if p.e_tag.as_ref().is_some_and(|e| e.value() != record.etag) {
                return Err(invalid_part());
            }
            // S3: every part but the last is at least 5 MiB.
            if i + 1 < requested.len() && record.size < MIN_PART {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed object size."
                ));
            }
            let mut header = [0u8; s3crypt::HEADER_LEN];
            file.read_exact_at(&mut header, 0).map_err(|_| invalid_part())?;
            list.push(Part::new(n, &header, stored_len).map_err(|e| write_error(&e))?);
            etags.push(parse_part_etag(&record.etag).ok_or_else(invalid_part)?);
            size += record.size;
            files.push((file, stored_len));
        }
        let state_envelope = decode_envelope(&upload.state)?;
        let cipher = self.upload_cipher(op, &encryption, plan.customer_key, &state_envelope, &id)?;
        let done = state_envelope.complete_upload(cipher.encryptor(&self.state), &id, &list, &mut OsRng);
        let event = match &done {
            Ok(d) => KeyEvent::for_envelope(op, KeyUse::Seal, &d.envelope, &id),
            Err(e) => KeyEvent::for_envelope(op, KeyUse::Open, &state_envelope, &id)
                .with_result::<()>(&Err(e.clone())),
        };
        self.state.log(&event);
        let done = done.map_err(|e| write_error(&e))?;
        let etag = PartETag::multipart(&etags).map_err(|e| write_error(&e))?.to_string();
        let record = Record {
            key: input.key.clone(),
            etag: etag.clone(),
            last_modified: time::OffsetDateTime::now_utc().unix_timestamp(),
            content_type: upload.content_type.clone(),
            metadata: upload.metadata.clone(),
            envelope: Some(Base64::encode_string(&done.envelope.to_binary())),
            size,
            parts: Some(Base64::encode_string(&done.table.to_bytes())),
        };
        let st = Arc::clone(&self.state);
        let (bucket, upload_id) = (input.bucket.clone(), input.upload_id.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut pending = st.store.begin()?;
            for (file, len) in files {
                let copied = std::io::copy(&mut (&file).take(len), &mut pending.file)?;
                if copied != len {
                    return Err(std::io::Error::other("part shorter than recorded"));
                }
            }
            st.store.commit(pending, &bucket, &record)?;
            st.store.delete_upload(&upload_id)
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        let mut resp = S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(ETag::Strong(etag)),
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            ..Default::default()
        });
        plan.response.append_to(&mut resp.headers);
        Ok(resp)
    }

    pub(crate) async fn mp_abort(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.load_upload(&input.upload_id, &input.bucket, &input.key).await?;
        self.state.store.delete_upload(&input.upload_id).map_err(internal)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(crate) async fn mp_list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let upload = self.load_upload(&input.upload_id, &input.bucket, &input.key).await?;
        let encryption = UploadEncryption::from_json(upload.encryption.as_bytes()).map_err(internal)?;
        let id = ObjectId::new(&input.bucket, &input.key);
        // s3crypt's plan: the upload's SSE-C key, if sent, must be the upload's.
        let plan = self.state.request(&req.headers, id, self.secure, None).list_parts(&encryption);
        let plan = plan.map_err(|e| write_error(&e))?;
        let parts = self.state.store.list_parts(&input.upload_id).map_err(internal)?;
        let parts = parts
            .into_iter()
            .map(|(n, r)| s3s::dto::Part {
                part_number: i32::try_from(n).ok(),
                e_tag: Some(ETag::Strong(r.etag)),
                size: i64::try_from(r.size).ok(),
                ..Default::default()
            })
            .collect();
        let mut resp = S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(input.upload_id.clone()),
            parts: Some(parts),
            is_truncated: Some(false),
            ..Default::default()
        });
        plan.response.append_to(&mut resp.headers);
        Ok(resp)
    }
}
