//! Multipart uploads: round trips in every mode, the part-list binding and its hostile cases,
//! ranges across parts against a `u128` model, `partNumber` reads and ETags.
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
use common::{TestRng, pattern};
use proptest::prelude::*;
use s3crypt::{
    ByteRange, Checksum, ChecksumAlgorithm, ChunkSize, CompletedUpload, CopySource, CustomerKey, ETag,
    Encryptor, Envelope, Error, HEADER_LEN, Keyring, KmsKey, LocalKms, MAX_PARTS, ObjectId, ObjectSealer,
    Part, PartTable, RootKey, Scheme, SealOptions, SealedPart, SseKms, Upload, WrongKeyStatus,
};

const C: usize = 16 * 1024;

fn keyring() -> Keyring {
    Keyring::new("root-1", 1, RootKey::from_bytes([0x42; 32])).unwrap()
}

fn local_kms() -> LocalKms<TestRng> {
    let mut kms = LocalKms::new(TestRng(99));
    kms.create_key("alias/mp", RootKey::from_bytes([0x77; 32])).unwrap();
    kms
}

/// The KMS key of a stored envelope (one Decrypt).
fn kms_key_for(kms: &impl s3crypt::Kms, envelope: &Envelope, object: &ObjectId<'_>) -> KmsKey {
    KmsKey::for_envelope(kms, envelope, object).unwrap()
}

/// The three modes, each with the encryptor every request of one upload presents (SSE-KMS: the
/// key of the upload's one GenerateDataKey).
enum Mode {
    S3(Keyring),
    C(CustomerKey),
    Kms(KmsKey),
}

impl Mode {
    fn all(object: &ObjectId<'_>) -> Vec<Mode> {
        let kms = local_kms();
        let key = SseKms::new("alias/mp").unwrap().generate_key(&kms, object).unwrap();
        vec![Mode::S3(keyring()), Mode::C(CustomerKey::from_bytes([0x5c; 32])), Mode::Kms(key)]
    }

    fn encryptor(&self) -> &dyn Encryptor {
        match self {
            Mode::S3(k) => k,
            Mode::C(k) => k,
            Mode::Kms(k) => k,
        }
    }
}

/// Uploads `parts` (number, plaintext) streaming in uneven pieces; returns the state and each
/// sealed part with its stored bytes.
fn upload(
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    parts: &[(u32, Vec<u8>)],
    options: SealOptions,
    seed: u64,
) -> (Envelope, Vec<(SealedPart, Vec<u8>)>) {
    let mut rng = TestRng(seed);
    let (_, state) = Upload::create(options, enc, object, &mut rng).unwrap();
    // Every part request reopens the stored state, as a stateless gateway does.
    let state = Envelope::from_metadata(state.to_metadata()).unwrap();
    let sealed = parts
        .iter()
        .map(|(number, plain)| {
            let upload =
                state.open_upload(enc, object).unwrap().with_md5(options.md5).with_checksum(options.checksum);
            let mut sealer = upload.part_sealer(*number, &mut rng).unwrap();
            let mut body = Vec::new();
            for piece in plain.chunks(4099) {
                sealer.update(piece, &mut body).unwrap();
            }
            let part = sealer.finish(&mut body).unwrap();
            assert_eq!(part.part().stored_len(), body.len() as u64);
            assert_eq!(part.part().header(), &body[..HEADER_LEN]);
            (part, body)
        })
        .collect();
    (state, sealed)
}

fn complete(
    state: &Envelope,
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    parts: &[&(SealedPart, Vec<u8>)],
) -> Result<CompletedUpload, Error> {
    let list: Vec<Part> = parts.iter().map(|(p, _)| *p.part()).collect();
    state.complete_upload(enc, object, &list, &mut TestRng(7))
}

fn concat(parts: &[&(SealedPart, Vec<u8>)]) -> Vec<u8> {
    parts.iter().flat_map(|(_, b)| b.iter().copied()).collect()
}

/// Opens a whole multipart body through the stored encodings, in pieces of `step` bytes.
fn open_all(
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    envelope: &Envelope,
    table: &[u8],
    body: &[u8],
    step: usize,
) -> Result<Vec<u8>, Error> {
    let envelope = Envelope::from_binary(&envelope.to_binary())?;
    let table = PartTable::from_bytes(table)?;
    let mp = envelope.open(enc, object)?.multipart(&table)?;
    let mut opener = mp.opener();
    assert_eq!(opener.stored_range(), 0..mp.stored_len());
    let mut plain = Vec::new();
    for piece in body.chunks(step.max(1)) {
        opener.update(piece, &mut plain)?;
    }
    opener.finish()?;
    Ok(plain)
}

fn numbered(sizes: &[usize]) -> Vec<(u32, Vec<u8>)> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| (i as u32 + 1, pattern(n + i).into_iter().skip(i).collect()))
        .collect()
}

#[test]
fn round_trips_in_every_mode_with_1_2_3_parts_and_uneven_sizes() {
    let object = ObjectId::new("bucket", "big/file.bin");
    let layouts: [&[usize]; 6] =
        [&[0], &[100], &[5 * C + 17, 3], &[C - 1, C, C + 1], &[2 * C, 1, 7 * C + 5], &[1, 0, 2 * C]];
    for mode in Mode::all(&object) {
        let enc = mode.encryptor();
        for (seed, sizes) in layouts.iter().enumerate() {
            let parts = numbered(sizes);
            let expected: Vec<u8> = parts.iter().flat_map(|(_, p)| p.iter().copied()).collect();
            let (state, sealed) = upload(enc, &object, &parts, SealOptions::default(), seed as u64 + 1);
            assert!(state.is_upload_state());
            assert_eq!(state.scheme(), enc.scheme());
            let all: Vec<_> = sealed.iter().collect();
            let done = complete(&state, enc, &object, &all).unwrap();
            assert_eq!(done.envelope.part_count(), Some(parts.len() as u32));
            assert_eq!(done.envelope.unverified_plaintext_len(), expected.len() as u64);
            assert_eq!(done.table.plaintext_len(), expected.len() as u64);
            assert_eq!(done.envelope.body_len(), Err(Error::EnvelopeKind));
            let body = concat(&all);
            assert_eq!(done.table.stored_len(), body.len() as u64);
            for step in [1, 1000, body.len()] {
                let plain =
                    open_all(enc, &object, &done.envelope, &done.table.to_bytes(), &body, step).unwrap();
                assert_eq!(plain, expected, "{:?} {sizes:?} step {step}", enc.scheme());
            }
            // The metadata encoding round-trips too, and stays in S3's budget.
            let meta = done.envelope.to_metadata();
            assert!(done.envelope.metadata_len() <= 2048);
            assert_eq!(Envelope::from_metadata(meta).unwrap(), done.envelope);
        }
    }
}

