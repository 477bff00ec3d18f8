//! Client-side multipart companions from arbitrary bytes: the decoder never panics and accepts
//! only canonical encodings, and a companion that is not byte-for-byte the one sealed for the
//! object's upload never opens against the object's metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{Envelope, Keyring, ObjectId, Part, PartsCompanion, RootKey, SealOptions, Upload};
use std::sync::OnceLock;

/// A generator for the fixture only (deterministic, not cryptographic).
struct Counter(u8);

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

struct Fixture {
    ring: Keyring,
    state: Envelope,
    companion: Vec<u8>,
}

/// A two-part client-side upload: its state (the object's metadata) and its companion.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ring = Keyring::new("client-1", 1, RootKey::from_bytes([0x21; 32])).unwrap();
        let id = ObjectId::new("bucket", "key");
        let mut rng = Counter(3);
        let (upload, state) = Upload::create(SealOptions::default(), &ring, &id, &mut rng).unwrap();
        let parts: Vec<Part> = [&b"client"[..], b"parts"]
            .iter()
            .enumerate()
            .map(|(i, plain)| {
                let mut sealer = upload.part_sealer(i as u32 + 1, &mut rng).unwrap();
                let mut body = Vec::new();
                sealer.update(plain, &mut body).unwrap();
                *sealer.finish(&mut body).unwrap().part()
            })
            .collect();
        let companion = state.complete_client_upload(&ring, &id, &parts, None, &mut rng).unwrap();
        Fixture { ring, state, companion: companion.to_bytes() }
    })
}

fuzz_target!(|input: (Vec<(u16, u8)>, Vec<u8>)| {
    let (edits, raw) = input;
    let f = fixture();
    let id = ObjectId::new("bucket", "key");

    // Arbitrary bytes: canonical or rejected.
    if let Ok(companion) = PartsCompanion::from_bytes(&raw) {
        assert_eq!(companion.to_bytes(), raw, "the companion encoding is canonical");
        assert!(f.state.open_client_multipart(&f.ring, &id, &companion).is_err() || raw == f.companion);
    }

    // The genuine companion, edited: only the unmodified one opens.
    let mut bytes = f.companion.clone();
    for &(at, x) in &edits {
        let at = usize::from(at) % bytes.len();
        bytes[at] ^= x;
    }
    if let Ok(companion) = PartsCompanion::from_bytes(&bytes) {
        let opened = f.state.open_client_multipart(&f.ring, &id, &companion);
        assert_eq!(opened.is_ok(), bytes == f.companion, "{opened:?}");
    }
});
