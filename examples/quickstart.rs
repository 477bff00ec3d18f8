//! s3crypt quickstart: seal and open a generated object with the streaming core, read a range.
//!
//! `cargo run --release --example quickstart` — no arguments, no files, no network.

use s3crypt::{ChunkOpener, ChunkSize, DataKey, HEADER_LEN, Opener, OsRng, Sealer};
use std::time::Instant;

const OBJECT_LEN: usize = 32 << 20;
/// How the object arrives: in network-sized pieces that do not line up with chunks.
const PIECE: usize = 61_440;

/// A stored offset or length as an index into this in-memory demo.
fn at(n: u64) -> Result<usize, std::num::TryFromIntError> {
    usize::try_from(n)
}

#[allow(clippy::cast_possible_truncation)] // `i % 251` always fits a byte
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let object: Vec<u8> = (0..OBJECT_LEN).map(|i| (i % 251) as u8).collect();
    let chunk_size = ChunkSize::default();
    let context = b"example-bucket\0photos/2026/cat.jpg";

    // One fresh data key per object, from the OS generator.
    let key = DataKey::generate(&mut OsRng)?;
    println!(
        "s3crypt quickstart: {} MiB object, {} KiB chunks",
        OBJECT_LEN >> 20,
        chunk_size.bytes() >> 10
    );

    // Seal, streaming: pieces of any size in, ciphertext appended to our buffer. Best of three
    // rounds into a reused buffer (the first round also pays for faulting the buffer's pages in).
    let mut stored = Vec::with_capacity(at(chunk_size.ciphertext_len(OBJECT_LEN as u64)?)?);
    let mut sealed_in = f64::MAX;
    for _ in 0..3 {
        stored.clear();
        let started = Instant::now();
        let mut sealer = Sealer::new(&key, chunk_size, context, &mut OsRng)?;
        for piece in object.chunks(PIECE) {
            sealer.update(piece, &mut stored)?;
        }
        sealer.finish(&mut stored)?;
        sealed_in = sealed_in.min(started.elapsed().as_secs_f64());
    }
    println!(
        "sealed: {} bytes -> {} bytes stored (+{} bytes, {:.3}%), {:.2} GB/s",
        OBJECT_LEN,
        stored.len(),
        stored.len() - OBJECT_LEN,
        (stored.len() - OBJECT_LEN) as f64 * 100.0 / OBJECT_LEN as f64,
        OBJECT_LEN as f64 / sealed_in / 1e9
    );

    // Open, streaming: only authenticated chunks are released.
    let mut opened = Vec::with_capacity(OBJECT_LEN);
    let mut opened_in = f64::MAX;
    for _ in 0..3 {
        opened.clear();
        let started = Instant::now();
        let mut opener = Opener::new(&key, chunk_size, context);
        for piece in stored.chunks(PIECE) {
            opener.update(piece, &mut opened)?;
        }
        opener.finish(&mut opened)?;
        opened_in = opened_in.min(started.elapsed().as_secs_f64());
    }
    assert!(opened == object, "round trip");
    println!(
        "opened: {} bytes, identical, {:.2} GB/s",
        opened.len(),
        OBJECT_LEN as f64 / opened_in / 1e9
    );

    // A ranged read, as for `Range: bytes=10000000-10000099`: fetch the header and the chunks the
    // range touches, authenticate them, keep exactly the requested bytes.
    let range = 10_000_000u64..10_000_100;
    let reader = ChunkOpener::new(
        &key,
        chunk_size,
        context,
        &stored[..HEADER_LEN],
        OBJECT_LEN as u64,
    )?;
    let mut reader = reader.open_range(range.clone())?;
    let plan = reader.plan().clone();
    let mut part = Vec::new();
    reader.update(
        &stored[at(plan.ciphertext.start)?..at(plan.ciphertext.end)?],
        &mut part,
    )?;
    reader.finish()?;
    assert_eq!(part, object[at(range.start)?..at(range.end)?]);
    println!(
        "range {}..{}: fetched header + bytes {}..{} ({} chunk(s)), returned {} bytes, identical",
        range.start,
        range.end,
        plan.ciphertext.start,
        plan.ciphertext.end,
        plan.chunk_count,
        part.len()
    );

    // Tampering is caught: flip one bit in the middle of the stored object.
    let mut tampered = stored.clone();
    tampered[stored.len() / 2] ^= 1;
    let result = s3crypt::open(&key, chunk_size, context, &tampered);
    println!("one flipped bit: {:?}", result.map(|_| ()));
    Ok(())
}