#[test]
fn ten_thousand_tiny_parts() {
    let object = ObjectId::new("bucket", "many-parts");
    for mode in Mode::all(&object) {
        let enc = mode.encryptor();
        let parts: Vec<(u32, Vec<u8>)> =
            (1..=MAX_PARTS).map(|n| (n, vec![n as u8; (n % 3) as usize])).collect();
        let expected: Vec<u8> = parts.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        let mut rng = TestRng(5);
        let (upload, state) = Upload::create(SealOptions::default(), enc, &object, &mut rng).unwrap();
        let mut body = Vec::new();
        let mut list = Vec::new();
        for (n, plain) in &parts {
            let mut sealer = upload.part_sealer(*n, &mut rng).unwrap();
            sealer.update(plain, &mut body).unwrap();
            list.push(*sealer.finish(&mut body).unwrap().part());
        }
        let done = state.complete_upload(enc, &object, &list, &mut rng).unwrap();
        assert_eq!(done.envelope.part_count(), Some(MAX_PARTS));
        assert!(done.envelope.metadata_len() <= 2048, "{}", done.envelope.metadata_len());
        let table = done.table.to_bytes();
        assert_eq!(table.len(), 10 + 68 * MAX_PARTS as usize);
        assert_eq!(open_all(enc, &object, &done.envelope, &table, &body, 65536).unwrap(), expected);
        // A range across thousands of parts.
        let mp = done.envelope.open(enc, &object).unwrap().multipart(&done.table).unwrap();
        let range = 1000..expected.len() as u64 - 1000;
        let mut opener = mp.range_opener(range.clone()).unwrap();
        let fetch = opener.stored_range();
        let mut plain = Vec::new();
        opener.update(&body[fetch.start as usize..fetch.end as usize], &mut plain).unwrap();
        opener.finish().unwrap();
        assert_eq!(plain, expected[range.start as usize..range.end as usize]);
        // One more part is one too many.
        let extra = Part::new(MAX_PARTS, &[0; HEADER_LEN], 72).unwrap();
        let mut too_many = list.clone();
        too_many.push(extra);
        assert_eq!(state.complete_upload(enc, &object, &too_many, &mut rng).unwrap_err(), Error::InvalidPart);
    }
    assert_eq!(Part::new(MAX_PARTS + 1, &[0; HEADER_LEN], 72).unwrap_err(), Error::InvalidPart);
    assert_eq!(Part::new(0, &[0; HEADER_LEN], 72).unwrap_err(), Error::InvalidPart);
}

#[test]
fn one_generate_data_key_per_upload_under_sse_kms() {
    let object = ObjectId::new("bucket", "kms-object");
    let local = local_kms();
    let kms = CountingKms::new(&local);
    let key = SseKms::new("alias/mp").unwrap().generate_key(&kms, &object).unwrap();
    let mut rng = TestRng(3);
    let (upload, state) = Upload::create(SealOptions::default(), &key, &object, &mut rng).unwrap();
    let mut list = Vec::new();
    let mut body = Vec::new();
    for n in 1..=5 {
        let mut sealer = upload.part_sealer(n, &mut rng).unwrap();
        sealer.update(&pattern(3000), &mut body).unwrap();
        list.push(*sealer.finish(&mut body).unwrap().part());
    }
    let done = state.complete_upload(&key, &object, &list, &mut rng).unwrap();
    assert_eq!((kms.generate.get(), kms.decrypt.get()), (1, 0));
    // A stateless gateway's UploadPart: one Decrypt of the stored state; and the state of this
    // object is never decrypted for another (no KMS request is even built).
    let state_key = kms_key_for(&kms, &state, &object);
    assert!(state.open_upload(&state_key, &object).is_ok());
    let elsewhere = ObjectId::new("bucket", "elsewhere");
    assert!(KmsKey::for_envelope(&kms, &state, &elsewhere).is_err());
    assert_eq!((kms.generate.get(), kms.decrypt.get()), (1, 1));
    kms.decrypt.set(0);
    // A stateless gateway's GET: one Decrypt for the whole object, whatever its part count.
    let read_key = kms_key_for(&kms, &done.envelope, &object);
    let mp = done.envelope.open(&read_key, &object).unwrap().multipart(&done.table).unwrap();
    let mut plain = Vec::new();
    let mut opener = mp.opener();
    opener.update(&body, &mut plain).unwrap();
    opener.finish().unwrap();
    assert_eq!(plain.len(), 15000);
    assert_eq!((kms.generate.get(), kms.decrypt.get()), (1, 1));
    assert_eq!(done.envelope.kms_context(), state.kms_context());
}

