//! Client-side multipart uploads against the in-memory S3 of `tests/common/store.rs`:
//! parts sealed on several threads and uploaded out of order, re-uploaded parts, the parts
//! companion written before CompleteMultipartUpload, whole and ranged GETs and HEADs with their
//! request counts, and every hostile case of the part list and the companion.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod common;

use common::counting::CountingKms;
use common::store::{Object, Store};
use common::{TestRng, pattern};
use proptest::prelude::*;
use s3crypt::{
    ByteRange, ChunkSize, ClientKeyring, ClientKms, ClientKmsKey, ClientMultipartUpload, ClientSideError,
    EncryptionContext, Encryptor, Envelope, Error, FormatError, HEADER_LEN, Keyring, LocalKms,
    MultipartCopyPlan, ObjectId, PARTS_COMPANION_SUFFIX, Part, PartTable, PartsCompanion, RootKey,
    S3_MIN_PART_SIZE, Scheme, SealOptions, SealedPart, parts_companion_key,
};
use std::collections::BTreeMap;

const C: usize = 16 * 1024;
const BUCKET: &str = "client-bucket";

fn description() -> EncryptionContext {
    let mut d = EncryptionContext::new();
    d.insert("team", "video").unwrap();
    d
}

fn keyring() -> ClientKeyring {
    ClientKeyring::new("client-1", 1, RootKey::from_bytes([0x31; 32]), description()).unwrap()
}

/// The shared in-memory S3 (`tests/common/store.rs`) behind a lock, so that parts can be uploaded
/// from several threads, with every object in [`BUCKET`].
struct MultipartStore(std::sync::Mutex<Store>);

/// Metadata as `x-amz-meta-*` header pairs.
type Metadata = Vec<(String, String)>;

/// What the tests read or plant: metadata as `x-amz-meta-*` response headers, and the body.
#[derive(Clone, Debug)]
struct Stored {
    metadata: Vec<(String, String)>,
    body: Vec<u8>,
}

fn utf8(key: &[u8]) -> &str {
    std::str::from_utf8(key).unwrap()
}

impl MultipartStore {
    /// A store whose minimum part size (every part but the last; S3's is 5 MiB) is `min_part`.
    fn new(min_part: u64) -> Self {
        let mut store = Store::new();
        store.set_min_part_size(min_part);
        Self(std::sync::Mutex::new(store))
    }
    fn s3(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap()
    }
    fn requests(&self, op: &str) -> usize {
        self.s3().requests(op)
    }
    fn total_requests(&self) -> usize {
        self.s3().total_requests()
    }
    fn reset_counts(&self) {
        self.s3().reset_counters();
    }
    fn create_multipart_upload(&self, key: &[u8], headers: &[(String, String)]) -> u64 {
        self.s3().create_multipart_upload(BUCKET, utf8(key), headers).unwrap()
    }
    fn upload_part(
        &self,
        id: u64,
        number: u32,
        content_length: u64,
        body: Vec<u8>,
    ) -> Result<String, &'static str> {
        self.s3().upload_part(id, number, content_length, body).map_err(|e| e.code)
    }
    fn complete(&self, id: u64, parts: &[(u32, String)]) -> Result<(), &'static str> {
        self.s3().complete_multipart_upload(id, parts).map_err(|e| e.code)
    }
    fn put_object(&self, key: &[u8], body: Vec<u8>) {
        let headers = [("content-length".to_owned(), body.len().to_string())];
        self.s3().put(BUCKET, utf8(key), &headers, body).unwrap();
    }
    fn get_object(&self, key: &[u8], range: Option<&str>) -> Result<Stored, &'static str> {
        Ok(self.get_ranged(key, range)?.0)
    }
    /// GetObject, with the response's `Content-Range` (none for a `200`).
    fn get_ranged(&self, key: &[u8], range: Option<&str>) -> Result<(Stored, Option<String>), &'static str> {
        let response = self.s3().get(BUCKET, utf8(key), range).map_err(|e| e.code)?;
        let content_range = response.content_range().map(str::to_owned);
        Ok((Stored { metadata: response.metadata(), body: response.body }, content_range))
    }
    /// HeadObject: the metadata and the stored length.
    fn head_object(&self, key: &[u8]) -> Result<(Metadata, u64), &'static str> {
        let response = self.s3().head(BUCKET, utf8(key)).map_err(|e| e.code)?;
        let len = response.header("content-length").unwrap().parse().unwrap();
        Ok((response.metadata(), len))
    }
    /// What is stored (not a request).
    fn raw(&self, key: &[u8]) -> Option<Stored> {
        let s3 = self.s3();
        let object = s3.object(BUCKET, utf8(key))?;
        let metadata = object.metadata.iter().map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())).collect();
        Some(Stored { metadata, body: object.body.clone() })
    }
    /// Plants an object (not a request).
    fn set_raw(&self, key: &[u8], stored: Stored) {
        let metadata = stored
            .metadata
            .into_iter()
            .map(|(k, v)| (k.strip_prefix("x-amz-meta-").unwrap_or(&k).to_owned(), v))
            .collect();
        self.s3().insert(BUCKET, utf8(key), Object { metadata, body: stored.body });
    }
}

/// A part's plaintext: distinct per part number and version.
fn part_bytes(number: u32, len: usize, version: u8) -> Vec<u8> {
    pattern(len + number as usize).into_iter().skip(number as usize).map(|b| b ^ version).collect()
}

/// A client-side multipart upload through the store: CreateMultipartUpload, the parts sealed on
/// `threads` threads and uploaded in the order the threads reach them (`order` is the order parts
/// are handed out), the companion, then CompleteMultipartUpload. Returns the sealed parts kept.
fn upload(
    store: &MultipartStore,
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    parts: &BTreeMap<u32, Vec<u8>>,
    order: &[u32],
    threads: usize,
    seed: u64,
) -> Result<Vec<SealedPart>, String> {
    let mut rng = TestRng(seed);
    let (client, create) =
        ClientMultipartUpload::create(SealOptions::default(), enc, object, &mut rng).unwrap();
    assert!(create.headers.iter().all(|(k, _)| k.starts_with("x-amz-meta-s3crypt-")));
    let id = store.create_multipart_upload(&create.key, &create.headers);
    let sealed = std::sync::Mutex::new(BTreeMap::new());
    let etags = std::sync::Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for t in 0..threads {
            let (client, sealed, etags) = (&client, &sealed, &etags);
            s.spawn(move || {
                // One generator per thread (a client uses the OS generator on each).
                let mut rng = TestRng(seed.wrapping_mul(31).wrapping_add(t as u64 + 1));
                for &number in order.iter().skip(t).step_by(threads) {
                    let plain = &parts[&number];
                    let plan = client.upload_part(number, plain.len() as u64).unwrap();
                    let mut sealer = client.upload().part_sealer(number, &mut rng).unwrap();
                    let mut body = Vec::new();
                    for piece in plain.chunks(5000) {
                        sealer.update(piece, &mut body).unwrap();
                    }
                    let part = sealer.finish(&mut body).unwrap();
                    assert_eq!(plan.content_length, body.len() as u64, "Content-Length known before sealing");
                    let etag = store.upload_part(id, number, plan.content_length, body).unwrap();
                    sealed.lock().unwrap().insert(number, part);
                    etags.lock().unwrap().insert(number, etag);
                }
            });
        }
    });
    let sealed: Vec<SealedPart> = sealed.into_inner().unwrap().into_values().collect();
    let records: Vec<Part> = sealed.iter().map(|p| *p.part()).collect();
    let done = client.complete(enc, object, &records, None, &mut rng).unwrap();
    let put = done.put_companion();
    assert_eq!(put.key, parts_companion_key(object.key()));
    assert_eq!(put.content_length, put.body.len() as u64);
    store.put_object(&put.key, put.body);
    let etags: Vec<(u32, String)> = etags.into_inner().unwrap().into_iter().rev().collect();
    let etag_refs: Vec<(u32, &str)> = etags.iter().map(|(n, e)| (*n, e.as_str())).collect();
    let complete = done.complete_request(&etag_refs).unwrap();
    store.complete(id, &complete.parts).map_err(str::to_owned)?;
    Ok(sealed)
}

/// A reader with an optional cached companion.
struct Reader<'a> {
    store: &'a MultipartStore,
    enc: &'a dyn Encryptor,
    cache: Option<PartsCompanion>,
}

