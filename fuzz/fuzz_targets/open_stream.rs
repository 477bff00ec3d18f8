//! The streaming opener, fed arbitrary bytes in arbitrary pieces, never panics and never releases a
//! byte that did not authenticate.
//!
//! Two oracles, picked by the first input byte:
//! - raw: the input is the stored stream (the seeds are the Wycheproof vectors, under their key).
//!   Whatever the streaming opener releases must be exactly what random-access opening of the same
//!   chunks yields, whole chunks only unless it succeeded, and it must agree with one-shot opening.
//! - sealed: the input describes a message, a seed and mutations; the stream is sealed here, mutated,
//!   and what the opener releases must be a prefix of the message (all of it only on success).
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{ChunkOpener, ChunkSize, DataKey, Error, HEADER_LEN, Opener, TryCryptoRng, TryRng};

/// The Wycheproof Cobblestone key, so that the vectors are meaningful seeds.
const KEY: [u8; 32] = *b"YELLOW SUBMARINE YELLOW SUBMARIN";

fn cut(data: &[u8], splits: &[u8]) -> Vec<usize> {
    let mut at = 0usize;
    let mut cuts = Vec::new();
    for s in splits {
        at = at.saturating_add(usize::from(*s) * 97 + 1);
        if at >= data.len() {
            break;
        }
        cuts.push(at);
    }
    cuts
}

/// Streams `stored` in pieces; returns what was released and the outcome.
fn stream(key: &DataKey, cs: ChunkSize, stored: &[u8], splits: &[u8]) -> (Vec<u8>, Result<(), Error>) {
    let mut opener = Opener::new(key, cs, b"");
    let mut out = Vec::new();
    let mut at = 0;
    for c in cut(stored, splits).into_iter().chain([stored.len()]) {
        if let Err(e) = opener.update(&stored[at..c], &mut out) {
            let released = out.len();
            assert_eq!(opener.update(b"x", &mut out), Err(e.clone()), "failures are sticky");
            assert_eq!(opener.finish(&mut out), Err(e.clone()));
            assert_eq!(out.len(), released);
            return (out, Err(e));
        }
        at = c;
    }
    let r = opener.finish(&mut out);
    (out, r)
}

fn raw(splits: &[u8], stored: &[u8]) {
    let key = DataKey::from_bytes(KEY);
    let cs = ChunkSize::C2SP;
    let (released, result) = stream(&key, cs, stored, splits);
    let whole = s3crypt::open(&key, cs, b"", stored);
    match &result {
        Ok(()) => assert_eq!(whole.as_ref(), Ok(&released)),
        Err(_) => {
            assert!(whole.is_err());
            assert_eq!(released.len() % cs.bytes(), 0, "only whole, authenticated chunks");
        }
    }
    // Each released chunk authenticates on its own, at its index.
    if released.is_empty() {
        return;
    }
    let claimed = released.len() as u64 + if result.is_ok() { 0 } else { 1 };
    let opener = ChunkOpener::new(&key, cs, b"", &stored[..HEADER_LEN], claimed).unwrap();
    for (i, plain) in released.chunks(cs.bytes()).enumerate() {
        let start = HEADER_LEN + i * cs.sealed_len();
        let mut sealed = stored[start..start + plain.len() + 16].to_vec();
        assert_eq!(opener.open_chunk_in_place(i as u64, &mut sealed).unwrap(), plain);
    }
}

struct Seeded(u64);
impl TryRng for Seeded {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Ok(self.0 >> 11)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}
impl TryCryptoRng for Seeded {}

fn sealed(data: &[u8]) {
    let [len_lo, len_hi, seed, n_mut, rest @ ..] = data else {
        return;
    };
    let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi])) * 3; // up to ~196 KiB
    let msg: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let key = DataKey::from_bytes(KEY);
    let cs = ChunkSize::C2SP;
    let mut stored = s3crypt::seal(&key, cs, b"", &msg, &mut Seeded(u64::from(*seed))).unwrap();
    let original = stored.clone();
    let (muts, splits) = rest.split_at((usize::from(*n_mut) % 8 * 5).min(rest.len()));
    for m in muts.chunks_exact(5) {
        let at = u32::from_le_bytes([m[0], m[1], m[2], 0]) as usize;
        match m[3] % 4 {
            0 => {
                let n = stored.len();
                if n > 0 {
                    stored[at % n] ^= m[4] | 1;
                }
            }
            1 => stored.truncate(at % (original.len() + 1)),
            2 => stored.extend_from_slice(&[m[4]; 17][..usize::from(m[4] % 17) + 1]),
            _ => {
                // Move a whole chunk-sized block elsewhere.
                let s = cs.sealed_len();
                let n = (stored.len().saturating_sub(HEADER_LEN)) / s;
                if n >= 2 {
                    let (a, b) = (at % n, usize::from(m[4]) % n);
                    let block: Vec<u8> = stored[HEADER_LEN + a * s..HEADER_LEN + (a + 1) * s].to_vec();
                    stored[HEADER_LEN + b * s..HEADER_LEN + (b + 1) * s].copy_from_slice(&block);
                }
            }
        }
    }
    let (released, result) = stream(&key, cs, &stored, splits);
    assert_eq!(released[..], msg[..released.len()], "released bytes are the message's own");
    if stored == original {
        assert_eq!(result, Ok(()));
    }
    if result.is_ok() {
        assert_eq!(released, msg);
    }
    // Random access over the (possibly mutated) stream, with the authentic length: whatever a range
    // read releases is the message's own bytes at that offset.
    if msg.is_empty() || stored.len() < HEADER_LEN {
        return;
    }
    let a = usize::from(*seed) * 997 % msg.len();
    let b = (a + usize::from(*n_mut) * 313 + 1).min(msg.len());
    let Ok(opener) = ChunkOpener::new(&key, cs, b"", &stored[..HEADER_LEN], msg.len() as u64) else { return };
    let Ok(mut reader) = opener.open_range(a as u64..b as u64) else { return };
    let plan = reader.plan().clone();
    let end = (plan.ciphertext.end as usize).min(stored.len());
    let fetched = stored.get(plan.ciphertext.start as usize..end).unwrap_or_default();
    let mut out = Vec::new();
    let mut ok = true;
    for piece in fetched.chunks(usize::from(*len_lo) * 64 + 1) {
        if reader.update(piece, &mut out).is_err() {
            ok = false;
            break;
        }
    }
    let finished = ok && reader.finish().is_ok();
    assert_eq!(out[..], msg[a..a + out.len()], "range bytes are the message's own");
    if stored == original {
        assert!(finished && out.len() == b - a, "an untouched stream reads back");
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, n_splits, rest @ ..] = data else {
        return;
    };
    let (splits, stored) = rest.split_at(usize::from(*n_splits % 16).min(rest.len()));
    if mode % 2 == 0 {
        raw(splits, stored);
    } else {
        sealed(rest);
    }
});