#[test]
fn a_reuploaded_part_gets_a_fresh_salt_and_the_old_version_cannot_be_substituted() {
    let object = ObjectId::new("bucket", "reupload");
    for mode in Mode::all(&object) {
        let enc = mode.encryptor();
        let parts = numbered(&[3 * C, 2 * C + 9, 100]);
        let options = SealOptions { md5: true, ..SealOptions::default() };
        let (state, sealed) = upload(enc, &object, &parts, options, 11);
        // Part 2 again: once with other bytes, once with the same bytes.
        let (_, again) = upload(enc, &object, &[(2, pattern(999)), (2, parts[1].1.clone())], options, 12);
        // That second `upload` call is another upload; re-seal part 2 under *this* upload instead.
        drop(again);
        let upload_ = state.open_upload(enc, &object).unwrap().with_md5(true);
        let mut rng = TestRng(13);
        let mut reseal = |plain: &[u8]| {
            let mut sealer = upload_.part_sealer(2, &mut rng).unwrap();
            let mut body = Vec::new();
            sealer.update(plain, &mut body).unwrap();
            (sealer.finish(&mut body).unwrap(), body)
        };
        let other = reseal(&pattern(999));
        let same = reseal(&parts[1].1);
        let salts = [&sealed[1].1[..24], &other.1[..24], &same.1[..24]];
        assert!(salts[0] != salts[1] && salts[0] != salts[2] && salts[1] != salts[2]);
        // Same bytes, same ETag within the upload; other bytes, another ETag.
        assert_eq!(same.0.etag(), sealed[1].0.etag());
        assert_ne!(other.0.etag(), sealed[1].0.etag());

        // Completed with the latest upload of part 2 (the "other" bytes).
        let list = [&sealed[0], &other, &sealed[2]];
        let done = complete(&state, enc, &object, &list).unwrap();
        let table = done.table.to_bytes();
        let good = concat(&list);
        let mut expected = parts[0].1.clone();
        expected.extend_from_slice(&pattern(999));
        expected.extend_from_slice(&parts[2].1);
        assert_eq!(open_all(enc, &object, &done.envelope, &table, &good, 777).unwrap(), expected);

        // The stored part 2 replaced by its older version (a valid stream of this upload and
        // part number): caught by the header comparison, whole or ranged.
        let mut swapped_body = sealed[0].1.clone();
        swapped_body.extend_from_slice(&sealed[1].1);
        swapped_body.extend_from_slice(&sealed[2].1);
        let stored_len_matches = sealed[1].1.len() == other.1.len();
        let r = open_all(enc, &object, &done.envelope, &table, &swapped_body, 4096);
        assert!(matches!(r, Err(Error::Authentication | Error::TrailingData | Error::Truncated)), "{r:?}");
        if stored_len_matches {
            assert_eq!(r, Err(Error::Authentication));
        }
        // A table listing the older version: not the completed one.
        let old_table =
            PartTable::new(ChunkSize::C2SP, &[*sealed[0].0.part(), *sealed[1].0.part(), *sealed[2].0.part()])
                .unwrap();
        let key = done.envelope.open(enc, &object).unwrap();
        assert_eq!(key.multipart(&old_table).unwrap_err(), Error::Authentication);
    }
}

#[test]
fn hostile_part_lists_and_bodies() {
    let object = ObjectId::new("bucket", "hostile");
    for mode in Mode::all(&object) {
        let enc = mode.encryptor();
        let parts = numbered(&[2 * C + 1, C, 3 * C + 100, 500]);
        let (state, sealed) = upload(enc, &object, &parts, SealOptions::default(), 21);
        let all: Vec<_> = sealed.iter().collect();
        let done = complete(&state, enc, &object, &all).unwrap();
        let key = done.envelope.open(enc, &object).unwrap();
        let body = concat(&all);
        let table_bytes = done.table.to_bytes();
        let open = |table: &PartTable, body: &[u8]| -> Result<Vec<u8>, Error> {
            let mp = key.multipart(table)?;
            let mut opener = mp.opener();
            let mut plain = Vec::new();
            opener.update(body, &mut plain)?;
            opener.finish()?;
            Ok(plain)
        };
        let table_of = |which: &[usize]| {
            PartTable::new(ChunkSize::C2SP, &which.iter().map(|&i| *sealed[i].0.part()).collect::<Vec<_>>())
        };
        let body_of =
            |which: &[usize]| -> Vec<u8> { which.iter().flat_map(|&i| sealed[i].1.clone()).collect() };

        // A part dropped, first, middle or last: from the table (with the body to match) ...
        for drop_ in [vec![1, 2, 3], vec![0, 2, 3], vec![0, 1, 2]] {
            let table = table_of(&drop_).unwrap();
            assert_eq!(open(&table, &body_of(&drop_)), Err(Error::Authentication), "{drop_:?}");
            // ... or only from the body.
            let r = open(&done.table, &body_of(&drop_));
            assert!(matches!(r, Err(Error::Authentication | Error::Truncated)), "{drop_:?} {r:?}");
        }
        // Reordered or duplicated in the list: no such table.
        assert_eq!(table_of(&[1, 0, 2, 3]).unwrap_err(), Error::InvalidPartOrder);
        assert_eq!(table_of(&[0, 1, 1, 2, 3]).unwrap_err(), Error::InvalidPartOrder);
        assert_eq!(complete(&state, enc, &object, &[all[1], all[0]]).unwrap_err(), Error::InvalidPartOrder);
        assert_eq!(complete(&state, enc, &object, &[]).unwrap_err(), Error::InvalidPart);
        // Reordered or duplicated in the body.
        assert_eq!(open(&done.table, &body_of(&[1, 0, 2, 3])), Err(Error::Authentication));
        let r = open(&done.table, &body_of(&[0, 0, 2, 3]));
        assert!(r.is_err(), "{r:?}");
        // Body too long or too short.
        let mut long = body.clone();
        long.push(0);
        assert_eq!(open(&done.table, &long), Err(Error::TrailingData));
        assert_eq!(open(&done.table, &body[..body.len() - 1]), Err(Error::Truncated));
        // A flipped bit anywhere: header, chunk, tag.
        for at in [0, 30, 60, HEADER_LEN + 2 * C + 40, body.len() - 1] {
            let mut bad = body.clone();
            bad[at] ^= 1;
            assert_eq!(open(&done.table, &bad), Err(Error::Authentication), "bit at {at}");
        }
        // An edited table: any bit of it.
        for at in [6, 9, 12, 20, 30, 70, table_bytes.len() - 1] {
            let mut bad = table_bytes.clone();
            bad[at] ^= 1;
            match PartTable::from_bytes(&bad) {
                Ok(t) => assert_eq!(key.multipart(&t).unwrap_err(), Error::Authentication, "table bit {at}"),
                Err(e) => assert!(matches!(e, Error::InvalidPart | Error::InvalidPartOrder | Error::TooLong)),
            }
        }
        // An edited envelope: part count, digest or length.
        let meta = done.envelope.to_metadata();
        let edit = |name: &str, value: String| -> Vec<(String, String)> {
            meta.iter().map(|(k, v)| (k.clone(), if k == name { value.clone() } else { v.clone() })).collect()
        };
        for (name, value) in [
            ("s3crypt-parts", "3".to_string()),
            ("s3crypt-parts-digest", "A".repeat(43) + "="),
            ("s3crypt-length", (done.envelope.unverified_plaintext_len() - 1).to_string()),
        ] {
            let edited = Envelope::from_metadata(edit(name, value)).unwrap();
            assert_eq!(edited.open(enc, &object).unwrap_err(), Error::Authentication, "{name}");
        }
        // The envelope's length and the table's disagree: a table one byte short.
        let mut short_list: Vec<Part> = sealed.iter().map(|(p, _)| *p.part()).collect();
        let last = short_list.len() - 1;
        short_list[last] = Part::new(4, &sealed[3].1[..HEADER_LEN], sealed[3].1.len() as u64 - 1).unwrap();
        let short = PartTable::new(ChunkSize::C2SP, &short_list).unwrap();
        assert_eq!(key.multipart(&short).unwrap_err(), Error::Authentication);

        // Another upload of the same object, same part numbers.
        let (state2, sealed2) = upload(enc, &object, &parts, SealOptions::default(), 22);
        // Completing with another upload's part: refused (it is not this upload's stream).
        assert_eq!(
            complete(&state, enc, &object, &[all[0], &sealed2[1]]).unwrap_err(),
            Error::Authentication
        );
        // Its part swapped into the body, or into the table: caught.
        let mut mixed = sealed[0].1.clone();
        mixed.extend_from_slice(&sealed2[1].1);
        mixed.extend_from_slice(&sealed[2].1);
        mixed.extend_from_slice(&sealed[3].1);
        assert_eq!(open(&done.table, &mixed), Err(Error::Authentication));
        let mixed_table = PartTable::new(
            ChunkSize::C2SP,
            &[*sealed[0].0.part(), *sealed2[1].0.part(), *sealed[2].0.part(), *sealed[3].0.part()],
        )
        .unwrap();
        assert_eq!(key.multipart(&mixed_table).unwrap_err(), Error::Authentication);
        // The other upload's completed envelope does not open this body.
        let done2 = complete(&state2, enc, &object, &sealed2.iter().collect::<Vec<_>>()).unwrap();
        let key2 = done2.envelope.open(enc, &object).unwrap();
        assert_eq!(key2.multipart(&done.table).unwrap_err(), Error::Authentication);

        // Kinds do not mix.
        assert_eq!(state.open(enc, &object).unwrap_err(), Error::EnvelopeKind);
        assert!(matches!(done.envelope.open_upload(enc, &object), Err(Error::EnvelopeKind)));
        assert_eq!(key.chunk_opener(&body[..HEADER_LEN]).unwrap_err(), Error::EnvelopeKind);
        // The state of another object does not open for this one.
        let elsewhere = ObjectId::new("bucket", "elsewhere");
        assert!(state.open_upload(enc, &elsewhere).is_err());
    }
}

