//! An in-memory S3-like object store for client-side tests: PutObject, GetObject with `Range`
//! (answering `Content-Range` as S3 does), HeadObject, CopyObject with
//! `x-amz-metadata-directive: REPLACE`, DeleteObject — and a request counter per operation.
//!
//! It implements S3's rules independently of s3crypt (its own `Range` parser), so that the
//! client-side plans are checked against an S3 model rather than against themselves. Multipart
//! uploads: CreateMultipartUpload, UploadPart (the last upload of a part number wins) and
//! CompleteMultipartUpload with S3's checks (ascending part numbers, each part's ETag, every part
//! but the last at least the minimum part size, 5 MiB unless a test lowers it).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// S3's limit on an object's user metadata: names (without `x-amz-meta-`) and values, in bytes.
pub const METADATA_LIMIT: usize = 2048;

/// A stored object: its user metadata (names without `x-amz-meta-`, lower case) and body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    pub metadata: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// What a GET or HEAD answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// 200, or 206 for a satisfied range.
    pub status: u16,
    /// Response headers: `x-amz-meta-*`, `content-length`, and `content-range` for a 206.
    pub headers: Vec<(String, String)>,
    /// The body (empty for HEAD).
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The `x-amz-meta-*` headers, as S3 returns them.
    pub fn metadata(&self) -> Vec<(String, String)> {
        self.headers.iter().filter(|(k, _)| k.starts_with("x-amz-meta-")).cloned().collect()
    }

    pub fn content_range(&self) -> Option<&str> {
        self.header("content-range")
    }
}

/// An S3 error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    pub status: u16,
    pub code: &'static str,
}

fn error(status: u16, code: &'static str) -> StoreError {
    StoreError { status, code }
}

#[derive(Debug, Default)]
pub struct Store {
    objects: HashMap<(String, String), Object>,
    requests: RefCell<BTreeMap<&'static str, usize>>,
    multipart: Multipart,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    fn count(&self, op: &'static str) {
        *self.requests.borrow_mut().entry(op).or_default() += 1;
    }

    /// Requests of one operation ("PutObject", "GetObject", "HeadObject", "CopyObject", …).
    pub fn requests(&self, op: &str) -> usize {
        self.requests.borrow().get(op).copied().unwrap_or(0)
    }

    /// Requests of any operation.
    pub fn total_requests(&self) -> usize {
        self.requests.borrow().values().sum()
    }

    pub fn reset_counters(&self) {
        self.requests.borrow_mut().clear();
    }

