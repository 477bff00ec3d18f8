//! s3crypt quickstart, on built-in defaults: no arguments, no files, no network.
//!
//! `cargo run --release --example quickstart`
//!
//! 1. SSE-S3: seal a generated 32 MiB object under a root key, open it, read a range, rotate the
//!    root key (the envelope is re-sealed, the body is not touched).
//! 2. SSE-C: take the key from request headers, seal, refuse a wrong key the way S3 does, and
//!    rotate to a new customer key.
//! 3. SSE-KMS with the built-in local KMS: an encryption context, a KMS round trip per object or
//!    one per bucket with a bucket key, and conversion from SSE-C (the copy matrix).
//! 4. Client-side encryption against an in-memory S3: PutObject with the headers first, a ranged
//!    GET in one request, a rename without download, and a multipart upload with parts sealed in
//!    parallel (one uploaded twice), ranged GETs across parts and a re-key without download.

use s3crypt::{
    CustomerKey, EncryptionContext, Encryptor, Envelope, HEADER_LEN, Keyring, KmsKey, LocalKms, ObjectId,
    ObjectSealer, OsRng, RootKey, SealOptions, SseKms, WrongKeyStatus,
};
use std::time::Instant;

#[path = "common/client_side.rs"]
mod client_side;

const OBJECT_LEN: usize = 32 << 20;
/// How the object arrives: in network-sized pieces that do not line up with chunks.
const PIECE: usize = 61_440;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A stored offset as an index into this in-memory demo.
fn at(n: u64) -> Result<usize> {
    Ok(usize::try_from(n)?)
}

fn gbps(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e9
}