#[test]
fn sse_c_key_is_checked_on_every_part_and_on_completion() {
    let object = ObjectId::new("bkt", "k");
    let headers = [
        ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
        ("x-amz-server-side-encryption-customer-key", "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs="),
        ("x-amz-server-side-encryption-customer-key-MD5", "DWygnHRtgiJ77HCm+1rvHw=="),
    ];
    let customer = CustomerKey::from_headers(&headers).unwrap().unwrap();
    let (state, sealed) = upload(&customer, &object, &numbered(&[1000, 1000]), SealOptions::default(), 31);
    // Another customer key on UploadPart or Complete: the key check says no.
    let other = CustomerKey::from_bytes([1; 32]);
    assert!(matches!(state.open_upload(&other, &object), Err(Error::WrongKey)));
    assert_eq!(
        complete(&state, &other, &object, &sealed.iter().collect::<Vec<_>>()).unwrap_err(),
        Error::WrongKey
    );
    // No SSE-C headers on Complete (S3 documents them as optional there): the gateway has only
    // its SSE-S3 keyring to offer, and gets S3's "correct parameters must be provided".
    let err = complete(&state, &keyring(), &object, &sealed.iter().collect::<Vec<_>>()).unwrap_err();
    assert_eq!(err, Error::SchemeMismatch { envelope: Scheme::SseC, presented: Scheme::SseS3 });
    let response = err.s3_response(WrongKeyStatus::AccessDenied);
    assert_eq!((response.status, &*response.code), (400, "InvalidRequest"));
    // SSE-C headers on a part of an SSE-S3 upload: "not applicable".
    let (s3_state, _) = upload(&keyring(), &object, &numbered(&[10]), SealOptions::default(), 32);
    let err = s3_state.open_upload(&customer, &object).unwrap_err();
    let response = err.s3_response(WrongKeyStatus::AccessDenied);
    assert_eq!((response.status, &*response.code), (400, "InvalidRequest"));
    assert!(response.message.contains("not applicable"), "{}", response.message);
    // With the right key, it completes and opens.
    let done = complete(&state, &customer, &object, &sealed.iter().collect::<Vec<_>>()).unwrap();
    assert_eq!(done.envelope.open(&other, &object).unwrap_err(), Error::WrongKey);
    assert!(done.envelope.open(&customer, &object).unwrap().multipart(&done.table).is_ok());
}

#[test]
fn s3_errors_for_part_lists() {
    let r = Error::InvalidPartOrder.s3_response(WrongKeyStatus::AccessDenied);
    assert_eq!((r.status, &*r.code), (400, "InvalidPartOrder"));
    let r = Error::InvalidPart.s3_response(WrongKeyStatus::AccessDenied);
    assert_eq!((r.status, &*r.code), (400, "InvalidPart"));
}

