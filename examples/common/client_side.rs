//! Part 4 of the quickstart: client-side encryption against an in-memory S3 — no network.
//!
//! 1. A single-part object: PutObject with the envelope as metadata and the exact Content-Length,
//!    sent before the body is sealed; a ranged GET in one request; a rename with CopyObject and
//!    `x-amz-metadata-directive: REPLACE` (the body never leaves the store).
//! 2. A multipart upload: CreateMultipartUpload with the upload state as the object's metadata;
//!    eight 6 MiB parts sealed on every core and uploaded as they finish, part 3 uploaded twice (S3
//!    keeps the last upload; its salt is fresh); the companion (`<key>.s3crypt-parts`), then
//!    CompleteMultipartUpload; a ranged GET across a part boundary, cold (the companion, then the
//!    range) and warm (the range alone); a HEAD; a re-key to a new client key without downloading.

use s3crypt::{
    ByteRange, ChunkSize, ClientCopyPlan, ClientGetPlan, ClientKeyring, ClientMultipartUpload, ClientPutPlan,
    ClientSealer, EncryptionContext, Envelope, MultipartCopyPlan, ObjectId, OsRng, PartsCompanion, RootKey,
    SealOptions, SealedPart, parts_companion_key,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// User metadata, as `(name, value)` headers.
type Metadata = Vec<(String, String)>;

const PART: usize = 6 << 20;
const PARTS: u32 = 8;

/// Just enough S3: objects with metadata, multipart uploads, ranged GETs, a request count.
#[derive(Default)]
struct S3 {
    objects: HashMap<Vec<u8>, (Metadata, Vec<u8>)>,
    parts: BTreeMap<u32, Vec<u8>>,
    pending_metadata: Metadata,
    requests: usize,
}

impl S3 {
    /// GetObject with an optional `Range` header: the metadata, the bytes and, for a range, the
    /// `Content-Range` S3 answers with (`bytes first-last/<stored length>`).
    fn get(&mut self, key: &[u8], range: Option<&str>) -> Result<(Metadata, Vec<u8>, Option<String>)> {
        self.requests += 1;
        let (metadata, body) = self.objects.get(key).ok_or("NoSuchKey")?;
        let Some(range) = range else { return Ok((metadata.clone(), body.clone(), None)) };
        let (first, last) = parse_range(range)?;
        let bytes = body[usize::try_from(first)?..=usize::try_from(last)?].to_vec();
        Ok((metadata.clone(), bytes, Some(format!("bytes {first}-{last}/{}", body.len()))))
    }
}

impl S3 {
    fn head(&mut self, key: &[u8]) -> Result<Metadata> {
        self.requests += 1;
        Ok(self.objects.get(key).ok_or("NoSuchKey")?.0.clone())
    }
}

/// `bytes=a-b` as the plan writes it.
fn parse_range(header: &str) -> Result<(u64, u64)> {
    let (a, b) = header.strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or("range")?;
    Ok((a.parse()?, b.parse()?))
}

/// Only the user metadata of a request's headers, as S3 stores it.
fn user_metadata(headers: &[(String, String)]) -> Metadata {
    headers.iter().filter(|(k, _)| k.starts_with("x-amz-meta-")).cloned().collect()
}

/// A single-part client-side object: PUT, a ranged GET in one request, a rename without download.
fn single_part(ring: &ClientKeyring, s3: &mut S3) -> Result<()> {
    let object = ObjectId::new("bucket", "notes/2026.txt");
    let plaintext: Vec<u8> = (0..1_000_000u32).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();

    // PutObject: the headers are known before the body is sealed, so the body streams.
    let len = plaintext.len() as u64;
    let (mut sealer, envelope) = ClientSealer::new(SealOptions::default(), len, ring, &object, &mut OsRng)?;
    let put = ClientPutPlan::new(&envelope)?;
    let mut body = Vec::with_capacity(usize::try_from(put.content_length())?);
    for piece in plaintext.chunks(61_440) {
        sealer.update(piece, &mut body)?;
    }
    sealer.finish(&mut body)?;
    assert_eq!(body.len() as u64, put.content_length());
    s3.requests = 1;
    s3.objects.insert(object.key().to_vec(), (user_metadata(put.headers()), body));
    println!("PUT {} bytes: {} stored, metadata and Content-Length sent first", len, put.content_length());

    // A ranged GET: the Range header from the plaintext range alone; one response carries the
    // metadata, the Content-Range and the bytes.
    s3.requests = 0;
    let plan = ClientGetPlan::range(ByteRange::FromTo(500_000, 500_099), ChunkSize::C2SP)?;
    let header = plan.range_header().ok_or("a range")?;
    let (metadata, bytes, content_range) = s3.get(object.key(), Some(&header))?;
    let envelope = Envelope::from_metadata(metadata)?;
    let mut get = plan.open(&envelope, content_range.as_deref(), ring, &object)?;
    let mut plain = Vec::new();
    get.update(&bytes, &mut plain)?;
    get.finish(&mut plain)?;
    assert_eq!(plain, plaintext[500_000..500_100]);
    println!(
        "ranged GET of {} bytes ({header}): {} request, {} bytes fetched, authenticated",
        plain.len(),
        s3.requests,
        bytes.len()
    );

    // Rename: CopyObject with the re-sealed envelope and REPLACE; the store copies the body.
    s3.requests = 0;
    let renamed = ObjectId::new("bucket", "archive/notes-2026.txt");
    let copy = ClientCopyPlan::new(&envelope, (ring, &object), (ring, &renamed), &mut OsRng)?;
    let (_, stored) = s3.objects.remove(object.key()).ok_or("NoSuchKey")?;
    s3.requests += 1;
    s3.objects.insert(renamed.key().to_vec(), (user_metadata(&copy.headers()), stored));
    let moved = Envelope::from_metadata(s3.head(renamed.key())?)?;
    println!(
        "renamed with CopyObject + REPLACE and checked with HEAD: {} requests, 0 body bytes downloaded, {} bytes",
        s3.requests,
        moved.open(ring, &renamed)?.plaintext_len()
    );
    Ok(())
}

/// Runs both demonstrations.
pub fn run() -> Result<()> {
    let mut description = EncryptionContext::new();
    description.insert("app", "example")?;
    let ring = ClientKeyring::new("client-1", 1, RootKey::generate(&mut OsRng)?, description.clone())?;
    single_part(&ring, &mut S3::default())?;
    multipart(ring, description)
}

/// The multipart demonstration.
fn multipart(mut ring: ClientKeyring, description: EncryptionContext) -> Result<()> {
    let object = ObjectId::new("bucket", "videos/large.mp4");
    let plaintext: Vec<u8> = (0..PART * PARTS as usize).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();
    let s3 = Mutex::new(S3::default());

    // 1. CreateMultipartUpload.
    let (upload, create) = ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut OsRng)?;
    {
        let mut s3 = s3.lock().map_err(|_| "lock")?;
        s3.requests += 1;
        s3.pending_metadata = create.headers.clone();
    }

    // 2. Parts on every core, uploaded as they are sealed.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let sealed: Mutex<BTreeMap<u32, SealedPart>> = Mutex::new(BTreeMap::new());
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for t in 0..threads {
            let (upload, sealed, s3, plaintext) = (&upload, &sealed, &s3, &plaintext);
            handles.push(scope.spawn(move || -> Result<()> {
                for number in (1..=PARTS).skip(t).step_by(threads) {
                    let start = (number as usize - 1) * PART;
                    let plain = &plaintext[start..start + PART];
                    let plan = upload.upload_part(number, plain.len() as u64)?;
                    let mut sealer = upload.upload().part_sealer(number, &mut OsRng)?;
                    let mut body = Vec::with_capacity(usize::try_from(plan.content_length)?);
                    sealer.update(plain, &mut body)?;
                    let part = sealer.finish(&mut body)?;
                    assert_eq!(body.len() as u64, plan.content_length);
                    let mut s3 = s3.lock().map_err(|_| "lock")?;
                    s3.requests += 1;
                    s3.parts.insert(number, body);
                    sealed.lock().map_err(|_| "lock")?.insert(number, part);
                }
                Ok(())
            }));
        }
        handles.into_iter().try_for_each(|h| h.join().map_err(|_| "a sealing thread panicked")?)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "sealed {} MiB in {PARTS} parts on {threads} threads: {:.2} GB/s",
        plaintext.len() >> 20,
        plaintext.len() as f64 / seconds / 1e9
    );
    // Part 3 again, same bytes: a fresh salt, so no (key, nonce) pair repeats.
    let mut sealed = sealed.into_inner().map_err(|_| "lock")?;
    let first_salt = sealed[&3].part().header()[..24].to_vec();
    let mut sealer = upload.upload().part_sealer(3, &mut OsRng)?;
    let mut body = Vec::new();
    sealer.update(&plaintext[2 * PART..3 * PART], &mut body)?;
    let again = sealer.finish(&mut body)?;
    assert_ne!(first_salt, again.part().header()[..24]);
    sealed.insert(3, again);
    {
        let mut s3 = s3.lock().map_err(|_| "lock")?;
        s3.requests += 1;
        s3.parts.insert(3, body);
    }

    // 3. The companion, then CompleteMultipartUpload.
    let records: Vec<_> = sealed.values().map(|p| *p.part()).collect();
    let done = upload.complete(&ring, &object, &records, None, &mut OsRng)?;
    let mut s3 = s3.into_inner().map_err(|_| "lock")?;
    let put = done.put_companion();
    s3.requests += 1;
    s3.objects.insert(put.key.clone(), (Vec::new(), put.body.clone()));
    let etags: Vec<(u32, String)> = s3.parts.keys().map(|&n| (n, format!("\"etag-{n}\""))).collect();
    let etag_refs: Vec<(u32, &str)> = etags.iter().map(|(n, e)| (*n, e.as_str())).collect();
    let complete = done.complete_request(&etag_refs)?;
    s3.requests += 1;
    let body: Vec<u8> = complete.parts.iter().flat_map(|(n, _)| s3.parts[n].clone()).collect();
    let metadata = std::mem::take(&mut s3.pending_metadata);
    s3.objects.insert(object.key().to_vec(), (metadata, body));
    println!("upload: {} requests ({PARTS} parts, one uploaded twice)", s3.requests);

    // 4. A ranged GET across the boundary of parts 4 and 5, cold then warm.
    let range = ByteRange::FromTo(4 * PART as u64 - 100, 4 * PART as u64 + 99);
    let expected = &plaintext[4 * PART - 100..4 * PART + 100];
    let mut cache: Option<PartsCompanion> = None;
    for round in ["cold", "warm"] {
        s3.requests = 0;
        let companion = match &cache {
            Some(c) => c.clone(),
            None => PartsCompanion::from_bytes(&s3.get(&parts_companion_key(object.key()), None)?.1)?,
        };
        let plan = companion.plan_get(Some(range))?;
        let header = plan.range.as_deref().ok_or("a range")?;
        let (metadata, bytes, content_range) = s3.get(object.key(), Some(header))?;
        let mut opener = plan.opener(metadata, content_range.as_deref(), &ring, &object, &companion)?;
        let mut plain = Vec::new();
        opener.update(&bytes, &mut plain)?;
        opener.finish()?;
        assert_eq!(plain, expected);
        println!("{round} ranged GET of {} bytes: {} request(s)", plain.len(), s3.requests);
        cache = Some(companion);
    }
    let companion = cache.ok_or("cached")?;
    s3.requests = 0;
    let metadata = s3.head(object.key())?;
    let size = companion.open(metadata.clone(), &ring, &object)?.plaintext_len();
    println!("warm HEAD: {size} bytes (authenticated), {} request(s)", s3.requests);

    // Re-key to a new client key: CopyObject onto itself with the new metadata, and a new
    // companion; the body never leaves the store.
    ring.add("client-1", 2, RootKey::generate(&mut OsRng)?, description)?;
    ring.activate("client-1", 2)?;
    let state = Envelope::from_metadata(metadata)?;
    let copy = MultipartCopyPlan::new(&state, &companion, (&ring, &object), (&ring, &object), &mut OsRng)?;
    let new_metadata: Metadata =
        copy.headers().into_iter().filter(|(k, _)| k.starts_with("x-amz-meta-")).collect();
    s3.objects.insert(copy.put_companion().key.clone(), (Vec::new(), copy.put_companion().body.clone()));
    s3.objects.get_mut(object.key()).ok_or("object")?.0 = new_metadata;
    let companion = PartsCompanion::from_bytes(&s3.get(&parts_companion_key(object.key()), None)?.1)?;
    let (metadata, body, _) = s3.get(object.key(), None)?;
    let mut opener = companion.plan_get(None)?.opener(metadata, None, &ring, &object, &companion)?;
    let mut plain = Vec::with_capacity(plaintext.len());
    opener.update(&body, &mut plain)?;
    opener.finish()?;
    assert!(plain == plaintext);
    println!("re-keyed to client-1 v2 without downloading; whole GET verified");
    Ok(())
}
