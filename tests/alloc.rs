//! Constant memory: once warmed up, sealing and opening allocate nothing per chunk.
//!
//! A counting global allocator, in its own test binary so no other test disturbs the count. (The
//! allocator is the one place in the repository with `unsafe`: `GlobalAlloc` demands it.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
#![allow(unsafe_code)]

use s3crypt::{ChunkOpener, ChunkSealer, ChunkSize, DataKey, HEADER_LEN, Opener, ReusableBuffer, Sealer};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const TOTAL: usize = 8 << 20;

/// Uneven pieces that straddle chunk boundaries.
const PIECE: usize = 10_007;

#[test]
fn streaming_seal_and_open_allocate_nothing_per_chunk() {
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
        let key = DataKey::from_bytes([1; 32]);
        let piece = vec![0x33u8; PIECE];
        let mut rng = getrandom::SysRng;

        let mut sealer = Sealer::new(&key, cs, b"ctx", &mut rng).unwrap();
        let mut out = Vec::with_capacity(2 * cs.sealed_len());
        // Warm up: the first partial chunk allocates the sealer's one buffer.
        sealer.update(&piece, &mut out).unwrap();
        let mut stored = Vec::with_capacity(cs.ciphertext_len(2 * TOTAL as u64).unwrap() as usize);
        stored.extend_from_slice(&out);
        let n = allocations(|| {
            for _ in 0..TOTAL / PIECE {
                out.clear(); // the caller drains its buffer, e.g. to the network
                sealer.update(&piece, &mut out).unwrap();
                stored.extend_from_slice(&out);
            }
            out.clear();
            sealer.finish(&mut out).unwrap();
            stored.extend_from_slice(&out);
        });
        assert_eq!(n, 0, "sealing allocates nothing per chunk");

        let mut opener = Opener::new(&key, cs, b"ctx");
        let mut plain = Vec::with_capacity(2 * cs.sealed_len());
        let mut pieces = stored.chunks(PIECE);
        opener.update(pieces.next().unwrap(), &mut plain).unwrap();
        let n = allocations(|| {
            for p in pieces.by_ref() {
                plain.clear();
                opener.update(p, &mut plain).unwrap();
            }
        });
        assert_eq!(n, 0, "opening allocates nothing per chunk");
        let n = allocations(|| opener.finish(&mut plain).unwrap());
        assert_eq!(n, 0);
    }
}

#[test]
fn in_place_chunks_allocate_nothing_at_all() {
    let cs = ChunkSize::C2SP;
    let key = DataKey::from_bytes([2; 32]);
    let mut buf = vec![0x44u8; 64 * cs.bytes() + 5];
    let mut rng = getrandom::SysRng;
    let mut tags = Vec::with_capacity(65);
    let mut header = [0; HEADER_LEN];
    let n = allocations(|| {
        let (mut sealer, h) = ChunkSealer::new(&key, cs, b"", &mut rng).unwrap();
        header = h;
        let mut chunks = buf.chunks_exact_mut(cs.bytes());
        for c in &mut chunks {
            tags.push(sealer.seal_chunk(c).unwrap());
        }
        tags.push(sealer.seal_final(chunks.into_remainder()).unwrap());
    });
    assert_eq!(n, 0);
    let mut stored = header.to_vec();
    for (c, t) in buf.chunks(cs.bytes()).zip(&tags) {
        stored.extend_from_slice(c);
        stored.extend_from_slice(t);
    }
    let opener = ChunkOpener::new(&key, cs, b"", &header, buf.len() as u64).unwrap();
    let n = allocations(|| {
        for (i, c) in stored[HEADER_LEN..].chunks_mut(cs.sealed_len()).enumerate() {
            let plain = opener.open_chunk_in_place(i as u64, c).unwrap();
            assert!(plain.iter().all(|&b| b == 0x44));
        }
    });
    assert_eq!(n, 0);
}