    /// Direct access for tests that tamper with what is stored (not counted).
    pub fn object_mut(&mut self, bucket: &str, key: &str) -> Option<&mut Object> {
        self.objects.get_mut(&(bucket.to_owned(), key.to_owned()))
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<&Object> {
        self.objects.get(&(bucket.to_owned(), key.to_owned()))
    }

    /// Stores an object directly (not counted): for tests that plant a crafted object.
    pub fn insert(&mut self, bucket: &str, key: &str, object: Object) {
        self.objects.insert((bucket.to_owned(), key.to_owned()), object);
    }

    /// The `x-amz-meta-*` request headers as user metadata, checked against S3's limit.
    fn user_metadata(headers: &[(String, String)]) -> Result<BTreeMap<String, String>, StoreError> {
        let mut metadata = BTreeMap::new();
        let mut size = 0;
        for (name, value) in headers {
            let lower = name.to_ascii_lowercase();
            if let Some(user) = lower.strip_prefix("x-amz-meta-") {
                size += user.len() + value.len();
                if metadata.insert(user.to_owned(), value.clone()).is_some() {
                    return Err(error(400, "InvalidArgument"));
                }
            }
        }
        if size > METADATA_LIMIT {
            return Err(error(400, "MetadataTooLarge"));
        }
        Ok(metadata)
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// PutObject: `headers` must carry a `content-length` equal to the body's length.
    pub fn put(
        &mut self,
        bucket: &str,
        key: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.count("PutObject");
        let declared: u64 = Self::header(headers, "content-length")
            .and_then(|v| v.parse().ok())
            .ok_or(error(411, "MissingContentLength"))?;
        if declared != body.len() as u64 {
            return Err(error(400, "IncompleteBody"));
        }
        let metadata = Self::user_metadata(headers)?;
        self.objects.insert((bucket.to_owned(), key.to_owned()), Object { metadata, body });
        Ok(())
    }

    /// The `x-amz-meta-*` headers and the `etag` of a GET or HEAD answer (the model's ETag is the
    /// single-part form, the MD5 of the stored bytes, for every object).
    fn meta_headers(object: &Object) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> =
            object.metadata.iter().map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())).collect();
        headers.push(("etag".to_owned(), s3_etag(&object.body)));
        headers
    }

    /// GetObject, with an optional `Range` header value.
    pub fn get(&self, bucket: &str, key: &str, range: Option<&str>) -> Result<Response, StoreError> {
        self.count("GetObject");
        let object = self.objects.get(&(bucket.to_owned(), key.to_owned())).ok_or(error(404, "NoSuchKey"))?;
        let total = object.body.len() as u64;
        let mut headers = Self::meta_headers(object);
        let selected = match range.and_then(parse_range) {
            None => None,
            Some(spec) => Some(resolve(spec, total).ok_or(error(416, "InvalidRange"))?),
        };
        let (status, body) = match selected {
            None => (200, object.body.clone()),
            Some((first, last)) => {
                headers.push(("content-range".to_owned(), format!("bytes {first}-{last}/{total}")));
                (206, object.body[first as usize..=last as usize].to_vec())
            }
        };
        headers.push(("content-length".to_owned(), body.len().to_string()));
        Ok(Response { status, headers, body })
    }

    /// HeadObject.
    pub fn head(&self, bucket: &str, key: &str) -> Result<Response, StoreError> {
        self.count("HeadObject");
        let object = self.objects.get(&(bucket.to_owned(), key.to_owned())).ok_or(error(404, "NoSuchKey"))?;
        let mut headers = Self::meta_headers(object);
        headers.push(("content-length".to_owned(), object.body.len().to_string()));
        Ok(Response { status: 200, headers, body: Vec::new() })
    }

    /// CopyObject to `bucket`/`key` from `x-amz-copy-source` (`/bucket/key`, percent-encoded).
    /// With `x-amz-metadata-directive: REPLACE` the metadata is the request's; with `COPY` (the
    /// default) the source's — and copying an object onto itself then is refused, as S3 does.
    pub fn copy(&mut self, bucket: &str, key: &str, headers: &[(String, String)]) -> Result<(), StoreError> {
        self.count("CopyObject");
        let ((src_bucket, src_key), object) = self.source_object(headers)?;
        let object = object.clone();
        let replace = match Self::header(headers, "x-amz-metadata-directive") {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(_) => return Err(error(400, "InvalidArgument")),
        };
        if !replace && src_bucket == bucket && src_key == key {
            return Err(error(400, "InvalidRequest"));
        }
        let metadata = if replace { Self::user_metadata(headers)? } else { object.metadata };
        self.objects.insert((bucket.to_owned(), key.to_owned()), Object { metadata, body: object.body });
        Ok(())
    }

    /// The bucket, key and object `x-amz-copy-source` names (`/bucket/key`, percent-encoded), if
    /// it exists and its ETag is `x-amz-copy-source-if-match`'s (when sent): else S3's 400, 404
    /// or 412.
    fn source_object(&self, headers: &[(String, String)]) -> Result<((String, String), &Object), StoreError> {
        let source = Self::header(headers, "x-amz-copy-source").ok_or(error(400, "InvalidArgument"))?;
        let source = percent_decode(source.strip_prefix('/').unwrap_or(source))
            .ok_or(error(400, "InvalidArgument"))?;
        let (bucket, key) = source.split_once('/').ok_or(error(400, "InvalidArgument"))?;
        let name = (bucket.to_owned(), key.to_owned());
        let object = self.objects.get(&name).ok_or(error(404, "NoSuchKey"))?;
        match Self::header(headers, "x-amz-copy-source-if-match") {
            Some(etag) if etag != s3_etag(&object.body) => Err(error(412, "PreconditionFailed")),
            _ => Ok((name, object)),
        }
    }

    /// DeleteObject.
    pub fn delete(&mut self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.count("DeleteObject");
        self.objects.remove(&(bucket.to_owned(), key.to_owned()));
        Ok(())
    }
}

/// A single byte range, as S3 reads `Range`: `(first, last)`, `(first, None)`, or a suffix.
#[derive(Clone, Copy, Debug)]
enum Spec {
    FromTo(u64, Option<u64>),
    Suffix(u64),
}

fn parse_range(value: &str) -> Option<Spec> {
    let spec = value.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let num =
        |s: &str| (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok()).flatten();
    if a.is_empty() {
        return num(b).map(Spec::Suffix);
    }
    let first = num(a)?;
    if b.is_empty() {
        return Some(Spec::FromTo(first, None));
    }
    let last = num(b)?;
    (first <= last).then_some(Spec::FromTo(first, Some(last)))
}