#[test]
fn part_number_reads_and_head_sizes() {
    let object = ObjectId::new("bucket", "parts");
    let ring = keyring();
    let parts = vec![(1, pattern(C + 5)), (4, Vec::new()), (9, pattern(3 * C))];
    let (state, sealed) = upload(&ring, &object, &parts, SealOptions::default(), 41);
    let done = complete(&state, &ring, &object, &sealed.iter().collect::<Vec<_>>()).unwrap();
    let body = concat(&sealed.iter().collect::<Vec<_>>());
    // HEAD: the plaintext length, in the envelope (authenticated once it opens).
    assert_eq!(done.envelope.unverified_plaintext_len(), (4 * C + 5) as u64);
    let key = done.envelope.open(&ring, &object).unwrap();
    assert_eq!(key.plaintext_len(), (4 * C + 5) as u64);
    assert_eq!(key.body_len(), Err(Error::EnvelopeKind));
    let mp = key.multipart(&done.table).unwrap();
    assert_eq!(mp.stored_len(), body.len() as u64);
    assert_eq!(mp.part_count(), 3);
    for (i, (n, plain)) in parts.iter().enumerate() {
        let info = mp.part_by_number(*n).unwrap();
        assert_eq!(info.index, i);
        assert_eq!(info.plaintext.end - info.plaintext.start, plain.len() as u64);
        assert_eq!(info.stored.end - info.stored.start, sealed[i].1.len() as u64);
        let mut opener = mp.part_opener(*n).unwrap();
        assert_eq!(opener.stored_range(), info.stored);
        let mut out = Vec::new();
        opener.update(&body[info.stored.start as usize..info.stored.end as usize], &mut out).unwrap();
        opener.finish().unwrap();
        assert_eq!(&out, plain, "part {n}");
    }
    assert!(mp.part_by_number(2).is_none());
    assert_eq!(mp.part_opener(2).unwrap_err(), Error::InvalidPart);
    // A part's bytes fed to another part's opener do not open.
    let info = mp.part_by_number(1).unwrap();
    let mut opener = mp.part_opener(9).unwrap();
    let r = opener.update(&body[info.stored.start as usize..info.stored.end as usize], &mut Vec::new());
    assert_eq!(r, Err(Error::Authentication));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ranges_across_parts_match_the_model(
        sizes in proptest::collection::vec(prop_oneof![Just(0usize), Just(C), 1usize..3 * C + 7], 1..6),
        a_frac in 0.0f64..1.0,
        len_frac in 0.0f64..1.0,
        split in 1usize..5000,
        suffix in any::<bool>(),
    ) {
        let total: usize = sizes.iter().sum();
        prop_assume!(total > 0);
        let object = ObjectId::new("bucket", "ranges");
        let ring = keyring();
        let parts = numbered(&sizes);
        let expected: Vec<u8> = parts.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        let (state, sealed) = upload(&ring, &object, &parts, SealOptions::default(), 51);
        let all: Vec<_> = sealed.iter().collect();
        let done = complete(&state, &ring, &object, &all).unwrap();
        let body = concat(&all);
        let mp = done.envelope.open(&ring, &object).unwrap().multipart(&done.table).unwrap();
        let total = expected.len() as u64;
        let range = if suffix {
            let n = ((len_frac * total as f64) as u64).max(1);
            let r = ByteRange::Suffix(n).resolve(total).unwrap();
            prop_assert_eq!(r.clone(), total - n..total);
            r
        } else {
            let a = ((a_frac * total as f64) as u64).min(total - 1);
            let len = ((len_frac * (total - a) as f64) as u64).max(1);
            a..a + len
        };
        let plan = mp.plan_range(range.clone()).unwrap();
        let sizes_u64: Vec<u64> = parts.iter().map(|(_, p)| p.len() as u64).collect();
        let (start, end) = common::parts_model::model_plan(C as u128, &sizes_u64, range.start, range.end);
        prop_assert_eq!(u128::from(plan.stored.start), start);
        prop_assert_eq!(u128::from(plan.stored.end), end);
        let mut opener = mp.range_opener(range.clone()).unwrap();
        prop_assert_eq!(opener.stored_range(), plan.stored.clone());
        let mut out = Vec::new();
        for piece in body[plan.stored.start as usize..plan.stored.end as usize].chunks(split) {
            opener.update(piece, &mut out).unwrap();
        }
        opener.finish().unwrap();
        prop_assert_eq!(&out[..], &expected[range.start as usize..range.end as usize]);
    }

    /// Planning alone (no sealing), at sizes up to the format's limits.
    #[test]
    fn part_plans_match_the_model_at_any_size(
        log2 in 14u8..=20,
        sizes in proptest::collection::vec(prop_oneof![Just(0u64), 1u64..5_000_000, any::<u64>().prop_map(|s| s >> 16)], 1..40),
        a in any::<u64>(),
        b in any::<u64>(),
        small in any::<bool>(),
    ) {
        let cs = ChunkSize::from_log2(log2).unwrap();
        let total: u64 = sizes.iter().fold(0u64, |t, &s| t.saturating_add(s));
        let (a, b) = if small && total > 0 { (a % total, b % (total + 1)) } else { (a, b) };
        common::parts_model::check_parts_plan(cs, &sizes, a, b);
    }
}

#[test]
fn byte_ranges_resolve_as_http_does() {
    assert_eq!(ByteRange::FromTo(0, 0).resolve(10), Ok(0..1));
    assert_eq!(ByteRange::FromTo(5, 100).resolve(10), Ok(5..10));
    assert_eq!(ByteRange::FromTo(10, 12).resolve(10), Err(Error::InvalidRange));
    assert_eq!(ByteRange::FromTo(3, 2).resolve(10), Err(Error::InvalidRange));
    assert_eq!(ByteRange::From(9).resolve(10), Ok(9..10));
    assert_eq!(ByteRange::From(10).resolve(10), Err(Error::InvalidRange));
    assert_eq!(ByteRange::Suffix(3).resolve(10), Ok(7..10));
    assert_eq!(ByteRange::Suffix(30).resolve(10), Ok(0..10));
    assert_eq!(ByteRange::Suffix(0).resolve(10), Err(Error::InvalidRange));
    assert_eq!(ByteRange::Suffix(5).resolve(0), Err(Error::InvalidRange));
    assert_eq!(ByteRange::FromTo(0, u64::MAX).resolve(u64::MAX), Ok(0..u64::MAX));
}

