//! Sealed flexible checksums: known values from independent sources, the combination of part CRCs,
//! and that nothing of them is visible in the envelope.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::{TestRng, pattern};
use proptest::prelude::*;
use s3crypt::{
    Checksum, ChecksumAlgorithm, CustomerKey, Error, Keyring, ObjectId, RootKey, SealOptions, Upload,
};

const ALL: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32c,
    ChecksumAlgorithm::Crc64Nvme,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
];

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn check_values_and_boto3_requests() {
    // The catalogue check values of "123456789" (reveng.sourceforge.io CRC catalogue) and the
    // FIPS 180 "abc" examples.
    let check = [
        (ChecksumAlgorithm::Crc32, &b"123456789"[..], "cbf43926"),
        (ChecksumAlgorithm::Crc32c, b"123456789", "e3069283"),
        (ChecksumAlgorithm::Crc64Nvme, b"123456789", "ae8b14860a799888"),
        (ChecksumAlgorithm::Sha1, b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            ChecksumAlgorithm::Sha256,
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
    ];
    for (algorithm, data, expected) in check {
        assert_eq!(hex(Checksum::compute(algorithm, data).value()), expected, "{algorithm:?}");
    }
    // What boto3 sent with two captured UploadPart requests (x-amz-checksum-crc32).
    let part = Checksum::compute(ChecksumAlgorithm::Crc32, &[b'a'; 1000]);
    assert_eq!(part.header(), ("x-amz-checksum-crc32", "mjjaAw==".to_string()));
    assert_eq!(Checksum::compute(ChecksumAlgorithm::Crc32, &[b'x'; 100]).to_base64(), "Xg5djw==");
    // And the crc32fast crate (an independent CRC-32 implementation) on other data.
    let data = pattern(100_000);
    let mut h = crc32fast::Hasher::new();
    h.update(&data);
    assert_eq!(Checksum::compute(ChecksumAlgorithm::Crc32, &data).value(), h.finalize().to_be_bytes());
    for a in ALL {
        assert_eq!(ChecksumAlgorithm::from_name(a.name()), Some(a));
        assert_eq!(Checksum::compute(a, b"").value().len(), a.value_len());
    }
    assert_eq!(ChecksumAlgorithm::from_name("crc64nvme"), Some(ChecksumAlgorithm::Crc64Nvme));
    assert_eq!(ChecksumAlgorithm::from_name("md5"), None);
}

#[test]
fn composite_checksums_follow_s3() {
    let parts: Vec<Checksum> = [&b"abc"[..], b"", b"123456789"]
        .iter()
        .map(|d| Checksum::compute(ChecksumAlgorithm::Crc32, d))
        .collect();
    let composite = Checksum::composite(&parts).unwrap();
    // CRC-32 of the three big-endian part CRCs, concatenated, computed independently.
    let mut h = crc32fast::Hasher::new();
    for p in &parts {
        h.update(p.value());
    }
    assert_eq!(composite.value(), h.finalize().to_be_bytes());
    assert!(composite.to_base64().ends_with("-3"));
    assert_eq!(composite.part_count(), Some(3));
    assert_eq!(Checksum::composite(&[]).unwrap_err(), Error::InvalidPart);
    assert_eq!(Checksum::composite(&[composite]).unwrap_err(), Error::InvalidPart);
    let mixed = [parts[0], Checksum::compute(ChecksumAlgorithm::Crc32c, b"")];
    assert_eq!(Checksum::composite(&mixed).unwrap_err(), Error::InvalidPart);
    let sha = [Checksum::compute(ChecksumAlgorithm::Sha256, b"x")];
    assert_eq!(Checksum::full_object(&[(sha[0], 1)]).unwrap_err(), Error::InvalidPart);
}

proptest! {
    /// Part CRCs combine into the CRC of the whole object, for any split.
    #[test]
    fn full_object_crcs_combine_from_parts(
        data in proptest::collection::vec(any::<u8>(), 0..5000),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        at.push(0);
        at.push(data.len());
        at.sort_unstable();
        for a in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Crc64Nvme] {
            let parts: Vec<(Checksum, u64)> = at
                .windows(2)
                .map(|w| (Checksum::compute(a, &data[w[0]..w[1]]), (w[1] - w[0]) as u64))
                .collect();
            prop_assert_eq!(Checksum::full_object(&parts).unwrap(), Checksum::compute(a, &data));
        }
    }
}