impl Reader<'_> {
    fn companion(&mut self, object: &ObjectId<'_>) -> Result<PartsCompanion, Error> {
        if let Some(c) = &self.cache {
            return Ok(c.clone());
        }
        let stored = self.store.get_object(&parts_companion_key(object.key()), None).unwrap();
        let companion = PartsCompanion::from_bytes(&stored.body)?;
        self.cache = Some(companion.clone());
        Ok(companion)
    }

    /// GetObject of plaintext `range` (`None`: whole), fed to the opener in `step`-byte pieces.
    fn get(
        &mut self,
        object: &ObjectId<'_>,
        range: Option<ByteRange>,
        step: usize,
    ) -> Result<Vec<u8>, Error> {
        let companion = self.companion(object)?;
        let plan = companion.plan_get(range)?;
        let (response, content_range) = self.store.get_ranged(object.key(), plan.range.as_deref()).unwrap();
        // (A hostile store may answer with another length: the opener, not the client, decides.)
        let mut opener =
            plan.opener(pairs(&response.metadata), content_range.as_deref(), self.enc, object, &companion)?;
        let mut plain = Vec::with_capacity((plan.plaintext.end - plan.plaintext.start) as usize);
        for piece in response.body.chunks(step.max(1)) {
            opener.update(piece, &mut plain)?;
        }
        opener.finish()?;
        assert_eq!(plain.len() as u64, plan.plaintext.end - plan.plaintext.start);
        Ok(plain)
    }

    /// HeadObject: the authenticated plaintext size.
    fn head(&mut self, object: &ObjectId<'_>) -> Result<u64, Error> {
        let companion = self.companion(object)?;
        let (metadata, stored_len) = self.store.head_object(object.key()).unwrap();
        let body = companion.open(pairs(&metadata), self.enc, object)?;
        assert_eq!(body.stored_len(), stored_len);
        Ok(body.plaintext_len())
    }
}

/// Metadata pairs by reference, as a response's headers are read.
fn pairs(metadata: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

fn concat(parts: &BTreeMap<u32, Vec<u8>>) -> Vec<u8> {
    parts.values().flat_map(|p| p.iter().copied()).collect()
}

fn parts_of(sizes: &[usize]) -> BTreeMap<u32, Vec<u8>> {
    sizes.iter().enumerate().map(|(i, &n)| (i as u32 + 1, part_bytes(i as u32 + 1, n, 0))).collect()
}

#[test]
fn parts_sealed_on_several_threads_and_uploaded_out_of_order() {
    let store = MultipartStore::new(0);
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "videos/clip.mp4");
    let parts = parts_of(&[3 * C + 5, 2 * C, C - 1, 7 * C + 100, 1, 4 * C]);
    // Handed out last to first over three threads: arrival order is neither ascending nor fixed.
    let order: Vec<u32> = parts.keys().rev().copied().collect();
    upload(&store, &ring, &object, &parts, &order, 3, 1).unwrap();
    assert_eq!(store.requests("CreateMultipartUpload"), 1);
    assert_eq!(store.requests("UploadPart"), parts.len());
    assert_eq!(store.requests("PutObject"), 1, "the companion");
    assert_eq!(store.requests("CompleteMultipartUpload"), 1);
    assert_eq!(store.total_requests(), parts.len() + 3);

    // The object's metadata is still the upload state; the companion holds the rest.
    let stored = store.raw(object.key()).unwrap();
    assert!(Envelope::from_metadata(pairs(&stored.metadata)).unwrap().is_upload_state());

    let expected = concat(&parts);
    store.reset_counts();
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    for step in [1, 4099, usize::MAX] {
        assert_eq!(reader.get(&object, None, step).unwrap(), expected);
    }
    // Cold: the companion and the object; then one request per read.
    assert_eq!(store.total_requests(), 2 + 2);
    store.reset_counts();
    assert_eq!(reader.head(&object).unwrap(), expected.len() as u64);
    assert_eq!(store.total_requests(), 1, "a warm HEAD is one request");
    let mut cold = Reader { store: &store, enc: &ring, cache: None };
    store.reset_counts();
    assert_eq!(cold.head(&object).unwrap(), expected.len() as u64);
    assert_eq!((store.requests("HeadObject"), store.requests("GetObject")), (1, 1), "a cold HEAD");
}

#[test]
fn a_reuploaded_part_reads_as_its_last_upload_with_fresh_salts() {
    let store = MultipartStore::new(0);
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "reuploaded");
    let mut rng = TestRng(5);
    let (client, create) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let id = store.create_multipart_upload(&create.key, &create.headers);
    let seal = |number: u32, plain: &[u8], rng: &mut TestRng| {
        let mut sealer = client.upload().part_sealer(number, rng).unwrap();
        let mut body = Vec::new();
        sealer.update(plain, &mut body).unwrap();
        let part = sealer.finish(&mut body).unwrap();
        let etag = store.upload_part(id, number, body.len() as u64, body.clone()).unwrap();
        (part, body, etag)
    };
    let one = part_bytes(1, 2 * C + 3, 0);
    let first = seal(1, &one, &mut rng);
    let (a, b) = (part_bytes(2, C + 7, 1), part_bytes(2, C + 7, 2));
    let v1 = seal(2, &a, &mut rng);
    let v2 = seal(2, &b, &mut rng); // different bytes
    let v3 = seal(2, &b, &mut rng); // the same bytes again: this one is kept
    let salts = [&v1.1[..24], &v2.1[..24], &v3.1[..24]];
    assert!(salts[0] != salts[1] && salts[1] != salts[2] && salts[0] != salts[2], "a fresh salt per upload");
    assert_ne!(v2.1, v3.1, "the same plaintext seals to other bytes");
    assert_ne!(v2.2, v3.2, "so S3's ETag differs too");

    let done = client.complete(&ring, &object, &[*first.0.part(), *v3.0.part()], None, &mut rng).unwrap();
    let put = done.put_companion();
    store.put_object(&put.key, put.body);
    let plan = done.complete_request(&[(2, &v3.2), (1, &first.2)]).unwrap();
    assert_eq!(plan.parts, vec![(1, first.2.clone()), (2, v3.2.clone())]);
    // S3 keeps the last upload of part 2, which the ETag names.
    store.complete(id, &plan.parts).unwrap();
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    let expected = [&one[..], &b[..]].concat();
    assert_eq!(reader.get(&object, None, 1000).unwrap(), expected);

    // An older upload of part 2 spliced into the stored body (a valid stream of this upload and
    // part number, the same length): whole and ranged reads fail.
    for older in [&v1.1, &v2.1] {
        let mut body = first.1.clone();
        body.extend_from_slice(older);
        let good = store.raw(object.key()).unwrap();
        store.set_raw(object.key(), Stored { metadata: good.metadata.clone(), body });
        assert_eq!(reader.get(&object, None, 777), Err(Error::Authentication));
        let across = ByteRange::FromTo(2 * C as u64, 2 * C as u64 + 10);
        assert_eq!(reader.get(&object, Some(across), 777), Err(Error::Authentication));
        let inside = ByteRange::Suffix(5);
        assert_eq!(reader.get(&object, Some(inside), 777), Err(Error::Authentication));
        store.set_raw(object.key(), good);
    }
    assert_eq!(reader.get(&object, None, 1000).unwrap(), expected);
}

#[test]
fn sizes_from_one_empty_part_to_many_chunks() {
    let ring = keyring();
    let layouts: [&[usize]; 9] =
        [&[0], &[1], &[C - 1], &[C], &[C + 1], &[9 * C + 3], &[C, 0], &[2 * C, C, 0], &[1, 1, 1, 1]];
    for (i, sizes) in layouts.iter().enumerate() {
        let store = MultipartStore::new(0);
        let object = ObjectId::new(BUCKET, "sizes");
        let parts = parts_of(sizes);
        let order: Vec<u32> = parts.keys().copied().collect();
        upload(&store, &ring, &object, &parts, &order, 2, i as u64 + 10).unwrap();
        let expected = concat(&parts);
        let mut reader = Reader { store: &store, enc: &ring, cache: None };
        assert_eq!(reader.get(&object, None, 3000).unwrap(), expected, "{sizes:?}");
        assert_eq!(reader.head(&object).unwrap(), expected.len() as u64);
        if expected.is_empty() {
            // Nothing to range over: S3's 416.
            assert_eq!(reader.get(&object, Some(ByteRange::From(0)), 10), Err(Error::InvalidRange));
        } else {
            let last = expected.len() as u64 - 1;
            for range in [ByteRange::From(0), ByteRange::Suffix(1), ByteRange::FromTo(last, last + 100)] {
                let r = range.resolve(expected.len() as u64).unwrap();
                let got = reader.get(&object, Some(range), 999).unwrap();
                assert_eq!(got, expected[r.start as usize..r.end as usize], "{sizes:?} {range:?}");
            }
        }
    }
}