/// Into a `ReusableBuffer`, whole objects seal and open with no allocation per chunk and no
/// allocation at all for the output once the buffer has reached its size.
#[test]
fn reusable_buffers_allocate_nothing_per_chunk() {
    let cs = ChunkSize::C2SP;
    let key = DataKey::from_bytes([3; 32]);
    let msg = vec![0x55u8; TOTAL];
    let mut rng = getrandom::SysRng;
    let mut sealed = ReusableBuffer::new();
    let mut plain = ReusableBuffer::new();
    let mut once = |sealed: &mut ReusableBuffer, plain: &mut ReusableBuffer| {
        sealed.clear();
        let mut sealer = Sealer::new(&key, cs, b"ctx", &mut rng).unwrap();
        for piece in msg.chunks(PIECE) {
            sealer.update(piece, sealed).unwrap();
        }
        sealer.finish(sealed).unwrap();
        plain.clear();
        let mut opener = Opener::new(&key, cs, b"ctx");
        for piece in sealed.chunks(PIECE) {
            opener.update(piece, plain).unwrap();
        }
        opener.finish(plain).unwrap();
    };
    once(&mut sealed, &mut plain); // the buffers grow to size
    let n = allocations(|| once(&mut sealed, &mut plain));
    // The sealer's and the opener's one chunk buffer each, and the opener's copy of the context:
    // per stream, not per chunk (the stream has 513 chunks).
    assert!(n <= 3, "{n} allocations for a whole object");
    assert_eq!(&plain[..], &msg[..]);
}

/// An opener that has to grow the caller's `Vec` moves it at most once per call (and wipes the
/// allocation it leaves), rather than doubling its way up chunk by chunk.
#[test]
fn openers_grow_a_vec_once_per_call() {
    let cs = ChunkSize::C2SP;
    let key = DataKey::from_bytes([4; 32]);
    let msg = vec![0x66u8; TOTAL];
    let stored = s3crypt::seal(&key, cs, b"ctx", &msg, &mut getrandom::SysRng).unwrap();
    let mut opener = Opener::new(&key, cs, b"ctx");
    let mut plain = Vec::new();
    let n = allocations(|| opener.update(&stored, &mut plain).unwrap());
    // The context copy is made in `new`; here: the output, once (plus the assembler's buffer for
    // the final chunk).
    assert!(n <= 2, "{n} allocations to open {} chunks into an empty Vec", TOTAL / cs.bytes());
    opener.finish(&mut plain).unwrap();
    assert_eq!(plain, msg);
}

/// `seal` and `open` allocate their output once, at its exact size, and nothing else: no chunk
/// buffer, no copy of the final chunk, no growth (at every boundary length, both chunk sizes).
/// Key derivation is measured separately (a backend may allocate its key context).
#[test]
fn whole_buffer_paths_allocate_only_their_exact_output() {
    let key = DataKey::from_bytes([5; 32]);
    for cs in [ChunkSize::C2SP, ChunkSize::KIB_64] {
        let c = cs.bytes();
        let mut rng = getrandom::SysRng;
        let keys = allocations(|| drop(ChunkSealer::new(&key, cs, b"ctx", &mut rng).unwrap()));
        for len in [0, 1, c - 1, c, c + 1, 5 * c + 3] {
            let msg = vec![0x77u8; len];
            let mut stored = Vec::new();
            let n = allocations(|| stored = s3crypt::seal(&key, cs, b"ctx", &msg, &mut rng).unwrap());
            assert_eq!(n, keys + 1, "seal, len {len}: the output and the key context only");
            assert_eq!(stored.capacity(), stored.len());
            let mut plain = Vec::new();
            let n = allocations(|| plain = s3crypt::open(&key, cs, b"ctx", &stored).unwrap());
            // An empty `Vec` allocates nothing.
            assert_eq!(n, keys + u64::from(len > 0), "open, len {len}: the output and the key context only");
            assert_eq!(plain.capacity(), plain.len());
            assert_eq!(plain, msg);
        }
    }
}