/// RFC 9110's rules: `None` when unsatisfiable.
fn resolve(spec: Spec, total: u64) -> Option<(u64, u64)> {
    match spec {
        Spec::FromTo(first, _) if first >= total => None,
        Spec::FromTo(first, last) => Some((first, last.map_or(total - 1, |l| l.min(total - 1)))),
        Spec::Suffix(0) => None,
        Spec::Suffix(_) if total == 0 => None,
        Spec::Suffix(n) => Some((total.saturating_sub(n), total - 1)),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// S3's minimum size of every part of a multipart upload but the last.
pub const MIN_PART_SIZE: u64 = 5 << 20;

/// Multipart uploads in progress.
#[derive(Debug)]
struct Multipart {
    uploads: HashMap<u64, PendingUpload>,
    next_id: u64,
    min_part_size: u64,
}

impl Default for Multipart {
    fn default() -> Self {
        Self { uploads: HashMap::new(), next_id: 0, min_part_size: MIN_PART_SIZE }
    }
}

#[derive(Debug)]
struct PendingUpload {
    bucket: String,
    key: String,
    metadata: BTreeMap<String, String>,
    /// Part number → (stored bytes, S3 ETag); a part uploaded again replaces the earlier upload.
    parts: BTreeMap<u32, (Vec<u8>, String)>,
}

/// S3's ETag of a part or single-part object: the MD5 of its stored bytes, hex, quoted.
pub fn s3_etag(bytes: &[u8]) -> String {
    use md5::{Digest as _, Md5};
    let digest: [u8; 16] = Md5::digest(bytes).into();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

impl Store {
    /// Lowers (or raises) S3's 5 MiB minimum part size, for tests with small parts.
    pub fn set_min_part_size(&mut self, bytes: u64) {
        self.multipart.min_part_size = bytes;
    }

    /// CreateMultipartUpload: the `x-amz-meta-*` headers become the object's metadata at completion
    /// (S3 takes no metadata later). Returns the upload id.
    pub fn create_multipart_upload(
        &mut self,
        bucket: &str,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<u64, StoreError> {
        self.count("CreateMultipartUpload");
        let metadata = Self::user_metadata(headers)?;
        self.multipart.next_id += 1;
        let id = self.multipart.next_id;
        let pending = PendingUpload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            metadata,
            parts: BTreeMap::new(),
        };
        self.multipart.uploads.insert(id, pending);
        Ok(id)
    }

    /// UploadPart: `content_length` must be the body's length; returns S3's ETag of the part.
    pub fn upload_part(
        &mut self,
        upload: u64,
        number: u32,
        content_length: u64,
        body: Vec<u8>,
    ) -> Result<String, StoreError> {
        self.count("UploadPart");
        if content_length != body.len() as u64 {
            return Err(error(400, "IncompleteBody"));
        }
        self.store_part(upload, number, body)
    }

    /// UploadPartCopy: the part is the bytes of `x-amz-copy-source` (`/bucket/key`, percent-encoded)
    /// in `x-amz-copy-source-range` (`bytes=first-last`, within the source; the whole source
    /// without it); at most 5 GiB. As S3 documents it, a range may be given only for a source over
    /// 5 MB (taken as 5 MiB here, the stricter reading). Returns S3's ETag of the part.
    pub fn upload_part_copy(
        &mut self,
        upload: u64,
        number: u32,
        headers: &[(String, String)],
    ) -> Result<String, StoreError> {
        self.count("UploadPartCopy");
        let body = &self.source_object(headers)?.1.body;
        let range = match Self::header(headers, "x-amz-copy-source-range") {
            None => 0..body.len(),
            Some(value) => {
                let (first, last) = value
                    .strip_prefix("bytes=")
                    .and_then(|r| r.split_once('-'))
                    .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
                    .ok_or(error(400, "InvalidArgument"))?;
                if first > last || last >= body.len() {
                    return Err(error(400, "InvalidRange"));
                }
                if body.len() <= 5 << 20 {
                    return Err(error(400, "InvalidRequest"));
                }
                first..last + 1
            }
        };
        if range.len() as u64 > 5 << 30 {
            return Err(error(400, "InvalidRequest"));
        }
        let bytes = body[range].to_vec();
        self.store_part(upload, number, bytes)
    }

    /// Keeps `bytes` as part `number` of `upload` (replacing an earlier upload of it): its ETag.
    fn store_part(&mut self, upload: u64, number: u32, bytes: Vec<u8>) -> Result<String, StoreError> {
        if !(1..=10_000).contains(&number) {
            return Err(error(400, "InvalidArgument"));
        }
        let pending = self.multipart.uploads.get_mut(&upload).ok_or(error(404, "NoSuchUpload"))?;
        let etag = s3_etag(&bytes);
        pending.parts.insert(number, (bytes, etag.clone()));
        Ok(etag)
    }

    /// CompleteMultipartUpload with `(part number, ETag)` in the request's order: S3's checks, then
    /// the object is the listed parts' bytes back to back, with CreateMultipartUpload's metadata.
    pub fn complete_multipart_upload(
        &mut self,
        upload: u64,
        parts: &[(u32, String)],
    ) -> Result<(), StoreError> {
        self.count("CompleteMultipartUpload");
        let pending = self.multipart.uploads.get(&upload).ok_or(error(404, "NoSuchUpload"))?;
        if parts.is_empty() {
            return Err(error(400, "MalformedXML"));
        }
        if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(error(400, "InvalidPartOrder"));
        }
        let mut body = Vec::new();
        for (i, (number, etag)) in parts.iter().enumerate() {
            let (bytes, stored) = pending.parts.get(number).ok_or(error(400, "InvalidPart"))?;
            if stored != etag {
                return Err(error(400, "InvalidPart"));
            }
            if i + 1 < parts.len() && (bytes.len() as u64) < self.multipart.min_part_size {
                return Err(error(400, "EntityTooSmall"));
            }
            body.extend_from_slice(bytes);
        }
        let pending = self.multipart.uploads.remove(&upload).ok_or(error(404, "NoSuchUpload"))?;
        self.objects.insert((pending.bucket, pending.key), Object { metadata: pending.metadata, body });
        Ok(())
    }
}