#[test]
fn s3_minimum_part_size_applies_to_the_sealed_parts() {
    // S3 refuses every part but the last below 5 MiB; the rule applies to what it stores, the
    // sealed part (plaintext + 56 + 16 per chunk). An empty last part is a 72-byte S3 part, which
    // S3 accepts as the last one.
    const MIB5: u64 = 5 << 20;
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "five-mib");
    let cs = ChunkSize::C2SP;
    let mut smallest = MIB5 - 56 - 16 * (MIB5 / (C as u64 + 16) + 1);
    while cs.ciphertext_len(smallest).unwrap() < MIB5 {
        smallest += 1;
    }
    assert!(cs.ciphertext_len(smallest - 1).unwrap() < MIB5);
    let store = MultipartStore::new(MIB5);
    let parts: BTreeMap<u32, Vec<u8>> =
        [(1, part_bytes(1, smallest as usize, 0)), (2, Vec::new())].into_iter().collect();
    upload(&store, &ring, &object, &parts, &[2, 1], 2, 3).unwrap();
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    assert_eq!(
        reader.get(&object, Some(ByteRange::Suffix(3)), 4096).unwrap(),
        parts[&1][parts[&1].len() - 3..]
    );

    // One byte less in the first part, or an empty part that is not the last: S3 refuses.
    let short: BTreeMap<u32, Vec<u8>> =
        [(1, part_bytes(1, smallest as usize - 1, 0)), (2, vec![1])].into_iter().collect();
    assert_eq!(upload(&store, &ring, &object, &short, &[1, 2], 1, 4).unwrap_err(), "EntityTooSmall");
    let empty_first: BTreeMap<u32, Vec<u8>> = [(1, Vec::new()), (2, vec![1])].into_iter().collect();
    assert_eq!(upload(&store, &ring, &object, &empty_first, &[1, 2], 1, 5).unwrap_err(), "EntityTooSmall");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Ranges across part boundaries, against the plaintext; a cold ranged GET is two requests
    /// (the companion, then the range), a warm one is one.
    #[test]
    fn ranges_across_part_boundaries(
        sizes in prop::collection::vec(
            prop_oneof![Just(0usize), 1usize..40, (C - 2)..(C + 2), 1usize..(3 * C)],
            1..6,
        ),
        a in any::<u64>(),
        b in any::<u64>(),
        seed in 1u64..u64::MAX,
    ) {
        // An empty object has no range to read: rejected before anything is uploaded.
        prop_assume!(sizes.iter().any(|&n| n > 0));
        let ring = keyring();
        let store = MultipartStore::new(0);
        let object = ObjectId::new(BUCKET, "ranges");
        let parts = parts_of(&sizes);
        let order: Vec<u32> = parts.keys().rev().copied().collect();
        upload(&store, &ring, &object, &parts, &order, 2, seed).unwrap();
        let expected = concat(&parts);
        let len = expected.len() as u64;
        let (first, last) = ((a % len).min(b % len), (a % len).max(b % len));
        store.reset_counts();
        let mut reader = Reader { store: &store, enc: &ring, cache: None };
        let step = (seed % 5000) as usize + 1;
        let got = reader.get(&object, Some(ByteRange::FromTo(first, last)), step).unwrap();
        prop_assert_eq!(&got[..], &expected[first as usize..=last as usize]);
        prop_assert_eq!(store.total_requests(), 2);
        let got = reader.get(&object, Some(ByteRange::FromTo(first, last)), 4096).unwrap();
        prop_assert_eq!(&got[..], &expected[first as usize..=last as usize]);
        prop_assert_eq!(store.total_requests(), 3, "warm: one request");
    }
}

/// An uploaded three-part object for the hostile cases.
fn hostile_fixture(
    store: &MultipartStore,
    ring: &ClientKeyring,
    object: &ObjectId<'_>,
    seed: u64,
) -> Vec<SealedPart> {
    let parts = parts_of(&[2 * C + 1, C, 500]);
    upload(store, ring, object, &parts, &[3, 1, 2], 2, seed).unwrap()
}

/// The response's `Content-Range` must answer the plan, with the stored length the authenticated
/// table gives; a store that answers another window, or no window for a range, is refused before a
/// byte is fed.
#[test]
fn content_ranges_that_do_not_answer_the_plan_are_refused() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "content-range");
    hostile_fixture(&store, &ring, &object, 60);
    let expected = store.raw(object.key()).unwrap();
    let companion =
        PartsCompanion::from_bytes(&store.get_object(&parts_companion_key(object.key()), None).unwrap().body)
            .unwrap();
    let total = companion.table().stored_len();
    let plan = companion.plan_get(Some(ByteRange::FromTo(2 * C as u64 - 10, 2 * C as u64 + 10))).unwrap();
    let (response, content_range) = store.get_ranged(object.key(), plan.range.as_deref()).unwrap();
    let honest = content_range.unwrap();
    let open = |value: Option<&str>| {
        plan.opener(pairs(&response.metadata), value, &ring, &object, &companion).map(|_| ())
    };
    assert_eq!(open(Some(&honest)), Ok(()));
    let (s, e) = (plan.stored.start, plan.stored.end - 1);
    let refused = [
        (None, Error::ClientSide(ClientSideError::ContentRange)),
        (Some(format!("bytes {}-{}/{total}", s + 1, e)), Error::ClientSide(ClientSideError::ContentRange)),
        (Some(format!("bytes {s}-{}/{total}", e + 1)), Error::ClientSide(ClientSideError::ContentRange)),
        (Some(format!("bytes {s}-{e}")), Error::ClientSide(ClientSideError::ContentRange)),
        (Some(format!("bytes {s}-{e}/{}", total - 1)), Error::Truncated),
        (Some(format!("bytes {s}-{e}/{}", total + 1)), Error::TrailingData),
    ];
    for (value, error) in refused {
        assert_eq!(open(value.as_deref()), Err(error), "{value:?}");
    }
    // The whole object: a 200 (no Content-Range), or a 206 that covers all of it.
    let whole = companion.plan_get(None).unwrap();
    let open_whole = |value: Option<&str>| {
        whole.opener(pairs(&expected.metadata), value, &ring, &object, &companion).map(|_| ())
    };
    assert_eq!(open_whole(None), Ok(()));
    assert_eq!(open_whole(Some(&format!("bytes 0-{}/{total}", total - 1))), Ok(()));
    assert_eq!(
        open_whole(Some(&format!("bytes 1-{}/{total}", total - 1))),
        Err(Error::ClientSide(ClientSideError::ContentRange))
    );
}

#[test]
fn hostile_bodies_drop_reorder_duplicate_truncate_extend() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "hostile");
    let sealed = hostile_fixture(&store, &ring, &object, 40);
    let good = store.raw(object.key()).unwrap();
    let lens: Vec<usize> = sealed.iter().map(|p| p.part().stored_len() as usize).collect();
    let part = |i: usize| {
        let start: usize = lens[..i].iter().sum();
        good.body[start..start + lens[i]].to_vec()
    };
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    let mut with_body = |body: Vec<u8>| {
        store.set_raw(object.key(), Stored { metadata: good.metadata.clone(), body });
        let r = reader.get(&object, None, 1024);
        store.set_raw(object.key(), good.clone());
        r
    };
    let bodies = [
        ([part(1), part(2)].concat(), "first dropped"),
        ([part(0), part(2)].concat(), "middle dropped"),
        ([part(0), part(1)].concat(), "last dropped"),
        ([part(1), part(0), part(2)].concat(), "reordered"),
        ([part(0), part(0), part(1), part(2)].concat(), "duplicated"),
        ([part(0), part(1), part(1)].concat(), "one duplicated over another"),
    ];
    for (body, what) in bodies {
        let r = with_body(body);
        assert!(
            matches!(r, Err(Error::Authentication | Error::Truncated | Error::TrailingData)),
            "{what}: {r:?}"
        );
    }
    let mut truncated = good.body.clone();
    truncated.pop();
    assert_eq!(with_body(truncated), Err(Error::Truncated));
    let mut extended = good.body.clone();
    extended.push(0);
    assert_eq!(with_body(extended), Err(Error::TrailingData));
    // A part truncated or extended inside the body (its neighbours intact).
    let cut = [part(0)[..lens[0] - 1].to_vec(), part(1), part(2)].concat();
    assert!(with_body(cut).is_err());
    let longer = [part(0), vec![0; 16], part(1), part(2)].concat();
    assert!(with_body(longer).is_err());
    for at in [0, 40, HEADER_LEN + 5, lens[0] + 3, good.body.len() - 1] {
        let mut flipped = good.body.clone();
        flipped[at] ^= 0x80;
        assert_eq!(with_body(flipped), Err(Error::Authentication), "bit at {at}");
    }
    assert_eq!(reader.get(&object, None, 1024).unwrap().len(), 3 * C + 501);
}

