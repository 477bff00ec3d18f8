//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::cast_possible_truncation)]

pub mod counting;
pub mod model;
pub mod parts_model;
pub mod s3ec_vectors;
pub mod store;

use core::convert::Infallible;
use s3crypt::{Encryptor, Envelope, Error, ObjectId, ObjectSealer, SealOptions};
use s3crypt::{TryCryptoRng, TryRng};

/// A "generator" that replays fixed bytes, then refuses: the way tests inject a salt, and prove the
/// sealer draws exactly what the format says it draws.
pub struct Replay {
    bytes: Vec<u8>,
    at: usize,
}

impl Replay {
    pub fn new(bytes: &[u8]) -> Self {
        Self { bytes: bytes.to_vec(), at: 0 }
    }

    pub fn exhausted(&self) -> bool {
        self.at == self.bytes.len()
    }
}

#[derive(Debug)]
pub struct Exhausted;

impl core::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("replay generator exhausted")
    }
}

impl core::error::Error for Exhausted {}

impl TryRng for Replay {
    type Error = Exhausted;
    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Exhausted> {
        let end = self.at.checked_add(dst.len()).filter(|&e| e <= self.bytes.len()).ok_or(Exhausted)?;
        dst.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(())
    }
}

impl TryCryptoRng for Replay {}

/// A deterministic xorshift generator for reproducible tests (not cryptographic!).
pub struct TestRng(pub u64);

impl TryRng for TestRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        // Zero is xorshift's fixed point: a seed of 0 (proptest's favourite) would give only zeros.
        let mut x = if self.0 == 0 { 0x9e37_79b9_7f4a_7c15 } else { self.0 };
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        Ok(x)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

/// `n` bytes of a reproducible pattern.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8).collect()
}

/// Seals `msg` as object `object` under `enc` (in uneven pieces); returns the envelope and body.
pub fn seal_object(
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    msg: &[u8],
    options: SealOptions,
    seed: u64,
) -> (Envelope, Vec<u8>) {
    let mut rng = TestRng(seed);
    let mut sealer = ObjectSealer::new(options, &mut rng).unwrap();
    let mut body = Vec::new();
    for piece in msg.chunks(7919) {
        sealer.update(piece, &mut body).unwrap();
    }
    let envelope = sealer.finish(&mut body, enc, object, &mut rng).unwrap();
    (envelope, body)
}

/// Opens `body` of `object` through `envelope` with `enc`, streaming.
pub fn open_object(
    enc: &dyn Encryptor,
    object: &ObjectId<'_>,
    envelope: &Envelope,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    let key = envelope.open(enc, object)?;
    let mut plain = Vec::new();
    let mut opener = key.opener();
    opener.update(body, &mut plain)?;
    opener.finish(&mut plain)?;
    Ok(plain)
}

/// Runs a future that needs no runtime (the KMS stubs answer with ready futures) to completion.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
