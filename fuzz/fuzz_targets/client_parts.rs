//! Client-side multipart companions from arbitrary bytes: the decoder never panics and accepts
//! only canonical encodings, and a companion that is not byte-for-byte the one sealed for the
//! object's upload never opens against the object's metadata. A GET planned from the genuine
//! companion, answered with an arbitrary `Content-Range`, is refused or exactly the planned window.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{
    ByteRange, ClientKeyring, EncryptionContext, Envelope, ObjectId, PartsCompanion, RootKey, SealOptions,
    Upload,
};
use std::sync::OnceLock;

#[path = "counter.rs"]
mod counter;
use counter::{Counter, mutate, seal_parts};

struct Fixture {
    ring: ClientKeyring,
    state: Envelope,
    companion: Vec<u8>,
}

/// A two-part client-side upload: its state (the object's metadata) and its companion.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut description = EncryptionContext::new();
        description.insert("fuzz", "client-parts").unwrap();
        let ring = ClientKeyring::new("client-1", 1, RootKey::from_bytes([0x21; 32]), description).unwrap();
        let id = ObjectId::new("bucket", "key");
        let mut rng = Counter(3);
        let (upload, state) = Upload::create(SealOptions::default(), &ring, &id, &mut rng).unwrap();
        let parts = seal_parts(&upload, &[b"client", b"parts"], &mut rng);
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

    // A GET planned from the genuine companion, answered with `raw` as its Content-Range.
    let genuine = PartsCompanion::from_bytes(&f.companion).unwrap();
    let range = edits.first().map(|&(a, b)| {
        let first = u64::from(a % 64);
        ByteRange::FromTo(first, first + u64::from(b))
    });
    if let (Ok(plan), Ok(text)) = (genuine.plan_get(range), std::str::from_utf8(&raw)) {
        let metadata = f.state.to_metadata();
        if let Ok(opener) = plan.opener(metadata, Some(text), &f.ring, &id, &genuine) {
            assert_eq!(opener.stored_range(), plan.stored);
        }
    }

    // The genuine companion, edited: only the unmodified one opens.
    let bytes = mutate(&f.companion, &edits);
    if let Ok(companion) = PartsCompanion::from_bytes(&bytes) {
        let opened = f.state.open_client_multipart(&f.ring, &id, &companion);
        assert_eq!(opened.is_ok(), bytes == f.companion, "{opened:?}");
    }
});
