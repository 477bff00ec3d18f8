//! The size arithmetic and the range planner never panic and always agree with a `u128` model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::ChunkSize;

#[path = "../../tests/common/model.rs"]
mod model;

fuzz_target!(|input: (u8, u64, u64, u64)| {
    let (log2, len, a, b) = input;
    let Ok(cs) = ChunkSize::from_log2(14 + log2 % 7) else {
        return;
    };
    model::check_plan(cs, len, a, b);
    // Ranges near the end of the object, where the final chunk is.
    model::check_plan(cs, len, len.saturating_sub(a % 70_000), len.saturating_sub(b % 70_000));
    // Arbitrary stored lengths: either rejected or the exact inverse of `ciphertext_len`.
    if let Ok(plain) = cs.plaintext_len(a) {
        assert_eq!(cs.ciphertext_len(plain), Ok(a));
    }
});
