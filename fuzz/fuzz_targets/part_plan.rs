//! Multipart range planning never panics and always agrees with a `u128` model, for any part sizes,
//! chunk size and range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3crypt::ChunkSize;

#[path = "../../tests/common/parts_model.rs"]
mod parts_model;

fuzz_target!(|input: (u8, Vec<u64>, u64, u64)| {
    let (log2, sizes, a, b) = input;
    let Ok(cs) = ChunkSize::from_log2(14 + log2 % 7) else {
        return;
    };
    // Keep most sizes small enough for ranges to land inside the object, some huge.
    let sizes: Vec<u64> =
        sizes.iter().take(64).map(|&s| if s & 1 == 0 { s % 200_000 } else { s >> 12 }).collect();
    parts_model::check_parts_plan(cs, &sizes, a, b);
    let total = sizes.iter().fold(0u64, |t, &s| t.saturating_add(s));
    if total > 0 {
        parts_model::check_parts_plan(cs, &sizes, a % total, b % (total + 1));
    }
});
