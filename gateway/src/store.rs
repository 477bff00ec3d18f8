//! Filesystem storage: one file per object, written durably and replaced atomically.
//!
//! Layout under `--data DIR`:
//!
//! ```text
//! DIR/buckets/<bucket>/bucket.json          creation time (the bucket exists iff this file does)
//! DIR/buckets/<bucket>/encryption.xml       the bucket's default encryption (S3's XML), if set
//! DIR/buckets/<bucket>/objects/<sha256(key)> one object: body, then its record, then a footer
//! DIR/uploads/<id>/upload.json               a multipart upload: object name, state envelope, mode
//! DIR/uploads/<id>/<n>.part                 part n: its stored stream, record, footer (as objects)
//! DIR/tmp/                                  files being written (same filesystem, for rename)
//! ```
//!
//! An object file is `body ‖ record ‖ BE32(record length) ‖ "S3CGW01\n"`: the stored body
//! (s3crypt's streaming ciphertext, or plaintext when the gateway runs with `--no-encryption`), then
//! a JSON record with the object's name, metadata and its s3crypt envelope (binary encoding,
//! base64), then a fixed footer. The envelope is written after the body because it only exists once
//! the body is sealed; keeping both in one file means a reader that opened the file sees one
//! version's body and envelope together, whatever renames happen meanwhile.
//!
//! Writes go to a temporary file in `DIR/tmp`, are fsynced, renamed over the object's path and the
//! directory is fsynced: a crash at any point leaves either the previous object or the new one,
//! never a mix and never a partial file under the object's name.

use s3crypt::BucketEncryption;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The fixed footer that closes every object file.
pub const MAGIC: &[u8; 8] = b"S3CGW01\n";
const FOOTER_LEN: u64 = 12;
/// A record larger than this is not one the gateway wrote.
const RECORD_MAX: u32 = 1 << 20;

/// An object's record: everything but the body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// The object key (the file is named by its hash).
    pub key: String,
    /// The ETag returned to clients (random per write, hex).
    pub etag: String,
    /// Seconds since the Unix epoch.
    pub last_modified: i64,
    /// `Content-Type` as given on upload.
    #[serde(default)]
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The s3crypt envelope in its binary encoding, base64; `None` for a plaintext object.
    pub envelope: Option<String>,
    /// The plaintext length (unauthenticated hint for listings; reads use the envelope's).
    pub size: u64,
    /// A multipart object's part table (s3crypt's `PartTable::to_bytes`, base64).
    #[serde(default)]
    pub parts: Option<String>,
}

/// A multipart upload in progress (`DIR/uploads/<id>/upload.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The upload's state envelope (binary, base64): its data key, sealed in the upload's mode.
    pub state: String,
    /// s3crypt's `UploadEncryption` (its canonical JSON): the mode later requests must match.
    pub encryption: String,
    /// `Content-Type` of the object to be.
    #[serde(default)]
    pub content_type: Option<String>,
    /// User metadata of the object to be.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// A stored part's record (in the part file, after its body).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartRecord {
    /// The ETag answered to UploadPart (s3crypt's part ETag).
    pub etag: String,
    /// The plaintext length.
    pub size: u64,
}

#[derive(Serialize, Deserialize)]
struct BucketInfo {
    created: i64,
}

/// The storage root.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
}

/// An object opened for reading: one file handle, so body and record are of one version.
#[derive(Debug)]
pub struct OpenObject {
    /// The file.
    pub file: File,
    /// Length of the stored body (the file's bytes before the record).
    pub body_len: u64,
    /// The record.
    pub record: Record,
}

/// A file being written; becomes the object on [`Store::commit`].
#[derive(Debug)]
pub struct Pending {
    /// The temporary file, open for writing.
    pub file: File,
    path: PathBuf,
}

impl Drop for Pending {
    fn drop(&mut self) {
        // Not committed (an error or an aborted upload): remove the temporary file.
        let _ = fs::remove_file(&self.path);
    }
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !name.starts_with(['.', '-'])
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Writes `bytes` to `path` durably: temporary file, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().ok_or_else(|| io::Error::other("no parent directory"))?;
    let tmp = dir.join(format!(".tmp-{}", random_hex(8)));
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    let _ = getrandom_fill(&mut b);
    base16ct::lower::encode_string(&b)
}

fn getrandom_fill(buf: &mut [u8]) -> Result<(), s3crypt::Error> {
    use s3crypt::TryRng;
    s3crypt::OsRng.try_fill_bytes(buf).map_err(|_| s3crypt::Error::Rng)
}

