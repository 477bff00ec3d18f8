//! Multipart upload states and part tables from arbitrary bytes: the decoders never panic, accept
//! only canonical encodings, and an upload state that is not byte-for-byte the sealed one never
//! opens; a table that is not the completed one never passes the envelope's check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{Envelope, Error, Keyring, ObjectId, PartTable, RootKey, SealOptions, Upload};
use std::sync::OnceLock;

#[path = "counter.rs"]
mod counter;
use counter::{Counter, mutate, seal_parts};

struct Fixture {
    ring: Keyring,
    state: Vec<u8>,
    object: Vec<u8>,
    table: Vec<u8>,
}

/// An upload state, and a two-part object completed from it, under the golden files' keyring.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ring = Keyring::new("root-1", 3, RootKey::from_bytes([0x11; 32])).unwrap();
        let id = ObjectId::new("bucket", "key");
        let mut rng = Counter(1);
        let (upload, state) = Upload::create(SealOptions::default(), &ring, &id, &mut rng).unwrap();
        let parts = seal_parts(&upload, &[b"fuzz", b"parts"], &mut rng);
        let done = state.complete_upload(&ring, &id, &parts, &mut rng).unwrap();
        Fixture {
            ring,
            state: state.to_binary(),
            object: done.envelope.to_binary(),
            table: done.table.to_bytes(),
        }
    })
}

fuzz_target!(|input: (Vec<(u16, u8)>, Vec<u8>)| {
    let (edits, raw) = input;
    let f = fixture();
    let id = ObjectId::new("bucket", "key");

    // Arbitrary bytes as a part table: canonical or rejected.
    if let Ok(table) = PartTable::from_bytes(&raw) {
        assert_eq!(table.to_bytes(), raw, "the table encoding is canonical");
    }

    // A mutated upload state: only the unmodified one opens.
    let state = mutate(&f.state, &edits);
    if let Ok(envelope) = Envelope::from_binary(&state) {
        assert_eq!(envelope.to_binary(), state);
        let opened = envelope.open_upload(&f.ring, &id);
        assert_eq!(opened.is_ok(), state == f.state, "{opened:?}");
        // Never as an object.
        assert!(envelope.open(&f.ring, &id).is_err() || !envelope.is_upload_state());
    }

    // A mutated table against the completed object's envelope: only the original passes.
    let object = Envelope::from_binary(&f.object).unwrap();
    let key = object.open(&f.ring, &id).unwrap();
    let table = mutate(&f.table, &edits);
    if let Ok(decoded) = PartTable::from_bytes(&table) {
        let checked = key.multipart(&decoded);
        if table == f.table {
            assert!(checked.is_ok());
        } else {
            assert_eq!(checked.unwrap_err(), Error::Authentication);
        }
    }
});