#[test]
fn hostile_companions_stale_foreign_tampered() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "doc.bin");
    let other = ObjectId::new(BUCKET, "other.bin");
    hostile_fixture(&store, &ring, &object, 50);
    hostile_fixture(&store, &ring, &other, 51);
    let companion_key = parts_companion_key(object.key());
    let first_companion = store.raw(&companion_key).unwrap();
    let first_object = store.raw(object.key()).unwrap();

    // The object overwritten by a new upload: the earlier companion is stale ...
    hostile_fixture(&store, &ring, &object, 52);
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    assert!(reader.get(&object, None, 999).is_ok());
    let stale = PartsCompanion::from_bytes(&first_companion.body).unwrap();
    let mut cached = Reader { store: &store, enc: &ring, cache: Some(stale.clone()) };
    assert_eq!(cached.get(&object, None, 999), Err(Error::StaleCompanion));
    assert_eq!(cached.head(&object), Err(Error::StaleCompanion));
    // ... and with the new companion, the old object is: both fail closed, before any key is used.
    store.set_raw(object.key(), first_object.clone());
    assert_eq!(reader.get(&object, None, 999), Err(Error::StaleCompanion));

    // The stale companion relabelled with the current upload's id (the state's public salt): same
    // key, same object, but another data key.
    hostile_fixture(&store, &ring, &object, 53);
    let now = store.raw(object.key()).unwrap();
    let relabel = |bytes: &[u8]| -> Vec<u8> {
        let mut out = bytes.to_vec();
        out[5..37].copy_from_slice(&state_salt(&now));
        out
    };
    let forged = relabel(&first_companion.body);
    let mut forged_reader =
        Reader { store: &store, enc: &ring, cache: Some(PartsCompanion::from_bytes(&forged).unwrap()) };
    assert_eq!(forged_reader.get(&object, None, 999), Err(Error::Authentication));

    // Another object's companion: stale by its id; relabelled, its envelope names another object.
    let foreign = store.raw(&parts_companion_key(other.key())).unwrap().body;
    let mut foreign_reader =
        Reader { store: &store, enc: &ring, cache: Some(PartsCompanion::from_bytes(&foreign).unwrap()) };
    assert_eq!(foreign_reader.get(&object, None, 999), Err(Error::StaleCompanion));
    let foreign = relabel(&foreign);
    let mut foreign_reader =
        Reader { store: &store, enc: &ring, cache: Some(PartsCompanion::from_bytes(&foreign).unwrap()) };
    assert_eq!(foreign_reader.get(&object, None, 999), Err(Error::Authentication));

    // A tampered table: any entry's bit, re-encoded or not.
    let good = store.raw(&companion_key).unwrap().body;
    let table_at = good.len() - (10 + 68 * 3);
    for at in [table_at + 9, table_at + 10 + 3, table_at + 10 + 11, table_at + 10 + 20, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        match PartsCompanion::from_bytes(&bad) {
            Ok(c) => {
                let mut r = Reader { store: &store, enc: &ring, cache: Some(c) };
                assert_eq!(r.get(&object, None, 999), Err(Error::Authentication), "table bit {at}");
            }
            Err(e) => {
                assert!(matches!(e, Error::InvalidPart | Error::InvalidPartOrder | Error::TooLong), "{e:?}")
            }
        }
    }
    // A table with a part dropped (a valid encoding), under the untouched envelope.
    let companion = PartsCompanion::from_bytes(&good).unwrap();
    let two: Vec<Part> = companion.table().parts().take(2).collect();
    let dropped = PartTable::new(ChunkSize::C2SP, &two).unwrap().to_bytes();
    let forged = [&good[..table_at], &dropped[..]].concat();
    let mut r =
        Reader { store: &store, enc: &ring, cache: Some(PartsCompanion::from_bytes(&forged).unwrap()) };
    assert_eq!(r.get(&object, None, 999), Err(Error::Authentication));
    // Any bit of the companion's envelope.
    for at in [37, 45, 60, 100, table_at - 1] {
        let mut bad = good.clone();
        bad[at] ^= 4;
        if let Ok(c) = PartsCompanion::from_bytes(&bad) {
            let mut r = Reader { store: &store, enc: &ring, cache: Some(c) };
            assert!(r.get(&object, None, 999).is_err(), "envelope bit {at}");
        }
    }
    let mut fresh = Reader { store: &store, enc: &ring, cache: None };
    assert!(fresh.get(&object, None, 999).is_ok());
}

/// Standard base64 decoding for the test's relabelling (no dependency needed for 44 characters).
fn base64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        bits = (bits << 6) | A.iter().position(|&a| a == c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// The upload id a companion names: the state's salt (envelope field 8).
fn state_salt(object: &Stored) -> Vec<u8> {
    base64_decode(&object.metadata.iter().find(|(k, _)| k.ends_with("s3crypt-salt")).unwrap().1)
}

#[test]
fn wrong_key_and_moved_object() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "here");
    hostile_fixture(&store, &ring, &object, 60);
    // Same key name and version, other secret: the key check says so.
    let wrong = ClientKeyring::new("client-1", 1, RootKey::from_bytes([0x32; 32]), description()).unwrap();
    let mut reader = Reader { store: &store, enc: &wrong, cache: None };
    assert_eq!(reader.get(&object, None, 999), Err(Error::WrongKey));
    assert_eq!(reader.head(&object), Err(Error::WrongKey));
    // A key the reader does not hold.
    let unknown = ClientKeyring::new("client-2", 1, RootKey::from_bytes([0x31; 32]), description()).unwrap();
    let mut reader = Reader { store: &store, enc: &unknown, cache: None };
    assert!(matches!(reader.get(&object, None, 999), Err(Error::UnknownKey { .. })));

    // The object and its companion copied to another name (or bucket): both envelopes name the
    // original object.
    for there in [ObjectId::new(BUCKET, "there"), ObjectId::new("other-bucket", "here")] {
        let moved = MultipartStore::new(0);
        moved.set_raw(there.key(), store.raw(object.key()).unwrap());
        moved.set_raw(
            &parts_companion_key(there.key()),
            store.raw(&parts_companion_key(object.key())).unwrap(),
        );
        let mut reader = Reader { store: &moved, enc: &ring, cache: None };
        assert_eq!(reader.get(&there, None, 999), Err(Error::Authentication));
        assert_eq!(reader.head(&there), Err(Error::Authentication));
    }
}

#[test]
fn the_companion_is_sealed_under_the_states_key_even_after_rotation() {
    let mut ring = keyring();
    let object = ObjectId::new(BUCKET, "rotated");
    let mut rng = TestRng(70);
    let (client, _) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let mut sealer = client.upload().part_sealer(1, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(b"rotation", &mut body).unwrap();
    let part = sealer.finish(&mut body).unwrap();
    ring.add("client-1", 2, RootKey::from_bytes([0x33; 32]), description()).unwrap();
    ring.activate("client-1", 2).unwrap();
    let done = client.complete(&ring, &object, &[*part.part()], None, &mut rng).unwrap();
    assert_eq!(done.companion().envelope().key_version(), 1, "the state's key, not the active one");
    let parts = client.state().open_client_multipart(&ring, &object, done.companion()).unwrap();
    let mut plain = Vec::new();
    let mut opener = parts.opener();
    opener.update(&body, &mut plain).unwrap();
    opener.finish().unwrap();
    assert_eq!(plain, b"rotation");
}

#[test]
fn a_kms_wrapped_object_reads_with_one_decrypt() {
    let mut local = LocalKms::new(TestRng(99));
    local.create_key("alias/client", RootKey::from_bytes([0x77; 32])).unwrap();
    let kms = CountingKms::new(&local);
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "kms.bin");
    let mut context = EncryptionContext::new();
    context.insert("tenant", "t-1").unwrap();
    let key = ClientKms::new("alias/client", context.clone()).unwrap().generate_key(&kms).unwrap();
    let parts = parts_of(&[C + 9, 33]);
    upload(&store, &key, &object, &parts, &[2, 1], 2, 80).unwrap();
    // The reader resolves the key the object's metadata names — once — and the companion's
    // envelope names the same blob, so it opens with it too.
    let (metadata, _) = store.head_object(object.key()).unwrap();
    let state = Envelope::from_metadata(pairs(&metadata)).unwrap();
    let settings = ClientKms::new("alias/client", context.clone()).unwrap();
    let read_key = ClientKmsKey::for_envelope(&kms, &state, &settings).unwrap();
    let mut reader = Reader { store: &store, enc: &read_key, cache: None };
    assert_eq!(reader.get(&object, None, 500).unwrap(), concat(&parts));
    assert_eq!(
        reader.get(&object, Some(ByteRange::FromTo(C as u64 - 3, C as u64 + 20)), 500).unwrap().len(),
        24
    );
    assert_eq!(kms.decrypt.get(), 1);
    // A companion naming another blob (another GenerateDataKey: another upload of the object,
    // relabelled with this upload's id) is refused before any key is used: the reader never has
    // to ask the KMS about a blob only the companion names.
    let other_key = ClientKms::new("alias/client", context.clone()).unwrap().generate_key(&kms).unwrap();
    let elsewhere = MultipartStore::new(0);
    upload(&elsewhere, &other_key, &object, &parts, &[1, 2], 1, 82).unwrap();
    let mut forged = elsewhere.raw(&parts_companion_key(object.key())).unwrap().body;
    forged[5..37].copy_from_slice(&state_salt(&store.raw(object.key()).unwrap()));
    let mut reader =
        Reader { store: &store, enc: &read_key, cache: Some(PartsCompanion::from_bytes(&forged).unwrap()) };
    assert_eq!(reader.get(&object, None, 500), Err(Error::Authentication));
    assert_eq!(kms.decrypt.get(), 1);
}

