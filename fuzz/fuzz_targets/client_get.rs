//! The client-side GET path never panics on what a store answers (metadata, `Content-Range`,
//! bytes, split anywhere), and whatever it releases is the genuine plaintext: the object is a real
//! one sealed under a fixed key, and the fuzzer may replace or damage any part of the response.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use s3crypt::{
    ByteRange, ChunkSize, ClientGetPlan, ClientKeyring, ClientPutPlan, ClientSealer, EncryptionContext,
    Envelope, ObjectId, RootKey, SealOptions,
};
use std::sync::OnceLock;

#[path = "counter.rs"]
mod counter;
use counter::Counter;

#[derive(Arbitrary, Debug)]
struct Input {
    len: u16,
    /// 0: whole; 1: from-to; 2: from; 3: suffix.
    kind: u8,
    a: u64,
    b: u64,
    /// Extra or replacement metadata pairs.
    metadata: Vec<(String, String)>,
    replace_metadata: bool,
    /// `None`: the store's `Content-Range`.
    content_range: Option<Option<String>>,
    /// `None`: the store's body.
    body: Option<Vec<u8>>,
    flips: Vec<(u32, u8)>,
    cut: Option<u32>,
    split: u16,
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Object lengths around the 16 KiB chunk boundaries: sealing is the slow part of a run, so each
/// object is sealed once and every input reads one of them.
const LENGTHS: [usize; 16] = [
    0, 1, 2, 100, 16_383, 16_384, 16_385, 20_000, 32_767, 32_768, 32_769, 40_000, 49_151, 49_152, 49_153,
    49_999,
];

struct Fixture {
    ring: ClientKeyring,
    /// Per length: the plaintext, the sealed body and the `x-amz-meta-*` headers of its PUT.
    objects: Vec<(Vec<u8>, Vec<u8>, Vec<(String, String)>)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ring =
            ClientKeyring::new("fuzz", 1, RootKey::from_bytes([9; 32]), EncryptionContext::new()).unwrap();
        let object = ObjectId::new("bucket", "key");
        let objects = LENGTHS
            .iter()
            .map(|&len| {
                let msg = plaintext(len);
                let (mut sealer, envelope) =
                    ClientSealer::new(SealOptions::default(), len as u64, &ring, &object, &mut Counter(1))
                        .unwrap();
                let mut body = Vec::new();
                sealer.update(&msg, &mut body).unwrap();
                sealer.finish(&mut body).unwrap();
                let put = ClientPutPlan::new(&envelope).unwrap();
                let metadata =
                    put.headers().iter().filter(|(k, _)| k.starts_with("x-amz-meta-")).cloned().collect();
                (msg, body, metadata)
            })
            .collect();
        Fixture { ring, objects }
    })
}

fuzz_target!(|input: Input| {
    let cs = ChunkSize::C2SP;
    let f = fixture();
    let ring = &f.ring;
    let object = ObjectId::new("bucket", "key");
    let (msg, body, put_metadata) = &f.objects[usize::from(input.len) % LENGTHS.len()];

    let plan = match input.kind % 4 {
        0 => ClientGetPlan::whole(),
        1 => match ClientGetPlan::range(ByteRange::FromTo(input.a.min(input.b), input.a.max(input.b)), cs) {
            Ok(p) => p,
            Err(_) => return,
        },
        2 => match ClientGetPlan::range(ByteRange::From(input.a), cs) {
            Ok(p) => p,
            Err(_) => return,
        },
        _ => match ClientGetPlan::range(ByteRange::Suffix(input.a), cs) {
            Ok(p) => p,
            Err(_) => return,
        },
    };

    // What an honest store answers.
    let total = body.len() as u64;
    let (mut response, mut content_range) = match plan.stored_range().map(|r| r.resolve(total)) {
        None => (body.clone(), None),
        Some(Ok(r)) => (
            body[r.start as usize..r.end as usize].to_vec(),
            Some(format!("bytes {}-{}/{total}", r.start, r.end - 1)),
        ),
        Some(Err(_)) => return, // 416
    };
    let mut metadata = put_metadata.clone();

    // What a hostile one may answer instead.
    if input.replace_metadata {
        metadata.clear();
    }
    metadata.extend(input.metadata);
    if let Some(cr) = input.content_range {
        content_range = cr;
    }
    if let Some(b) = input.body {
        response = b;
    }
    for (at, bit) in input.flips {
        if !response.is_empty() {
            let at = at as usize % response.len();
            response[at] ^= 1 << (bit % 8);
        }
    }
    if let Some(cut) = input.cut {
        response.truncate(cut as usize);
    }

    let Ok(stored) = Envelope::from_metadata(metadata) else { return };
    let Ok(mut reader) = plan.open(&stored, content_range.as_deref(), ring, &object) else { return };
    let range = reader.plaintext_range();
    let mut out = Vec::new();
    // At most about 256 pieces: byte-at-a-time feeding of a 50 KB response costs far more runs
    // than it finds.
    let split = usize::from(input.split).max(response.len() / 256).max(1);
    for piece in response.chunks(split) {
        if reader.update(piece, &mut out).is_err() {
            return;
        }
    }
    if reader.finish(&mut out).is_err() {
        return;
    }
    // Released only if it authenticated: then it is the genuine plaintext of the range.
    assert_eq!(out, msg[range.start as usize..range.end as usize]);
});