#[test]
fn checksums_are_sealed_not_stored_in_clear() {
    let object = ObjectId::new("bucket", "checksummed");
    let ring = Keyring::new("root-1", 1, RootKey::from_bytes([4; 32])).unwrap();
    let customer = CustomerKey::from_bytes([5; 32]);
    let data = pattern(70_000);
    for a in ALL {
        for enc in [&ring as &dyn s3crypt::Encryptor, &customer] {
            let options = SealOptions { checksum: Some(a), md5: true, ..SealOptions::default() };
            let (envelope, body) = common::seal_object(enc, &object, &data, options, 7);
            let expected = Checksum::compute(a, &data);
            let key = envelope.open(enc, &object).unwrap();
            assert_eq!(key.checksum(), Some(expected));
            assert!(key.plaintext_md5().is_some());
            // Not in the envelope's metadata or binary form, nor in the body.
            let b64 = expected.to_base64();
            assert!(envelope.to_metadata().iter().all(|(_, v)| !v.contains(&b64)));
            let bin = envelope.to_binary();
            assert!(!bin.windows(a.value_len()).any(|w| w == expected.value()));
            assert!(!body.windows(a.value_len()).any(|w| w == expected.value()));
            // Without the option, none.
            let (plain, _) = common::seal_object(enc, &object, &data, SealOptions::default(), 8);
            assert_eq!(plain.open(enc, &object).unwrap().checksum(), None);
        }
    }
}

#[test]
fn parts_return_their_checksums() {
    let object = ObjectId::new("bucket", "mp-checksums");
    let ring = Keyring::new("root-1", 1, RootKey::from_bytes([4; 32])).unwrap();
    let data = pattern(100_000);
    for a in ALL {
        let options = SealOptions { checksum: Some(a), ..SealOptions::default() };
        let (upload, _) = Upload::create(options, &ring, &object, &mut TestRng(1)).unwrap();
        let mut parts = Vec::new();
        for (i, piece) in data.chunks(33_333).enumerate() {
            let mut sealer = upload.part_sealer(i as u32 + 1, &mut TestRng(2)).unwrap();
            sealer.update(piece, &mut Vec::new()).unwrap();
            let sealed = sealer.finish(&mut Vec::new()).unwrap();
            assert_eq!(sealed.checksum(), Some(Checksum::compute(a, piece)));
            parts.push((sealed.checksum().unwrap(), piece.len() as u64));
        }
        if a.is_crc() {
            assert_eq!(Checksum::full_object(&parts).unwrap(), Checksum::compute(a, &data));
        }
        let composite = Checksum::composite(&parts.iter().map(|(c, _)| *c).collect::<Vec<_>>()).unwrap();
        assert_eq!(composite.part_count(), Some(4));
        // A reopened upload computes them only when told to.
        let none = upload.with_checksum(None).part_sealer(1, &mut TestRng(3)).unwrap();
        assert_eq!(none.finish(&mut Vec::new()).unwrap().checksum(), None);
    }
}

#[test]
fn a_multipart_object_seals_its_checksum() {
    let object = ObjectId::new("bucket", "mp-sealed");
    let ring = Keyring::new("root-1", 1, RootKey::from_bytes([4; 32])).unwrap();
    let data = pattern(50_000);
    for a in [ChecksumAlgorithm::Crc64Nvme, ChecksumAlgorithm::Sha256] {
        let options = SealOptions { checksum: Some(a), ..SealOptions::default() };
        let (upload, state) = Upload::create(options, &ring, &object, &mut TestRng(1)).unwrap();
        let mut parts = Vec::new();
        let mut sums = Vec::new();
        for (i, piece) in data.chunks(20_000).enumerate() {
            let mut sealer = upload.part_sealer(i as u32 + 1, &mut TestRng(i as u64 + 2)).unwrap();
            sealer.update(piece, &mut Vec::new()).unwrap();
            let sealed = sealer.finish(&mut Vec::new()).unwrap();
            parts.push(*sealed.part());
            sums.push((sealed.checksum().unwrap(), sealed.plaintext_len()));
        }
        let whole = if a.is_crc() {
            Checksum::full_object(&sums).unwrap()
        } else {
            Checksum::composite(&sums.iter().map(|(c, _)| *c).collect::<Vec<_>>()).unwrap()
        };
        let done = state
            .complete_upload_with_checksum(&ring, &object, &parts, Some(whole), &mut TestRng(9))
            .unwrap();
        let key = done.envelope.open(&ring, &object).unwrap();
        assert_eq!(key.checksum(), Some(whole));
        if a.is_crc() {
            assert_eq!(whole, Checksum::compute(a, &data));
        } else {
            assert_eq!(key.checksum().unwrap().part_count(), Some(3));
            assert!(key.checksum().unwrap().to_base64().ends_with("-3"));
        }
        let plain = state.complete_upload(&ring, &object, &parts, &mut TestRng(10)).unwrap();
        assert_eq!(plain.envelope.open(&ring, &object).unwrap().checksum(), None);
    }
}