impl Store {
    /// Opens (creating if needed) the store under `root`.
    pub fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("buckets"))?;
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp)?;
        // Leftovers of writes a crash interrupted are never objects: remove them.
        for entry in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        Ok(Self { root: root.to_owned() })
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket)
    }

    /// Whether `bucket` exists.
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        valid_bucket(bucket) && self.bucket_dir(bucket).join("bucket.json").is_file()
    }

    /// Creates `bucket`; `Ok(false)` if it already exists, `Err(InvalidInput)` for a bad name.
    pub fn create_bucket(&self, bucket: &str) -> io::Result<bool> {
        if !valid_bucket(bucket) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid bucket name"));
        }
        if self.bucket_exists(bucket) {
            return Ok(false);
        }
        let dir = self.bucket_dir(bucket);
        fs::create_dir_all(dir.join("objects"))?;
        let info = serde_json::to_vec(&BucketInfo { created: now() })?;
        write_atomic(&dir.join("bucket.json"), &info, 0o644)?;
        Ok(true)
    }

    /// Deletes an empty bucket; `Ok(false)` if it holds objects.
    pub fn delete_bucket(&self, bucket: &str) -> io::Result<bool> {
        let dir = self.bucket_dir(bucket);
        if fs::read_dir(dir.join("objects"))?.next().is_some() {
            return Ok(false);
        }
        fs::remove_dir_all(dir)?;
        Ok(true)
    }

    /// Every bucket with its creation time.
    pub fn list_buckets(&self) -> io::Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("buckets"))? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            let Ok(bytes) = fs::read(entry.path().join("bucket.json")) else { continue };
            let created = serde_json::from_slice::<BucketInfo>(&bytes).map(|b| b.created).unwrap_or(0);
            out.push((name, created));
        }
        out.sort();
        Ok(out)
    }

    /// The bucket's default encryption, if set (kept as S3's XML, s3crypt's encoding of it).
    pub fn bucket_encryption(&self, bucket: &str) -> io::Result<Option<BucketEncryption>> {
        match fs::read(self.bucket_dir(bucket).join("encryption.xml")) {
            Ok(bytes) => BucketEncryption::from_xml(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets (or with `None` removes) the bucket's default encryption.
    pub fn set_bucket_encryption(&self, bucket: &str, config: Option<&BucketEncryption>) -> io::Result<()> {
        let path = self.bucket_dir(bucket).join("encryption.xml");
        match config {
            Some(c) => write_atomic(&path, c.to_xml().as_bytes(), 0o644),
            None => match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// The path of object `key` in `bucket`.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        let name = base16ct::lower::encode_string(&Sha256::digest(key.as_bytes()));
        self.bucket_dir(bucket).join("objects").join(name)
    }

    /// Opens object `key`: `Ok(None)` if it does not exist.
    pub fn open_object(&self, bucket: &str, key: &str) -> io::Result<Option<OpenObject>> {
        let mut file = match File::open(self.object_path(bucket, key)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let (body_len, record) = read_record(&mut file)?;
        if record.key != key {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "object file holds another key"));
        }
        Ok(Some(OpenObject { file, body_len, record }))
    }

    /// Starts writing a new object file.
    pub fn begin(&self) -> io::Result<Pending> {
        let path = self.root.join("tmp").join(random_hex(16));
        let file = fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok(Pending { file, path })
    }

    /// Appends the record and footer, fsyncs, and renames the file over object `key`.
    pub fn commit(&self, pending: Pending, bucket: &str, record: &Record) -> io::Result<()> {
        let target = self.object_path(bucket, &record.key);
        commit_to(pending, &target, &serde_json::to_vec(record)?)
    }

    fn upload_dir(&self, id: &str) -> io::Result<PathBuf> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such upload"));
        }
        Ok(self.root.join("uploads").join(id))
    }

    /// Records a new upload; returns its id.
    pub fn create_upload(&self, record: &UploadRecord) -> io::Result<String> {
        let id = random_hex(16);
        let dir = self.upload_dir(&id)?;
        fs::create_dir_all(&dir)?;
        write_atomic(&dir.join("upload.json"), &serde_json::to_vec(record)?, 0o600)?;
        Ok(id)
    }

    /// The upload `id`, if it exists.
    pub fn load_upload(&self, id: &str) -> io::Result<Option<UploadRecord>> {
        let Ok(dir) = self.upload_dir(id) else { return Ok(None) };
        match fs::read(dir.join("upload.json")) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores part `number` of upload `id` (replacing an earlier upload of the same part).
    pub fn commit_part(
        &self,
        pending: Pending,
        id: &str,
        number: u32,
        record: &PartRecord,
    ) -> io::Result<()> {
        let target = self.upload_dir(id)?.join(format!("{number}.part"));
        commit_to(pending, &target, &serde_json::to_vec(record)?)
    }

    /// Opens part `number` of upload `id`: the file, its stored length and its record.
    pub fn open_part(&self, id: &str, number: u32) -> io::Result<Option<(File, u64, PartRecord)>> {
        let path = self.upload_dir(id)?.join(format!("{number}.part"));
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let (body_len, json) = read_trailer(&mut file)?;
        let record =
            serde_json::from_slice(&json).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(Some((file, body_len, record)))
    }

    /// Every stored part of upload `id`, by number.
    pub fn list_parts(&self, id: &str) -> io::Result<Vec<(u32, PartRecord)>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.upload_dir(id)?)? {
            let name = entry?.file_name();
            let Some(n) = name.to_str().and_then(|n| n.strip_suffix(".part")).and_then(|n| n.parse().ok())
            else {
                continue;
            };
            if let Some((_, _, record)) = self.open_part(id, n)? {
                out.push((n, record));
            }
        }
        out.sort_by_key(|(n, _)| *n);
        Ok(out)
    }

    /// Removes upload `id` and its parts.
    pub fn delete_upload(&self, id: &str) -> io::Result<()> {
        fs::remove_dir_all(self.upload_dir(id)?)
    }

    /// Deletes object `key` (absent is not an error, as in S3).
    pub fn delete_object(&self, bucket: &str, key: &str) -> io::Result<()> {
        match fs::remove_file(self.object_path(bucket, key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => File::open(self.bucket_dir(bucket).join("objects"))?.sync_all(),
        }
    }

    /// The records of every object in `bucket`, sorted by key.
    pub fn list_objects(&self, bucket: &str) -> io::Result<Vec<Record>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.bucket_dir(bucket).join("objects"))? {
            let Ok(mut file) = File::open(entry?.path()) else { continue };
            if let Ok((_, record)) = read_record(&mut file) {
                out.push(record);
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

/// Appends `json` and the footer to `pending`, fsyncs, renames it to `target` and fsyncs the
/// directory.
fn commit_to(mut pending: Pending, target: &Path, json: &[u8]) -> io::Result<()> {
    let len = u32::try_from(json.len()).map_err(|_| io::Error::other("record too large"))?;
    pending.file.write_all(json)?;
    pending.file.write_all(&len.to_be_bytes())?;
    pending.file.write_all(MAGIC)?;
    pending.file.sync_all()?;
    fs::rename(&pending.path, target)?;
    // Renamed: nothing left to clean up.
    pending.path = PathBuf::new();
    File::open(target.parent().ok_or_else(|| io::Error::other("no parent directory"))?)?.sync_all()
}

/// Reads an object file's footer and record; returns the body length and the record.
fn read_record(file: &mut File) -> io::Result<(u64, Record)> {
    let (body_len, json) = read_trailer(file)?;
    let record = serde_json::from_slice(&json)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "object record malformed"))?;
    Ok((body_len, record))
}

/// Reads a file's footer and the JSON before it; returns the body length and the JSON.
fn read_trailer(file: &mut File) -> io::Result<(u64, Vec<u8>)> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_owned());
    let len = file.metadata()?.len();
    if len < FOOTER_LEN {
        return Err(bad("object file too short"));
    }
    file.seek(SeekFrom::Start(len - FOOTER_LEN))?;
    let mut footer = [0u8; 12];
    file.read_exact(&mut footer)?;
    if &footer[4..] != MAGIC {
        return Err(bad("object file footer missing"));
    }
    let record_len = u32::from_be_bytes([footer[0], footer[1], footer[2], footer[3]]);
    if record_len > RECORD_MAX || u64::from(record_len) > len - FOOTER_LEN {
        return Err(bad("object record length invalid"));
    }
    let body_len = len - FOOTER_LEN - u64::from(record_len);
    file.seek(SeekFrom::Start(body_len))?;
    let mut json = vec![0u8; record_len as usize];
    file.read_exact(&mut json)?;
    file.seek(SeekFrom::Start(0))?;
    Ok((body_len, json))
}
