//! The binary envelope decoder never panics; whatever it accepts re-encodes to the same bytes and
//! decodes again to the same value; opening it with the seeds' keys never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::{CustomerKey, Envelope, Keyring, ObjectId, RootKey};

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::from_binary(data) else { return };
    let bytes = envelope.to_binary();
    assert_eq!(bytes, data, "the binary encoding is canonical");
    assert_eq!(Envelope::from_binary(&bytes).as_ref(), Ok(&envelope));
    let map = envelope.to_metadata();
    assert_eq!(Envelope::from_metadata(map).as_ref(), Ok(&envelope), "both encodings agree");
    // The golden files' keyring and object: the valid seed opens; mutants must fail cleanly.
    let ring = Keyring::new("root-1", 3, RootKey::from_bytes([0x11; 32])).unwrap();
    let object = ObjectId::new("bucket", "key");
    let _ = envelope.open(&ring, &object);
    let _ = envelope.open(&CustomerKey::from_bytes([0x11; 32]), &object);
});