/// Seals `object` as a gateway's PUT handler would; returns the envelope, the body and the best
/// time of three rounds (buffers reused, as a server reuses them).
fn put(enc: &dyn Encryptor, id: &ObjectId<'_>, object: &[u8], body: &mut Vec<u8>) -> Result<(Envelope, f64)> {
    let mut best = f64::MAX;
    let mut envelope = None;
    for _ in 0..3 {
        body.clear();
        let started = Instant::now();
        let mut sealer = ObjectSealer::new(SealOptions::default(), &mut OsRng)?;
        for piece in object.chunks(PIECE) {
            sealer.update(piece, body)?;
        }
        envelope = Some(sealer.finish(body, enc, id, &mut OsRng)?);
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok((envelope.ok_or("no round ran")?, best))
}

/// Opens a stored object as a GET handler would: envelope first, then the body, streamed.
fn get(
    enc: &dyn Encryptor,
    id: &ObjectId<'_>,
    envelope: &Envelope,
    body: &[u8],
    out: &mut Vec<u8>,
) -> Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..3 {
        out.clear();
        let started = Instant::now();
        let key = envelope.open(enc, id)?;
        let mut opener = key.opener();
        for piece in body.chunks(PIECE) {
            opener.update(piece, out)?;
        }
        opener.finish(out)?;
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(best)
}

#[allow(clippy::cast_possible_truncation)] // `i % 251` always fits a byte
fn main() -> Result<()> {
    let object: Vec<u8> = (0..OBJECT_LEN).map(|i| (i % 251) as u8).collect();
    let id = ObjectId::new("example-bucket", "photos/2026/cat.jpg");
    let mut body = Vec::with_capacity(OBJECT_LEN + OBJECT_LEN / 512);
    let mut plain = Vec::with_capacity(OBJECT_LEN);

    println!(
        "AES-256-GCM backend: {} (built in: {:?})",
        s3crypt::Backend::default().name(),
        s3crypt::Backend::ALL.iter().map(|b| b.name()).collect::<Vec<_>>()
    );
    println!("\n== SSE-S3: a {} MiB object under a root key", OBJECT_LEN >> 20);
    let mut keyring = Keyring::new("root-2026-01", 1, RootKey::generate(&mut OsRng)?)?;
    let (envelope, sealed_in) = put(&keyring, &id, &object, &mut body)?;
    let metadata = envelope.to_metadata();
    println!(
        "sealed: {} -> {} body bytes (+{:.3}%) at {:.2} GB/s; envelope: {} bytes of S3 metadata ({} pairs) or {} bytes binary",
        OBJECT_LEN,
        body.len(),
        (body.len() - OBJECT_LEN) as f64 * 100.0 / OBJECT_LEN as f64,
        gbps(OBJECT_LEN, sealed_in),
        envelope.metadata_len(),
        metadata.len(),
        envelope.to_binary().len(),
    );
    for (name, value) in &metadata {
        println!("    x-amz-meta-{name}: {value}");
    }

    // A GET decodes the envelope from the stored metadata and opens the body.
    let stored = Envelope::from_metadata(metadata)?;
    let opened_in = get(&keyring, &id, &stored, &body, &mut plain)?;
    assert!(plain == object, "round trip");
    println!("opened: {} bytes, identical, at {:.2} GB/s", plain.len(), gbps(OBJECT_LEN, opened_in));

    // A ranged GET (`Range: bytes=10000000-10000099`): the header and the chunks the range touches.
    let range = 10_000_000u64..10_000_100;
    let key = stored.open(&keyring, &id)?;
    let mut reader = key.chunk_opener(&body[..HEADER_LEN])?.open_range(range.clone())?;
    let plan = reader.plan().clone();
    let mut part = Vec::new();
    reader.update(&body[at(plan.ciphertext.start)?..at(plan.ciphertext.end)?], &mut part)?;
    reader.finish()?;
    assert_eq!(part, object[at(range.start)?..at(range.end)?]);
    println!(
        "range {}..{}: fetched {} header + {} body bytes ({} chunk), returned {} bytes, identical",
        range.start,
        range.end,
        HEADER_LEN,
        plan.ciphertext.end - plan.ciphertext.start,
        plan.chunk_count,
        part.len()
    );

    // Root key rotation: new objects go under the new key; old envelopes are re-sealed in place.
    keyring.add("root-2026-07", 1, RootKey::generate(&mut OsRng)?)?;
    keyring.activate("root-2026-07", 1)?;
    let started = Instant::now();
    let rotated = keyring.rotate(&stored, &id, &mut OsRng)?;
    let rotate_us = started.elapsed().as_secs_f64() * 1e6;
    get(&keyring, &id, &rotated, &body, &mut plain)?;
    assert!(plain == object);
    println!(
        "rotated root key {}/{} -> {}/{} in {rotate_us:.0} µs, body untouched; the object opens under the new key",
        stored.key_id(),
        stored.key_version(),
        rotated.key_id(),
        rotated.key_version()
    );

    println!("\n== SSE-C: the client's key, from its request headers");
    // What boto3 sends for `SSECustomerKey=<32 raw bytes>` (see tests/ssec.rs).
    let request = [
        ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
        ("x-amz-server-side-encryption-customer-key", "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs="),
        ("x-amz-server-side-encryption-customer-key-MD5", "DWygnHRtgiJ77HCm+1rvHw=="),
    ];
    let customer = CustomerKey::from_headers(&request)?.ok_or("no SSE-C headers")?;
    let (envelope, sealed_in) = put(&customer, &id, &object, &mut body)?;
    println!(
        "sealed at {:.2} GB/s; envelope {} bytes of metadata; response headers: {:?}",
        gbps(OBJECT_LEN, sealed_in),
        envelope.metadata_len(),
        customer.response_headers()
    );
    let opened_in = get(&customer, &id, &envelope, &body, &mut plain)?;
    assert!(plain == object);
    println!("opened with the same key at {:.2} GB/s", gbps(OBJECT_LEN, opened_in));

    let wrong = CustomerKey::generate(&mut OsRng)?;
    let err = get(&wrong, &id, &envelope, &body, &mut plain).err().ok_or("a wrong key must fail")?;
    let s3 = err
        .downcast_ref::<s3crypt::Error>()
        .ok_or("an s3crypt error")?
        .s3_response(WrongKeyStatus::default());
    println!("a wrong key: {err} -> HTTP {} {}: {}", s3.status, s3.code, s3.message);

    // Key rotation, as S3's self-copy with new SSE-C headers: re-seal from the old key to the new.
    let new_key = CustomerKey::generate(&mut OsRng)?;
    let rotated = envelope.reseal((&customer, &id), (&new_key, &id), &mut OsRng)?;
    get(&new_key, &id, &rotated, &body, &mut plain)?;
    assert!(plain == object);
    let refused = get(&customer, &id, &rotated, &body, &mut plain).is_err();
    println!("rotated to a new customer key, body untouched; the old key is now refused: {refused}");

    println!("\n== SSE-KMS: keys from a KMS (here the built-in local one)");
    let mut kms = LocalKms::new(OsRng);
    kms.create_key("alias/photos", RootKey::generate(&mut OsRng)?)?;
    let mut context = EncryptionContext::new();
    context.insert("department", "marketing")?;
    let sse = SseKms::new("alias/photos")?.with_context(context);
    // Convert the SSE-C object to SSE-KMS: one KMS call, the envelope re-sealed, the body untouched.
    let kms_key = sse.generate_key(&kms, &id)?;
    let converted = rotated.reseal((&new_key, &id), (&kms_key, &id), &mut OsRng)?;
    println!(
        "SSE-C -> SSE-KMS under {}: envelope {} bytes of metadata, context {}",
        converted.key_id(),
        converted.metadata_len(),
        converted.kms_context().map(EncryptionContext::canonical_json).unwrap_or_default()
    );
    // A GET asks the KMS to decrypt the stored blob under the stored context.
    let key = KmsKey::for_envelope(&kms, &converted, &id)?;
    let opened_in = get(&key, &id, &converted, &body, &mut plain)?;
    assert!(plain == object);
    println!("opened via the KMS at {:.2} GB/s", gbps(OBJECT_LEN, opened_in));
    // With a bucket key one KMS data key (for the bucket) wraps every object's key.
    let bucket = sse.clone().with_bucket_key(true).generate_key(&kms, &id)?;
    let mut small = Vec::new();
    for i in 0..3 {
        let name = format!("thumbs/{i}.jpg");
        let other = ObjectId::new("example-bucket", &name);
        let mut sealer = ObjectSealer::new(SealOptions::default(), &mut OsRng)?;
        sealer.update(b"thumbnail", &mut small)?;
        let envelope = sealer.finish(&mut small, &bucket, &other, &mut OsRng)?;
        assert!(envelope.bucket_key() && envelope.kms_blob() == Some(bucket.blob()));
    }
    println!("3 objects sealed with one bucket key: 1 GenerateDataKey instead of 3");

    // Tampering is caught: one flipped bit in the stored body.
    body[OBJECT_LEN / 2] ^= 1;
    let tampered = get(&new_key, &id, &rotated, &body, &mut plain).err().ok_or("tampering must fail")?;
    println!("\none flipped bit in the body: {tampered}");

    println!("\n== client-side: sealed before upload, against an in-memory S3");
    client_side::run().map_err(|e| e as Box<dyn std::error::Error>)?;
    Ok(())
}