#[test]
fn completion_plans() {
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "plans");
    let mut rng = TestRng(90);
    let (client, create) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    assert_eq!(create.key, b"plans");
    let state = Envelope::from_metadata(pairs(&create.headers)).unwrap();
    assert_eq!(&state, client.state());
    // Content-Length before sealing, at the boundaries.
    for (len, stored) in
        [(0, 72), (1, 73), (C as u64, 56 + C as u64 + 32), (C as u64 + 1, 56 + C as u64 + 33)]
    {
        assert_eq!(client.upload_part(7, len).unwrap().content_length, stored);
    }
    assert_eq!(client.upload_part(0, 1).unwrap_err(), Error::InvalidPart);
    assert_eq!(client.upload_part(10_001, 1).unwrap_err(), Error::InvalidPart);
    let mut records = Vec::new();
    for n in [2, 5] {
        let mut sealer = client.upload().part_sealer(n, &mut rng).unwrap();
        let mut body = Vec::new();
        sealer.update(b"x", &mut body).unwrap();
        records.push(*sealer.finish(&mut body).unwrap().part());
    }
    let done = client.complete(&ring, &object, &records, None, &mut rng).unwrap();
    let plan = done.complete_request(&[(5, "\"e5\""), (2, "\"e<2>\"")]).unwrap();
    assert_eq!(plan.parts, vec![(2, "\"e<2>\"".to_owned()), (5, "\"e5\"".to_owned())]);
    assert_eq!(
        plan.to_xml(),
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Part><PartNumber>2</PartNumber><ETag>&quot;e&lt;2&gt;&quot;</ETag></Part>\
         <Part><PartNumber>5</PartNumber><ETag>&quot;e5&quot;</ETag></Part></CompleteMultipartUpload>"
    );
    for bad in [
        &[(2, "a")][..],
        &[(2, "a"), (5, "b"), (6, "c")],
        &[(2, "a"), (2, "b")],
        &[(2, "a"), (3, "b")],
        // No genuine ETag holds a control character, and XML 1.0 cannot carry most of them (nor
        // U+FFFE/U+FFFF), or keep CR/LF through its line-end normalization: S3 would answer 400.
        &[(2, "\"e2\"\r\n"), (5, "\"e5\"")],
        &[(2, "\"e2\""), (5, "\"e\u{0}5\"")],
        &[(2, "\"e2\u{ffff}\""), (5, "\"e5\"")],
        &[(2, "\"e2\""), (5, "\"e5\u{fffe}\"")],
    ] {
        assert_eq!(done.complete_request(bad).unwrap_err(), Error::InvalidPart, "{bad:?}");
    }
    // Keys that would collide with a companion are refused.
    for suffix in [PARTS_COMPANION_SUFFIX, s3crypt::CLIENT_INSTRUCTION_SUFFIX] {
        let reserved = format!("video{suffix}");
        let bad = ObjectId::new(BUCKET, &reserved);
        assert_eq!(
            ClientMultipartUpload::create(SealOptions::default(), &ring, &bad, &mut rng).unwrap_err(),
            Error::ReservedKey
        );
    }
    assert_eq!(parts_companion_key(b"a/b"), b"a/b.s3crypt-parts");
    // The plans are a client's: a server-side mode's key is refused, and so is a server-side
    // upload state at the object layer.
    let sse_s3 = Keyring::new("root-1", 1, RootKey::from_bytes([0x31; 32])).unwrap();
    let (upload, state) =
        s3crypt::Upload::create(SealOptions::default(), &sse_s3, &object, &mut rng).unwrap();
    let mut sealer = upload.part_sealer(1, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(b"x", &mut body).unwrap();
    let part = *sealer.finish(&mut body).unwrap().part();
    let mismatch = Error::SchemeMismatch { envelope: Scheme::SseS3, presented: Scheme::ClientSide };
    assert_eq!(
        state.complete_client_upload(&sse_s3, &object, &[part], None, &mut rng).unwrap_err(),
        mismatch
    );
    let server_side = state.complete_upload(&sse_s3, &object, &[part], &mut rng).unwrap();
    let env = server_side.envelope.to_binary();
    let table = server_side.table.to_bytes();
    let bytes = [&b"S3CM\x01"[..], &[0; 32], &(env.len() as u16).to_be_bytes(), &env, &table].concat();
    let forged = PartsCompanion::from_bytes(&bytes).unwrap();
    assert_eq!(state.open_client_multipart(&sse_s3, &object, &forged).unwrap_err(), mismatch);
    assert_eq!(
        ClientMultipartUpload::create(SealOptions::default(), &sse_s3, &object, &mut rng).unwrap_err(),
        Error::SchemeMismatch { envelope: Scheme::ClientSide, presented: Scheme::SseS3 }
    );
}

#[test]
fn companion_encoding_is_strict() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "strict");
    hostile_fixture(&store, &ring, &object, 100);
    let good = store.raw(&parts_companion_key(object.key())).unwrap().body;
    let companion = PartsCompanion::from_bytes(&good).unwrap();
    assert_eq!(companion.to_bytes(), good, "canonical");
    assert_eq!(&good[..5], b"S3CM\x01");
    let env_len = u16::from_be_bytes([good[37], good[38]]) as usize;
    assert_eq!(&good[39..43], b"S3CE");
    assert_eq!(good.len(), 39 + env_len + 10 + 68 * 3);
    let format = |e: FormatError| Err::<PartsCompanion, Error>(Error::Format(e));
    assert_eq!(PartsCompanion::from_bytes(&good[..38]), format(FormatError::Truncated));
    assert_eq!(PartsCompanion::from_bytes(&[]), format(FormatError::Truncated));
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(PartsCompanion::from_bytes(&bad), format(FormatError::BadMagic));
    let mut bad = good.clone();
    bad[4] = 2;
    assert_eq!(PartsCompanion::from_bytes(&bad), format(FormatError::UnsupportedVersion("2".into())));
    // The envelope length past the end, or over 4096.
    let mut bad = good.clone();
    bad[37..39].copy_from_slice(&(good.len() as u16).to_be_bytes());
    assert_eq!(PartsCompanion::from_bytes(&bad), format(FormatError::Truncated));
    let mut bad = good.clone();
    bad[37..39].copy_from_slice(&4097u16.to_be_bytes());
    assert_eq!(PartsCompanion::from_bytes(&bad), format(FormatError::TooLarge));
    // Trailing bytes, a short table.
    assert_eq!(PartsCompanion::from_bytes(&[&good[..], &[0]].concat()), Err(Error::InvalidPart));
    assert_eq!(PartsCompanion::from_bytes(&good[..good.len() - 1]), Err(Error::InvalidPart));
    // An upload state, or a single-part object's envelope, in the envelope's place.
    let state =
        Envelope::from_metadata(pairs(&store.raw(object.key()).unwrap().metadata)).unwrap().to_binary();
    let swapped =
        [&good[..37], &(state.len() as u16).to_be_bytes()[..], &state, &good[39 + env_len..]].concat();
    assert_eq!(PartsCompanion::from_bytes(&swapped), Err(Error::EnvelopeKind));
    // Too large before anything is parsed.
    let huge = vec![0u8; 4096 + 39 + 10 + 68 * 10_000 + 1];
    assert_eq!(PartsCompanion::from_bytes(&huge), format(FormatError::TooLarge));
    // The object's metadata must be an upload state.
    let completed = companion.envelope().clone();
    assert_eq!(completed.open_client_multipart(&ring, &object, &companion).unwrap_err(), Error::EnvelopeKind);
}

#[test]
fn a_lost_companion_is_rebuilt_by_a_key_holder_from_the_stored_parts() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "rebuilt");
    let sealed = hostile_fixture(&store, &ring, &object, 110);
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    let expected = reader.get(&object, None, 4096).unwrap();
    // The companion is gone (or overwritten by an aborted upload); the object is intact. A key
    // holder rebuilds it from the object's metadata and each part's number, first 56 bytes and
    // stored length (S3: HeadObject with partNumber, then a 56-byte ranged GET per part).
    let stored = store.raw(object.key()).unwrap();
    let mut at = 0usize;
    let mut parts = Vec::new();
    for part in &sealed {
        let len = part.part().stored_len() as usize;
        parts.push(Part::new(part.part().number(), &stored.body[at..at + HEADER_LEN], len as u64).unwrap());
        at += len;
    }
    let state = Envelope::from_metadata(pairs(&stored.metadata)).unwrap();
    let companion = state.complete_client_upload(&ring, &object, &parts, None, &mut TestRng(111)).unwrap();
    store.put_object(&parts_companion_key(object.key()), companion.to_bytes());
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    assert_eq!(reader.get(&object, None, 4096).unwrap(), expected);
    // Without the key, or for a part list that is not this upload's, nothing is sealed.
    let wrong = ClientKeyring::new("client-1", 1, RootKey::from_bytes([0x32; 32]), description()).unwrap();
    assert_eq!(
        state.complete_client_upload(&wrong, &object, &parts, None, &mut TestRng(112)).unwrap_err(),
        Error::WrongKey
    );
    let mut forged = parts.clone();
    forged[1] = Part::new(2, &[7; HEADER_LEN], forged[1].stored_len()).unwrap();
    assert_eq!(
        state.complete_client_upload(&ring, &object, &forged, None, &mut TestRng(113)).unwrap_err(),
        Error::Authentication
    );
}

