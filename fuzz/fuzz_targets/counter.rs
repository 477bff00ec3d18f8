//! A deterministic generator for fuzz fixtures (not cryptographic): the fuzzer explores parsing,
//! not randomness. Shared by the targets that seal a fixture with `#[path]`.

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