#[test]
fn etags_follow_s3() {
    let object = ObjectId::new("bucket", "etags");
    let options = SealOptions { md5: true, ..SealOptions::default() };
    // SSE-S3 parts: the plaintext MD5 (RFC 1321 test suite values).
    let parts = vec![(1, b"abc".to_vec()), (2, Vec::new()), (3, b"message digest".to_vec())];
    let (_, sealed) = upload(&keyring(), &object, &parts, options, 61);
    let hex: Vec<String> = sealed.iter().map(|(p, _)| p.etag().to_string()).collect();
    assert_eq!(
        hex,
        [
            "900150983cd24fb0d6963f7d28e17f72",
            "d41d8cd98f00b204e9800998ecf8427e",
            "f96b697d7cb7938d525a2f31aaf161d0"
        ]
    );
    assert_eq!(sealed[0].0.plaintext_md5().map(|m| m[0]), Some(0x90));
    // The multipart ETag: hex(MD5(binary part MD5s)) "-3"; the value was computed independently
    // with Python's hashlib over the three digests above.
    let etags: Vec<ETag> = sealed.iter().map(|(p, _)| p.etag()).collect();
    let whole = ETag::multipart(&etags).unwrap();
    assert_eq!(whole.to_string(), "ba86073fc20eee44d1fafee5b7c09277-3");
    assert_eq!(whole.part_count(), Some(3));
    assert_eq!(ETag::multipart(&[]).unwrap_err(), Error::InvalidPart);
    assert_eq!(ETag::multipart(&[whole]).unwrap_err(), Error::InvalidPart);

    // SSE-C and SSE-KMS: not the MD5, and another upload of the same bytes gets another ETag.
    for mode in Mode::all(&object).into_iter().skip(1) {
        let enc = mode.encryptor();
        let (_, a) = upload(enc, &object, &parts, options, 62);
        let (_, b) = upload(enc, &object, &parts, options, 63);
        for i in 0..3 {
            assert_ne!(a[i].0.etag().to_string(), hex[i]);
            assert_ne!(a[i].0.etag(), b[i].0.etag());
            assert_eq!(a[i].0.plaintext_md5(), sealed[i].0.plaintext_md5());
        }
    }
    // Without MD5, every upload of a part has its own ETag.
    let (_, plain) = upload(&keyring(), &object, &parts, SealOptions::default(), 64);
    assert!(plain[0].0.plaintext_md5().is_none());
    assert_ne!(plain[0].0.etag().to_string(), hex[0]);
}

#[test]
fn copy_of_a_multipart_object_rewrites_only_the_envelope() {
    let src = ObjectId::new("bucket", "src");
    let dst = ObjectId::new("other-bucket", "dst");
    let ring = keyring();
    let parts = numbered(&[C + 3, 77]);
    let expected: Vec<u8> = parts.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let (state, sealed) = upload(&ring, &src, &parts, SealOptions::default(), 71);
    let all: Vec<_> = sealed.iter().collect();
    let done = complete(&state, &ring, &src, &all).unwrap();
    let body = concat(&all);
    let table = done.table.to_bytes();
    let customer = CustomerKey::from_bytes([9; 32]);
    let kms = local_kms();
    let kms_key = SseKms::new("alias/mp").unwrap().generate_key(&kms, &dst).unwrap();
    let targets: [(&dyn Encryptor, &str); 3] =
        [(&ring, "sse-s3"), (&customer, "sse-c"), (&kms_key, "sse-kms")];
    for (to, name) in targets {
        let copied = done.envelope.reseal((&ring, &src), (to, &dst), &mut TestRng(72)).unwrap();
        assert_eq!(copied.part_count(), Some(2), "{name}");
        assert_eq!(open_all(to, &dst, &copied, &table, &body, 5000).unwrap(), expected, "{name}");
        assert_eq!(copied.open(to, &src).unwrap_err(), Error::Authentication, "{name}");
    }
}

#[cfg(feature = "parallel")]
#[test]
fn parallel_part_sealing_is_byte_identical() {
    let object = ObjectId::new("bucket", "parallel");
    let ring = keyring();
    let (upload, _) =
        Upload::create(SealOptions { md5: true, ..SealOptions::default() }, &ring, &object, &mut TestRng(1))
            .unwrap();
    for len in [0, 1, C, 40 * C + 3] {
        let plain = pattern(len);
        let (p, body) = upload.seal_part_parallel(3, &plain, &mut TestRng(len as u64 + 5)).unwrap();
        let mut sealer = upload.part_sealer(3, &mut TestRng(len as u64 + 5)).unwrap();
        let mut seq = Vec::new();
        sealer.update(&plain, &mut seq).unwrap();
        let q = sealer.finish(&mut seq).unwrap();
        assert_eq!(body, seq);
        assert_eq!(p, q);
    }
}

#[test]
fn single_part_etags() {
    let object = ObjectId::new("bucket", "single");
    let md5 = SealOptions { md5: true, ..SealOptions::default() };
    let seal = |enc: &dyn Encryptor, options: SealOptions, seed: u64| {
        let mut rng = TestRng(seed);
        let mut sealer = ObjectSealer::new(options, &mut rng).unwrap();
        let mut body = Vec::new();
        sealer.update(b"abc", &mut body).unwrap();
        sealer.finish_with_etag(&mut body, enc, &object, &mut rng).unwrap().1
    };
    // SSE-S3: the MD5 of "abc" (RFC 1321).
    assert_eq!(seal(&keyring(), md5, 1).to_string(), "900150983cd24fb0d6963f7d28e17f72");
    for mode in Mode::all(&object) {
        let enc = mode.encryptor();
        let (a, b) = (seal(enc, SealOptions::default(), 2), seal(enc, SealOptions::default(), 3));
        assert_ne!(a, b, "a fresh data key, a fresh ETag");
        assert_ne!(a.to_string(), "900150983cd24fb0d6963f7d28e17f72");
        if enc.scheme() != Scheme::SseS3 {
            assert_ne!(seal(enc, md5, 4).to_string(), "900150983cd24fb0d6963f7d28e17f72");
        }
    }
}

/// Seals `plain` as a single-part object under `enc`.
fn single(enc: &dyn Encryptor, object: &ObjectId<'_>, plain: &[u8]) -> (Envelope, Vec<u8>) {
    common::seal_object(enc, object, plain, SealOptions::default(), 81)
}