/// Parts held in memory, each sealed on rayon's pool (`Upload::seal_part_parallel`), read back.
#[cfg(feature = "parallel")]
#[test]
fn parts_sealed_on_the_thread_pool() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "pool");
    let parts = parts_of(&[40 * C + 3, 0, 17 * C]);
    let mut rng = TestRng(120);
    let (client, create) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let id = store.create_multipart_upload(&create.key, &create.headers);
    let mut records = Vec::new();
    let mut etags = Vec::new();
    for (&number, plain) in parts.iter().rev() {
        let plan = client.upload_part(number, plain.len() as u64).unwrap();
        let (part, body) = client.upload().seal_part_parallel(number, plain, &mut rng).unwrap();
        assert_eq!(plan.content_length, body.len() as u64);
        etags.push((number, store.upload_part(id, number, plan.content_length, body).unwrap()));
        records.push(*part.part());
    }
    records.reverse();
    let done = client.complete(&ring, &object, &records, None, &mut rng).unwrap();
    let put = done.put_companion();
    store.put_object(&put.key, put.body);
    let etag_refs: Vec<(u32, &str)> = etags.iter().map(|(n, e)| (*n, e.as_str())).collect();
    store.complete(id, &done.complete_request(&etag_refs).unwrap().parts).unwrap();
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    assert_eq!(reader.get(&object, None, 1 << 20).unwrap(), concat(&parts));
}

/// A multipart object over S3's 5 GiB CopyObject limit, copied and re-keyed in place by parts:
/// UploadPartCopy ranges whose boundaries need not be the upload's (the companion's table, not S3's
/// part layout, describes the body), the companion PUT before the completion, nothing downloaded.
#[test]
fn copy_and_rekey_by_parts() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "big/movie.bin");
    let parts = parts_of(&[4 << 20, 4 << 20, 3 << 20]);
    upload(&store, &ring, &object, &parts, &[2, 3, 1], 2, 140).unwrap();
    let expected = concat(&parts);
    let body_before = store.raw(object.key()).unwrap().body;
    let by_parts = |from: (&dyn Encryptor, &ObjectId<'_>), to: (&dyn Encryptor, &ObjectId<'_>), seed: u64| {
        let state = Envelope::from_metadata(pairs(&store.raw(from.1.key()).unwrap().metadata)).unwrap();
        let companion =
            PartsCompanion::from_bytes(&store.raw(&parts_companion_key(from.1.key())).unwrap().body).unwrap();
        let etag = store.s3().head(BUCKET, utf8(from.1.key())).unwrap().header("etag").unwrap().to_owned();
        let copy = MultipartCopyPlan::new(&state, &companion, from, to, &mut TestRng(seed))
            .unwrap()
            .with_source_etag(&etag)
            .unwrap();
        let plan = copy.by_parts(S3_MIN_PART_SIZE).unwrap();
        assert!(plan.parts().all(|p| p.source_etag.as_deref() == Some(etag.as_str())));
        assert_eq!(plan.part_count(), 3, "5 MiB copy parts over 4 MiB upload parts");
        store.reset_counts();
        let id = store.create_multipart_upload(to.1.key(), &plan.create().headers);
        let etags: Vec<(u32, String)> = plan
            .parts()
            .map(|part| {
                let etag = store.s3().upload_part_copy(id, part.part_number, &part.headers()).unwrap();
                (part.part_number, etag)
            })
            .collect();
        let put = copy.put_companion();
        store.put_object(&put.key, put.body.clone());
        let named: Vec<(u32, &str)> = etags.iter().map(|(n, e)| (*n, e.as_str())).collect();
        store.complete(id, &plan.complete_request(&named).unwrap().parts).unwrap();
        assert_eq!(
            (store.requests("GetObject"), store.requests("UploadPart"), store.requests("UploadPartCopy")),
            (0, 0, 3),
            "pinned to the source's ETag, copied without a download"
        );
    };
    let read = |enc: &dyn Encryptor, object: &ObjectId<'_>| {
        let mut reader = Reader { store: &store, enc, cache: None };
        let range = reader.get(object, Some(ByteRange::FromTo((5 << 20) - 9, (5 << 20) + 9)), 4096)?;
        assert_eq!(range, expected[(5 << 20) - 9..(5 << 20) + 10]);
        reader.get(object, None, 1 << 20)
    };

    let dest = ObjectId::new(BUCKET, "big/copy.bin");
    by_parts((&ring, &object), (&ring, &dest), 141);
    assert_eq!(read(&ring, &dest).unwrap(), expected);
    assert_eq!(store.raw(dest.key()).unwrap().body, body_before);

    // Re-key in place, by parts: the new key reads it, the old one no longer does.
    let new = ClientKeyring::new("client-2", 1, RootKey::from_bytes([0x36; 32]), description()).unwrap();
    by_parts((&ring, &object), (&new, &object), 142);
    assert_eq!(read(&new, &object).unwrap(), expected);
    assert!(read(&ring, &object).is_err());
    assert_eq!(store.raw(object.key()).unwrap().body, body_before, "the body never changed");
}

#[test]
fn copy_rename_and_rekey_without_downloading() {
    let mut ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "src/movie.bin");
    let parts = parts_of(&[3 * C + 1, C, 77]);
    upload(&store, &ring, &object, &parts, &[3, 2, 1], 2, 130).unwrap();
    let expected = concat(&parts);
    let read = |enc: &dyn Encryptor, object: &ObjectId<'_>| {
        let mut reader = Reader { store: &store, enc, cache: None };
        reader.get(object, Some(ByteRange::FromTo(C as u64 - 5, 3 * C as u64 + 7)), 999)
    };
    let companion_of = |object: &ObjectId<'_>| {
        PartsCompanion::from_bytes(&store.raw(&parts_companion_key(object.key())).unwrap().body).unwrap()
    };
    let state_of = |object: &ObjectId<'_>| {
        Envelope::from_metadata(pairs(&store.raw(object.key()).unwrap().metadata)).unwrap()
    };
    let copy = |plan: &MultipartCopyPlan, to: &ObjectId<'_>| {
        let put = plan.put_companion();
        store.put_object(&put.key, put.body.clone());
        store.s3().copy(BUCKET, utf8(to.key()), &plan.headers()).unwrap();
    };
    let slice = &expected[C - 5..3 * C + 8];

    // A copy to a new name: S3 copies the body; the new metadata and companion name the copy.
    let dest = ObjectId::new(BUCKET, "dst/movie.bin");
    let plan = MultipartCopyPlan::new(
        &state_of(&object),
        &companion_of(&object),
        (&ring, &object),
        (&ring, &dest),
        &mut TestRng(131),
    )
    .unwrap();
    assert_eq!(plan.copy_source(), "/client-bucket/src/movie.bin");
    store.reset_counts();
    copy(&plan, &dest);
    assert_eq!(
        (store.requests("PutObject"), store.requests("CopyObject"), store.requests("GetObject")),
        (1, 1, 0)
    );
    assert_eq!(read(&ring, &dest).unwrap(), slice);
    assert_eq!(read(&ring, &object).unwrap(), slice, "the source is untouched");
    // The source's companion is not the copy's.
    let mut wrong = Reader { store: &store, enc: &ring, cache: Some(companion_of(&object)) };
    assert_eq!(wrong.get(&dest, None, 999), Err(Error::StaleCompanion));

    // Re-key in place under a new keyring key: the old key no longer opens it, the old companion
    // is stale.
    ring.add("client-1", 2, RootKey::from_bytes([0x35; 32]), description()).unwrap();
    ring.activate("client-1", 2).unwrap();
    let old_companion = companion_of(&object);
    let plan = MultipartCopyPlan::new(
        &state_of(&object),
        &old_companion,
        (&ring, &object),
        (&ring, &object),
        &mut TestRng(132),
    )
    .unwrap();
    copy(&plan, &object);
    assert_eq!(state_of(&object).key_version(), 2);
    assert_eq!(companion_of(&object).envelope().key_version(), 2);
    assert_eq!(read(&ring, &object).unwrap(), slice);
    let only_v1 = keyring();
    assert!(matches!(read(&only_v1, &object), Err(Error::UnknownKey { .. })));
    let mut stale = Reader { store: &store, enc: &ring, cache: Some(old_companion) };
    assert_eq!(stale.get(&object, None, 999), Err(Error::StaleCompanion));

    // Re-key to a client KMS key.
    let mut local = LocalKms::new(TestRng(133));
    local.create_key("alias/rekey", RootKey::from_bytes([0x78; 32])).unwrap();
    let context = EncryptionContext::new();
    let kms_key = ClientKms::new("alias/rekey", context.clone()).unwrap().generate_key(&local).unwrap();
    let plan = MultipartCopyPlan::new(
        &state_of(&object),
        &companion_of(&object),
        (&ring, &object),
        (&kms_key, &object),
        &mut TestRng(134),
    )
    .unwrap();
    copy(&plan, &object);
    let settings = ClientKms::new("alias/rekey", context).unwrap();
    let read_key = ClientKmsKey::for_envelope(&local, &state_of(&object), &settings).unwrap();
    assert_eq!(read(&read_key, &object).unwrap(), slice);
    let r = read(&ring, &object);
    assert!(matches!(r, Err(Error::UnknownKey { .. } | Error::WrongKey)), "{r:?}");

    // A destination key that collides with a companion, and server-side keys, are refused.
    let reserved = ObjectId::new(BUCKET, "x.s3crypt-parts");
    let refused = MultipartCopyPlan::new(
        &state_of(&object),
        &companion_of(&object),
        (&read_key, &object),
        (&read_key, &reserved),
        &mut TestRng(135),
    );
    assert_eq!(refused.unwrap_err(), Error::ReservedKey);
    let sse_s3 = Keyring::new("root-1", 1, RootKey::from_bytes([0x31; 32])).unwrap();
    let refused = MultipartCopyPlan::new(
        &state_of(&object),
        &companion_of(&object),
        (&read_key, &object),
        (&sse_s3, &dest),
        &mut TestRng(137),
    );
    assert_eq!(
        refused.unwrap_err(),
        Error::SchemeMismatch { envelope: Scheme::ClientSide, presented: Scheme::SseS3 }
    );
    // A state and companion that do not belong together are refused before anything is sealed.
    let refused = MultipartCopyPlan::new(
        &state_of(&dest),
        &companion_of(&object),
        (&read_key, &object),
        (&read_key, &dest),
        &mut TestRng(136),
    );
    assert_eq!(refused.unwrap_err(), Error::StaleCompanion);
}

