//! The metadata-map envelope decoder never panics; whatever it accepts re-encodes canonically and
//! decodes again to the same value. The input is `name: value` lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::Envelope;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(": ").unwrap_or((l, ""))).collect();
    let Ok(envelope) = Envelope::from_metadata(pairs.iter().copied()) else { return };
    let map = envelope.to_metadata();
    let again = Envelope::from_metadata(map.clone()).expect("canonical output decodes");
    assert_eq!(again, envelope);
    assert_eq!(again.to_metadata(), map);
    assert_eq!(Envelope::from_binary(&envelope.to_binary()).as_ref(), Ok(&envelope));
});