#[test]
fn upload_part_copy_from_single_and_multipart_sources_of_every_mode() {
    let dst = ObjectId::new("bucket", "copy-dst");
    let src = ObjectId::new("bucket", "copy-src");
    let plain = pattern(5 * C + 123);
    for src_mode in Mode::all(&src) {
        let from = src_mode.encryptor();
        // A single-part source and a multipart one, same plaintext.
        let (single_env, single_body) = single(from, &src, &plain);
        let parts = vec![(1, plain[..2 * C + 7].to_vec()), (2, plain[2 * C + 7..].to_vec())];
        let (state, sealed) = upload(from, &src, &parts, SealOptions::default(), 82);
        let all: Vec<_> = sealed.iter().collect();
        let mp_done = complete(&state, from, &src, &all).unwrap();
        let mp_body = concat(&all);
        let single_key = single_env.open(from, &src).unwrap();
        let mp = mp_done.envelope.open(from, &src).unwrap().multipart(&mp_done.table).unwrap();

        for dst_mode in Mode::all(&dst) {
            let to = dst_mode.encryptor();
            let (target, target_state) =
                Upload::create(SealOptions::default(), to, &dst, &mut TestRng(83)).unwrap();
            let ranges = [
                0..plain.len() as u64,
                1..2,
                C as u64 - 3..3 * C as u64 + 5,
                2 * C as u64 + 7..plain.len() as u64,
            ];
            let mut list = Vec::new();
            let mut bodies = Vec::new();
            let mut expected = Vec::new();
            for (i, range) in ranges.iter().enumerate() {
                let number = 2 * i as u32 + 1;
                // From the single-part source.
                let source: CopySource = if i == 0 {
                    single_key.opener().into()
                } else {
                    single_key
                        .chunk_opener(&single_body[..HEADER_LEN])
                        .unwrap()
                        .open_range(range.clone())
                        .unwrap()
                        .into()
                };
                let mut copier = target.copy_part(number, source, &mut TestRng(84 + i as u64)).unwrap();
                let fetch = copier.source_range().unwrap_or(0..single_body.len() as u64);
                let mut body = Vec::new();
                for piece in single_body[fetch.start as usize..fetch.end as usize].chunks(5000) {
                    copier.update(piece, &mut body).unwrap();
                }
                list.push(*copier.finish(&mut body).unwrap().part());
                bodies.push(body);
                expected.extend_from_slice(&plain[range.start as usize..range.end as usize]);
                // From the multipart source.
                let mut copier = target
                    .copy_part(
                        number + 1,
                        mp.range_opener(range.clone()).unwrap(),
                        &mut TestRng(90 + i as u64),
                    )
                    .unwrap();
                let fetch = copier.source_range().unwrap();
                let mut body = Vec::new();
                copier.update(&mp_body[fetch.start as usize..fetch.end as usize], &mut body).unwrap();
                list.push(*copier.finish(&mut body).unwrap().part());
                bodies.push(body);
                expected.extend_from_slice(&plain[range.start as usize..range.end as usize]);
            }
            let done = target_state.complete_upload(to, &dst, &list, &mut TestRng(95)).unwrap();
            let body: Vec<u8> = bodies.concat();
            let got = open_all(to, &dst, &done.envelope, &done.table.to_bytes(), &body, 3333).unwrap();
            assert!(got == expected, "{:?} -> {:?}", from.scheme(), to.scheme());
        }
        // A damaged source does not become a part; a short one neither.
        let (target, _) = Upload::create(SealOptions::default(), &keyring(), &dst, &mut TestRng(96)).unwrap();
        let mut bad = single_body.clone();
        bad[HEADER_LEN + 10] ^= 1;
        let mut copier = target.copy_part(1, single_key.opener(), &mut TestRng(97)).unwrap();
        assert_eq!(copier.update(&bad, &mut Vec::new()), Err(Error::Authentication));
        let copier = target.copy_part(1, mp.opener(), &mut TestRng(98)).unwrap();
        assert_eq!(copier.finish(&mut Vec::new()).unwrap_err(), Error::Truncated);
    }
}

#[test]
fn hostile_ranged_reads() {
    let object = ObjectId::new("bucket", "hostile-ranges");
    let ring = keyring();
    let parts = numbered(&[2 * C, C + 10, 3 * C]);
    let (state, sealed) = upload(&ring, &object, &parts, SealOptions::default(), 101);
    let all: Vec<_> = sealed.iter().collect();
    let done = complete(&state, &ring, &object, &all).unwrap();
    let body = concat(&all);
    let mp = done.envelope.open(&ring, &object).unwrap().multipart(&done.table).unwrap();
    let range = C as u64 + 5..(4 * C) as u64;
    let plan = mp.plan_range(range.clone()).unwrap();
    assert_eq!(plan.pieces.len(), 3);
    let read = |fetched: &[u8]| -> Result<Vec<u8>, Error> {
        let mut opener = mp.range_opener(range.clone())?;
        let mut out = Vec::new();
        opener.update(fetched, &mut out)?;
        opener.finish()?;
        Ok(out)
    };
    let fetched = &body[plan.stored.start as usize..plan.stored.end as usize];
    assert_eq!(read(fetched).unwrap().len() as u64, range.end - range.start);
    // Every byte of the fetched run matters: part 1's empty final chunk (its range ends on a chunk
    // boundary), part 2's header and chunks, part 3's header and first chunk.
    for at in (0..fetched.len()).step_by(997).chain([C + 16 + 5, C + 32 + 3, fetched.len() - 1]) {
        let mut bad = fetched.to_vec();
        bad[at] ^= 0x80;
        assert_eq!(read(&bad), Err(Error::Authentication), "byte {at}");
    }
    assert_eq!(read(&fetched[..fetched.len() - 1]), Err(Error::Truncated));
    assert_eq!(read(&[fetched, &[0]].concat()), Err(Error::TrailingData));
    // The same range through part 2's older upload: its header is not the table's.
    let again = state.open_upload(&ring, &object).unwrap();
    let mut sealer = again.part_sealer(2, &mut TestRng(102)).unwrap();
    let mut other = Vec::new();
    sealer.update(&parts[1].1, &mut other).unwrap();
    sealer.finish(&mut other).unwrap();
    let swapped = [&sealed[0].1[..], &other, &sealed[2].1].concat();
    assert_eq!(
        read(&swapped[plan.stored.start as usize..plan.stored.end as usize]),
        Err(Error::Authentication)
    );
}