/// A reader that does not know whether a key is single-part or multipart starts with the
/// single-part plan (one request); an upload state in the response's metadata says "multipart",
/// before any key is used. A whole GET then needs only the companion (2 requests: its body is
/// already the whole object); a range is planned again from the table (3 requests cold).
#[test]
fn a_reader_that_does_not_know_the_layout() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "unknown-layout");
    let parts = parts_of(&[2 * C + 9, C + 1]);
    upload(&store, &ring, &object, &parts, &[1, 2], 1, 140).unwrap();
    let expected = concat(&parts);
    let companion_key = parts_companion_key(object.key());

    // Whole.
    store.reset_counts();
    let single = s3crypt::ClientGetPlan::whole();
    let response = store.get_object(object.key(), single.range_header().as_deref()).unwrap();
    let metadata = Envelope::from_metadata(pairs(&response.metadata)).unwrap();
    assert_eq!(single.check(&metadata), Err(Error::EnvelopeKind));
    let companion =
        PartsCompanion::from_bytes(&store.get_object(&companion_key, None).unwrap().body).unwrap();
    let plan = companion.plan_get(None).unwrap();
    let mut opener = plan.opener(pairs(&response.metadata), None, &ring, &object, &companion).unwrap();
    let mut plain = Vec::new();
    opener.update(&response.body, &mut plain).unwrap();
    opener.finish().unwrap();
    assert_eq!(plain, expected);
    assert_eq!(store.total_requests(), 2);

    // A range.
    store.reset_counts();
    let range = ByteRange::FromTo(2 * C as u64, 2 * C as u64 + 100);
    let single = s3crypt::ClientGetPlan::range(range, ChunkSize::C2SP).unwrap();
    let response = store.get_object(object.key(), single.range_header().as_deref()).unwrap();
    let metadata = Envelope::from_metadata(pairs(&response.metadata)).unwrap();
    assert_eq!(single.check(&metadata), Err(Error::EnvelopeKind));
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    assert_eq!(reader.get(&object, Some(range), 999).unwrap(), expected[2 * C..2 * C + 101]);
    assert_eq!(store.total_requests(), 3);
}

/// Every value of the object's metadata (the upload state) changed in turn: the read fails,
/// and a part sealed by a resumed upload (another process, from the stored state) reads back.
#[test]
fn tampered_state_metadata_and_a_resumed_upload() {
    let ring = keyring();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "state");
    let mut rng = TestRng(150);
    let (_, create) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let id = store.create_multipart_upload(&create.key, &create.headers);
    // Another process resumes the upload from the state it reads back (the request it sent).
    let state = Envelope::from_metadata(pairs(&create.headers)).unwrap();
    let resumed = ClientMultipartUpload::resume(state, &ring, &object).unwrap();
    let mut sealer = resumed.upload().part_sealer(1, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(&pattern(C + 3), &mut body).unwrap();
    let part = sealer.finish(&mut body).unwrap();
    let etag = store.upload_part(id, 1, body.len() as u64, body).unwrap();
    let done = resumed.complete(&ring, &object, &[*part.part()], None, &mut rng).unwrap();
    let put = done.put_companion();
    store.put_object(&put.key, put.body.clone());
    store.complete(id, &done.complete_request(&[(1, &etag)]).unwrap().parts).unwrap();
    let mut reader = Reader { store: &store, enc: &ring, cache: None };
    assert_eq!(reader.get(&object, None, 999).unwrap(), pattern(C + 3));

    let good = store.raw(object.key()).unwrap();
    for (i, (name, value)) in good.metadata.iter().enumerate() {
        let mut tampered = good.clone();
        let changed = match value.as_str() {
            "true" => "false".to_owned(),
            "0" => "1".to_owned(),
            v if v.ends_with('=') => format!("{}{}", if v.starts_with('A') { 'B' } else { 'A' }, &v[1..]),
            v => format!("{v}1"),
        };
        tampered.metadata[i].1 = changed;
        store.set_raw(object.key(), tampered);
        let r = reader.get(&object, None, 999);
        assert!(r.is_err(), "{name}: {r:?}");
        let r = reader.head(&object);
        assert!(r.is_err(), "{name}: {r:?}");
    }
    store.set_raw(object.key(), good);
    assert_eq!(reader.head(&object).unwrap(), C as u64 + 3);
}

/// The largest companion: 10,000 parts, within the decoder's bound, and it opens.
#[test]
fn ten_thousand_parts_companion() {
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "many");
    let mut rng = TestRng(160);
    let (client, _) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let mut records = Vec::new();
    let mut body = Vec::new();
    for n in 1..=10_000u32 {
        let mut sealer = client.upload().part_sealer(n, &mut rng).unwrap();
        sealer.update(&[n as u8; 2][..(n % 3) as usize], &mut body).unwrap();
        records.push(*sealer.finish(&mut body).unwrap().part());
    }
    let done = client.complete(&ring, &object, &records, None, &mut rng).unwrap();
    let bytes = done.put_companion().body;
    let envelope_len = done.companion().envelope().to_binary().len();
    assert_eq!(bytes.len(), 39 + envelope_len + 10 + 68 * 10_000);
    assert!(bytes.len() <= 39 + 4096 + 10 + 68 * 10_000);
    let companion = PartsCompanion::from_bytes(&bytes).unwrap();
    let parts = client.state().open_client_multipart(&ring, &object, &companion).unwrap();
    assert_eq!(parts.part_count(), 10_000);
    let mut opener = parts.opener();
    let mut plain = Vec::new();
    opener.update(&body, &mut plain).unwrap();
    opener.finish().unwrap();
    assert_eq!(plain.len() as u64, parts.plaintext_len());
}

