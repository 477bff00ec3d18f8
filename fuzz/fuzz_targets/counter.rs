//! Fixture helpers shared (with `#[path]`) by the targets that seal a fixture: a deterministic
//! generator (not cryptographic: the fuzzer explores parsing, not randomness), multipart part
//! sealing, and byte edits.
#![allow(dead_code, reason = "each target that includes this module uses only part of it")]

use s3crypt::{Part, Upload};

/// Bytes from a fixed recurrence, starting at the seed.
pub struct Counter(pub u8);

impl s3crypt::TryRng for Counter {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from(self.0))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from(self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

impl s3crypt::TryCryptoRng for Counter {}

/// Seals `plains` as parts 1, 2, … of `upload` (one `update` each) and returns their records.
pub fn seal_parts(upload: &Upload, plains: &[&[u8]], rng: &mut Counter) -> Vec<Part> {
    (1u32..)
        .zip(plains)
        .map(|(number, plain)| {
            let mut sealer = upload.part_sealer(number, rng).unwrap();
            let mut body = Vec::new();
            sealer.update(plain, &mut body).unwrap();
            *sealer.finish(&mut body).unwrap().part()
        })
        .collect()
}

/// Applies `edits` (position modulo the length, xor) to a copy of `bytes`.
pub fn mutate(bytes: &[u8], edits: &[(u16, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, x) in edits {
        if !out.is_empty() {
            let at = usize::from(at) % out.len();
            out[at] ^= x;
        }
    }
    out
}