/// The part table and its digest recomputed from `docs/FORMAT.md` §5.3–5.4 alone, byte by byte,
/// and compared with what s3crypt stores.
#[test]
fn part_table_and_digest_follow_the_format() {
    use base64ct::{Base64, Encoding as _};
    use sha2::{Digest as _, Sha256};
    let object = ObjectId::new("examplebucket", "videos/trip.mp4");
    let ring = keyring();
    let parts = vec![(2, pattern(C + 1)), (5, Vec::new()), (7, pattern(3))];
    let (state, sealed) = upload(&ring, &object, &parts, SealOptions::default(), 111);
    let done = complete(&state, &ring, &object, &sealed.iter().collect::<Vec<_>>()).unwrap();
    // "S3PT" ‖ 0x01 ‖ log2(C) ‖ BE32(n) ‖ (BE32(number) ‖ BE64(plaintext length) ‖ header)*
    let mut expected = b"S3PT\x01\x0e".to_vec();
    expected.extend_from_slice(&3u32.to_be_bytes());
    for ((number, plain), (_, body)) in parts.iter().zip(&sealed) {
        expected.extend_from_slice(&number.to_be_bytes());
        expected.extend_from_slice(&(plain.len() as u64).to_be_bytes());
        expected.extend_from_slice(&body[..HEADER_LEN]);
    }
    assert_eq!(done.table.to_bytes(), expected);
    let digest = Sha256::new().chain_update(b"s3crypt/v1 parts\0").chain_update(&expected).finalize();
    let meta = done.envelope.to_metadata();
    let stored = meta.iter().find(|(k, _)| k == "s3crypt-parts-digest").unwrap();
    assert_eq!(stored.1, Base64::encode_string(&digest));
    assert!(meta.contains(&("s3crypt-parts".to_string(), "3".to_string())));
    // In the binary form: tag 15 = BE32(3), tag 16 = the digest, after the other fields.
    let bin = done.envelope.to_binary();
    let tail = [&[15u8, 0, 4, 0, 0, 0, 3][..], &[16, 0, 32], &digest[..]].concat();
    assert!(bin.ends_with(&tail));
}

#[test]
fn per_part_checksums_are_sealed_and_open_only_for_their_part() {
    // S3 reports per-part checksums (ListParts, GetObjectAttributes); stored in clear beside the
    // ciphertext they would let the storage confirm guessed contents, so each part's MD5 and
    // checksum are sealed under the upload's data key, bound to the part number and this upload of
    // the part.
    let object = ObjectId::new("bucket", "part-attributes");
    for mode in Mode::all(&object) {
        let enc = mode.encryptor();
        let parts = numbered(&[2 * C + 3, C, 17]);
        let options =
            SealOptions { md5: true, checksum: Some(ChecksumAlgorithm::Crc64Nvme), ..SealOptions::default() };
        let (state, sealed) = upload(enc, &object, &parts, options, 21);
        let upload_ = state.open_upload(enc, &object).unwrap();
        for ((part, _), (_, plain)) in sealed.iter().zip(&parts) {
            let blob = part.sealed_attributes();
            assert!(!blob.windows(8).any(|w| w == part.checksum().unwrap().value()), "not in clear");
            let opened = upload_.open_part_attributes(part.part(), blob).unwrap();
            assert_eq!(opened.checksum(), Some(Checksum::compute(ChecksumAlgorithm::Crc64Nvme, plain)));
            assert_eq!(opened.plaintext_md5(), part.plaintext_md5());
            assert_eq!(opened.checksum(), part.checksum());
        }
        // Another part's attributes, a flipped bit, a truncated blob: refused.
        let (p1, p2) = (&sealed[0].0, &sealed[1].0);
        assert_eq!(
            upload_.open_part_attributes(p1.part(), p2.sealed_attributes()),
            Err(Error::Authentication)
        );
        let mut flipped = p1.sealed_attributes().to_vec();
        flipped[0] ^= 1;
        assert_eq!(upload_.open_part_attributes(p1.part(), &flipped), Err(Error::Authentication));
        let short = &p1.sealed_attributes()[..p1.sealed_attributes().len() - 1];
        assert_eq!(upload_.open_part_attributes(p1.part(), short), Err(Error::Authentication));
        // An older upload of part 1 (same number, same upload, another salt): its attributes do
        // not open as the current part's.
        let mut rng = TestRng(22);
        let mut again = state
            .open_upload(enc, &object)
            .unwrap()
            .with_checksum(Some(ChecksumAlgorithm::Crc64Nvme))
            .part_sealer(1, &mut rng)
            .unwrap();
        let mut body = Vec::new();
        again.update(b"other bytes", &mut body).unwrap();
        let again = again.finish(&mut body).unwrap();
        assert_eq!(
            upload_.open_part_attributes(p1.part(), again.sealed_attributes()),
            Err(Error::Authentication)
        );
        // Another upload's attributes for the same part number.
        let (_, foreign) = upload(enc, &object, &parts[..1], options, 23);
        assert_eq!(
            upload_.open_part_attributes(p1.part(), foreign[0].0.sealed_attributes()),
            Err(Error::Authentication)
        );

        // After completion, GetObjectAttributes reads them through the authenticated table.
        let list: Vec<&(SealedPart, Vec<u8>)> = sealed.iter().collect();
        let done = complete(&state, enc, &object, &list).unwrap();
        let body = done.envelope.open(enc, &object).unwrap().multipart(&done.table).unwrap();
        for (part, _) in &sealed {
            let n = part.part().number();
            assert_eq!(
                body.part_attributes(n, part.sealed_attributes()).unwrap().checksum(),
                part.checksum()
            );
        }
        assert_eq!(body.part_attributes(2, p1.sealed_attributes()), Err(Error::Authentication));
        assert_eq!(body.part_attributes(1, again.sealed_attributes()), Err(Error::Authentication));
        assert_eq!(body.part_attributes(9, p1.sealed_attributes()), Err(Error::InvalidPart));
    }
}