/// FORMAT.md §9.6's worked example: a two-part client-side object's companion, recomputed from
/// the spec's composition rules (the table of §5.3 and its digest of §5.4 by hand, the framing of
/// §9.2 by hand) and compared with s3crypt's bytes and with the document.
/// `S3CRYPT_PRINT_EXAMPLES=1 cargo test --test client_multipart worked -- --nocapture` prints it.
#[test]
fn worked_example_of_format_9() {
    use base64ct::{Base64, Encoding};
    use sha2::{Digest as _, Sha256};
    let hex = |b: &[u8]| -> String { b.iter().map(|x| format!("{x:02x}")).collect() };
    let seq = |from: u8, n: usize| -> Vec<u8> { (0..n).map(|i| from.wrapping_add(i as u8)).collect() };
    let root: [u8; 32] = seq(0x40, 32).try_into().unwrap();
    let ring = ClientKeyring::new("client-1", 1, RootKey::from_bytes(root), description()).unwrap();
    let object = ObjectId::new("examplebucket", "videos/clip.mp4");
    let (data_key, state_salt, salt1, salt2, done_salt) =
        (seq(0x80, 32), seq(0xc0, 32), seq(0xa0, 24), seq(0x10, 24), seq(0xe0, 32));
    let parts: [(u32, &[u8]); 2] = [(1, b"multipart "), (3, b"companion")];
    let randomness = [&data_key[..], &state_salt, &salt1, &salt2, &done_salt].concat();
    let mut rng = common::Replay::new(&randomness);
    let (client, create) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let mut records = Vec::new();
    let mut bodies = Vec::new();
    for (number, plain) in parts {
        let mut sealer = client.upload().part_sealer(number, &mut rng).unwrap();
        let mut body = Vec::new();
        sealer.update(plain, &mut body).unwrap();
        records.push(*sealer.finish(&mut body).unwrap().part());
        bodies.push(body);
    }
    let done = client.complete(&ring, &object, &records, None, &mut rng).unwrap();
    assert!(rng.exhausted(), "the writer draws exactly what the format says");
    let companion = done.put_companion().body;

    // §5.3 and §5.4 by hand.
    let mut table = b"S3PT\x01\x0e".to_vec();
    table.extend_from_slice(&2u32.to_be_bytes());
    for ((number, plain), body) in parts.iter().zip(&bodies) {
        table.extend_from_slice(&number.to_be_bytes());
        table.extend_from_slice(&(plain.len() as u64).to_be_bytes());
        table.extend_from_slice(&body[..HEADER_LEN]);
    }
    let digest: [u8; 32] =
        Sha256::new().chain_update(b"s3crypt/v1 parts\0").chain_update(&table).finalize().into();
    let envelope = done.companion().envelope();
    let meta: BTreeMap<String, String> = envelope.to_metadata().into_iter().collect();
    assert_eq!(meta["s3crypt-parts-digest"], Base64::encode_string(&digest));
    assert_eq!(meta["s3crypt-parts"], "2");
    assert_eq!(meta["s3crypt-length"], "19");
    assert_eq!(meta["s3crypt-scheme"], "client-side");
    // §9.2 by hand: the state's field 8 is the upload id.
    let state_meta: BTreeMap<String, String> = create
        .headers
        .iter()
        .map(|(k, v)| (k.strip_prefix("x-amz-meta-").unwrap().to_owned(), v.clone()))
        .collect();
    assert_eq!(state_meta["s3crypt-salt"], Base64::encode_string(&state_salt));
    let binary = envelope.to_binary();
    let by_hand =
        [b"S3CM\x01", &state_salt[..], &(binary.len() as u16).to_be_bytes(), &binary, &table].concat();
    assert_eq!(hex(&companion), hex(&by_hand), "s3crypt and the spec disagree");

    let lines = [
        ("root_key", hex(&root)),
        ("bucket", hex(object.bucket())),
        ("object_key", hex(object.key())),
        ("companion_key", hex(&parts_companion_key(object.key()))),
        ("data_key", hex(&data_key)),
        ("state_salt", hex(&state_salt)),
        ("part1_salt", hex(&salt1)),
        ("part3_salt", hex(&salt2)),
        ("completion_salt", hex(&done_salt)),
        ("part1", hex(&bodies[0])),
        ("part3", hex(&bodies[1])),
        ("table", hex(&table)),
        ("parts_digest", hex(&digest)),
        ("envelope", hex(&binary)),
        ("companion", hex(&companion)),
    ];
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMAT.md")).unwrap();
    let documented: BTreeMap<&str, &str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("example.companion."))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(k, v)| (k, v.trim()))
        .collect();
    let print = std::env::var_os("S3CRYPT_PRINT_EXAMPLES").is_some();
    for (name, value) in lines {
        if print {
            println!("example.companion.{name:<16} {value}");
        } else {
            assert_eq!(
                documented.get(name).copied(),
                Some(value.as_str()),
                "FORMAT.md example.companion.{name}"
            );
        }
    }
    // And it reads back.
    let parsed = PartsCompanion::from_bytes(&companion).unwrap();
    let state = Envelope::from_metadata(pairs(&create.headers)).unwrap();
    let opened = state.open_client_multipart(&ring, &object, &parsed).unwrap();
    let mut opener = opened.opener();
    let mut plain = Vec::new();
    opener.update(&bodies.concat(), &mut plain).unwrap();
    opener.finish().unwrap();
    assert_eq!(plain, b"multipart companion");
}

/// With the `http` feature every plan appends its headers to an `http::HeaderMap`.
#[cfg(feature = "http")]
#[test]
fn plans_as_http_headers() {
    let ring = keyring();
    let object = ObjectId::new(BUCKET, "http");
    let mut rng = TestRng(170);
    let (client, create) =
        ClientMultipartUpload::create(SealOptions::default(), &ring, &object, &mut rng).unwrap();
    let mut map = http::HeaderMap::new();
    create.append_to(&mut map);
    assert_eq!(map.len(), create.headers.len());
    assert_eq!(map["x-amz-meta-s3crypt-scheme"], "client-side");
    let mut map = http::HeaderMap::new();
    client.upload_part(1, 0).unwrap().append_to(&mut map);
    assert_eq!(map["content-length"], "72");
    let mut sealer = client.upload().part_sealer(1, &mut rng).unwrap();
    let mut body = Vec::new();
    sealer.update(&pattern(3 * C), &mut body).unwrap();
    let part = sealer.finish(&mut body).unwrap();
    let done = client.complete(&ring, &object, &[*part.part()], None, &mut rng).unwrap();
    let put = done.put_companion();
    let mut map = http::HeaderMap::new();
    put.append_to(&mut map);
    assert_eq!(map["content-length"], put.body.len().to_string().as_str());
    let plan = done.companion().plan_get(Some(ByteRange::FromTo(C as u64, C as u64))).unwrap();
    let mut map = http::HeaderMap::new();
    plan.append_to(&mut map);
    let expected = format!("bytes={}-{}", 56 + (C + 16) as u64, 56 + 2 * (C + 16) as u64 - 1);
    assert_eq!(map["range"], expected.as_str());
    let mut map = http::HeaderMap::new();
    done.companion().plan_get(None).unwrap().append_to(&mut map);
    assert!(map.is_empty());
    let copy = MultipartCopyPlan::new(
        client.state(),
        done.companion(),
        (&ring, &object),
        (&ring, &ObjectId::new(BUCKET, "http copy")),
        &mut rng,
    )
    .unwrap();
    let mut map = http::HeaderMap::new();
    copy.append_to(&mut map);
    assert_eq!(map["x-amz-copy-source"], "/client-bucket/http");
    assert_eq!(map["x-amz-metadata-directive"], "REPLACE");
    assert_eq!(map.len(), copy.headers().len());
}

/// An [`Encryptor`] that counts the keys it hands out, to show a refusal comes before any key use.
struct CountingKeys<'a> {
    inner: &'a dyn Encryptor,
    resolved: std::cell::Cell<u32>,
}

impl Encryptor for CountingKeys<'_> {
    fn scheme(&self) -> Scheme {
        self.inner.scheme()
    }
    fn sealing_key(&self) -> Result<s3crypt::WrappingKey<'_>, Error> {
        self.resolved.set(self.resolved.get() + 1);
        self.inner.sealing_key()
    }
    fn opening_key(&self, envelope: &Envelope) -> Result<s3crypt::WrappingKey<'_>, Error> {
        self.resolved.set(self.resolved.get() + 1);
        self.inner.opening_key(envelope)
    }
}

/// The reader holds two keys; the object is sealed under one. A companion of another upload of
/// the object sealed under the other key, relabelled with this upload's id, cannot steer the reader
/// to that key: it is refused before any key is resolved, and a stale one before that. The genuine
/// pair resolves the state's key, once per envelope.
#[test]
fn a_companion_cannot_steer_the_reader_to_another_key_of_its_ring() {
    let mut ring = keyring();
    ring.add("client-1", 2, RootKey::from_bytes([0x34; 32]), description()).unwrap();
    let store = MultipartStore::new(0);
    let object = ObjectId::new(BUCKET, "steer.bin");
    hostile_fixture(&store, &ring, &object, 90);
    ring.activate("client-1", 2).unwrap();
    let elsewhere = MultipartStore::new(0);
    hostile_fixture(&elsewhere, &ring, &object, 91);
    let theirs = elsewhere.raw(&parts_companion_key(object.key())).unwrap().body;
    assert_eq!(PartsCompanion::from_bytes(&theirs).unwrap().envelope().key_version(), 2);

    let counting = CountingKeys { inner: &ring, resolved: std::cell::Cell::new(0) };
    let stale = PartsCompanion::from_bytes(&theirs).unwrap();
    let mut reader = Reader { store: &store, enc: &counting, cache: Some(stale) };
    assert_eq!(reader.get(&object, None, 999), Err(Error::StaleCompanion));
    assert_eq!(reader.head(&object), Err(Error::StaleCompanion));
    let mut forged = theirs.clone();
    forged[5..37].copy_from_slice(&state_salt(&store.raw(object.key()).unwrap()));
    let mut reader =
        Reader { store: &store, enc: &counting, cache: Some(PartsCompanion::from_bytes(&forged).unwrap()) };
    assert_eq!(reader.get(&object, None, 999), Err(Error::Authentication));
    assert_eq!(reader.head(&object), Err(Error::Authentication));
    assert_eq!(counting.resolved.get(), 0, "a key was resolved for a refused companion");

    let mut reader = Reader { store: &store, enc: &counting, cache: None };
    assert_eq!(reader.head(&object).unwrap(), (3 * C + 501) as u64);
    assert_eq!(counting.resolved.get(), 2, "the state's key, for the state and the companion");
}
