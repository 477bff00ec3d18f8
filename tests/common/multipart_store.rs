//! An in-memory S3 for client-side multipart tests: objects with user metadata, multipart uploads
//! with S3's completion rules (ascending part numbers, matching ETags, every part but the last at
//! least the minimum part size), `Range` GETs, and a count of every request, by operation.

use md5::{Digest as _, Md5};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// An S3 error code, as S3 names it.
pub type S3Code = &'static str;

#[derive(Clone, Debug)]
pub struct Stored {
    pub metadata: Vec<(String, String)>,
    pub body: Vec<u8>,
}

struct PendingUpload {
    key: Vec<u8>,
    metadata: Vec<(String, String)>,
    parts: BTreeMap<u32, (Vec<u8>, String)>,
}

#[derive(Default)]
struct Inner {
    objects: HashMap<Vec<u8>, Stored>,
    uploads: HashMap<u64, PendingUpload>,
    next_upload: u64,
    requests: BTreeMap<&'static str, usize>,
}

pub struct MultipartStore {
    inner: Mutex<Inner>,
    /// S3's minimum size of every part but the last (5 MiB); tests may lower it.
    pub min_part: u64,
}

/// S3's quoted hex MD5 ETag of some bytes.
pub fn s3_etag(bytes: &[u8]) -> String {
    let digest: [u8; 16] = Md5::digest(bytes).into();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

impl MultipartStore {
    pub fn new(min_part: u64) -> Self {
        Self { inner: Mutex::new(Inner::default()), min_part }
    }

    fn count(inner: &mut Inner, op: &'static str) {
        *inner.requests.entry(op).or_default() += 1;
    }

    /// Requests served, by operation.
    pub fn requests(&self, op: &str) -> usize {
        self.inner.lock().unwrap().requests.get(op).copied().unwrap_or(0)
    }

    /// All requests served.
    pub fn total_requests(&self) -> usize {
        self.inner.lock().unwrap().requests.values().sum()
    }

    pub fn reset_counts(&self) {
        self.inner.lock().unwrap().requests.clear();
    }

    pub fn create_multipart_upload(&self, key: &[u8], headers: &[(String, String)]) -> u64 {
        let mut inner = self.inner.lock().unwrap();
        Self::count(&mut inner, "CreateMultipartUpload");
        inner.next_upload += 1;
        let id = inner.next_upload;
        let metadata = headers.to_vec();
        inner.uploads.insert(id, PendingUpload { key: key.to_vec(), metadata, parts: BTreeMap::new() });
        id
    }

    /// UploadPart: checks the declared `Content-Length`; the last upload of a number wins.
    pub fn upload_part(
        &self,
        upload: u64,
        number: u32,
        content_length: u64,
        body: Vec<u8>,
    ) -> Result<String, S3Code> {
        let mut inner = self.inner.lock().unwrap();
        Self::count(&mut inner, "UploadPart");
        if content_length != body.len() as u64 {
            return Err("IncompleteBody");
        }
        if !(1..=10_000).contains(&number) {
            return Err("InvalidArgument");
        }
        let etag = s3_etag(&body);
        let pending = inner.uploads.get_mut(&upload).ok_or("NoSuchUpload")?;
        pending.parts.insert(number, (body, etag.clone()));
        Ok(etag)
    }

    /// CompleteMultipartUpload with S3's checks; the object's metadata is CreateMultipartUpload's.
    pub fn complete(&self, upload: u64, parts: &[(u32, String)]) -> Result<(), S3Code> {
        let mut inner = self.inner.lock().unwrap();
        Self::count(&mut inner, "CompleteMultipartUpload");
        let pending = inner.uploads.get(&upload).ok_or("NoSuchUpload")?;
        if parts.is_empty() {
            return Err("MalformedXML");
        }
        if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err("InvalidPartOrder");
        }
        let mut body = Vec::new();
        for (i, (number, etag)) in parts.iter().enumerate() {
            let (bytes, stored_etag) = pending.parts.get(number).ok_or("InvalidPart")?;
            if stored_etag != etag {
                return Err("InvalidPart");
            }
            if i + 1 < parts.len() && (bytes.len() as u64) < self.min_part {
                return Err("EntityTooSmall");
            }
            body.extend_from_slice(bytes);
        }
        let pending = inner.uploads.remove(&upload).ok_or("NoSuchUpload")?;
        inner.objects.insert(pending.key, Stored { metadata: pending.metadata, body });
        Ok(())
    }

    pub fn put_object(&self, key: &[u8], metadata: &[(String, String)], body: Vec<u8>) {
        let mut inner = self.inner.lock().unwrap();
        Self::count(&mut inner, "PutObject");
        inner.objects.insert(key.to_vec(), Stored { metadata: metadata.to_vec(), body });
    }

    /// GetObject, whole or with a `Range: bytes=a-b` header: the metadata and the bytes.
    pub fn get_object(&self, key: &[u8], range: Option<&str>) -> Result<Stored, S3Code> {
        let mut inner = self.inner.lock().unwrap();
        Self::count(&mut inner, "GetObject");
        let object = inner.objects.get(key).ok_or("NoSuchKey")?;
        let Some(range) = range else {
            return Ok(object.clone());
        };
        let (a, b) = range.strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or("InvalidRange")?;
        let (a, b): (usize, usize) =
            (a.parse().map_err(|_| "InvalidRange")?, b.parse().map_err(|_| "InvalidRange")?);
        if a > b || a >= object.body.len() {
            return Err("InvalidRange");
        }
        let b = b.min(object.body.len() - 1);
        Ok(Stored { metadata: object.metadata.clone(), body: object.body[a..=b].to_vec() })
    }

    /// HeadObject: the metadata and the stored length.
    pub fn head_object(&self, key: &[u8]) -> Result<(Vec<(String, String)>, u64), S3Code> {
        let mut inner = self.inner.lock().unwrap();
        Self::count(&mut inner, "HeadObject");
        let object = inner.objects.get(key).ok_or("NoSuchKey")?;
        Ok((object.metadata.clone(), object.body.len() as u64))
    }

    /// Storage-level access for hostile tests (not a request).
    pub fn raw(&self, key: &[u8]) -> Option<Stored> {
        self.inner.lock().unwrap().objects.get(key).cloned()
    }

    /// Storage-level overwrite for hostile tests (not a request).
    pub fn set_raw(&self, key: &[u8], stored: Stored) {
        self.inner.lock().unwrap().objects.insert(key.to_vec(), stored);
    }
}
