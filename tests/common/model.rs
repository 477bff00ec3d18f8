//! The size formulas and the range planner recomputed in `u128`, where nothing can overflow.
//! Shared by the integration tests and the `range_plan` fuzz target.

use s3crypt::{ChunkSize, HEADER_LEN, TAG_LEN};

/// Checks every size function and the plan of `a..b` (ordered) against the model.
pub fn check_plan(cs: ChunkSize, len: u64, a: u64, b: u64) {
    let c = cs.bytes() as u128;
    let (l, t, h) = (len as u128, TAG_LEN as u128, HEADER_LEN as u128);
    let chunks = l / c + 1;
    // At most 2^52 plaintext bytes per stream: 2^38 chunks at 16 KiB, fewer for larger chunks.
    let fits = chunks <= (1u128 << 52) / c;
    assert_eq!(cs.chunk_count(len).ok().map(u128::from), fits.then_some(chunks));
    let ct = h + l + chunks * t;
    assert_eq!(cs.ciphertext_len(len).ok().map(u128::from), fits.then_some(ct));
    if fits {
        assert_eq!(cs.plaintext_len(ct as u64), Ok(len), "inverse");
    }
    let (start, end) = (a.min(b), a.max(b));
    let plan = cs.plan_range(len, start..end);
    if !fits || start == end || end > len {
        assert!(plan.is_err());
        return;
    }
    let plan = plan.unwrap();
    let (s, e) = (start as u128, end as u128);
    let first = s / c;
    let last = (e - 1) / c;
    let last_len = (l - last * c).min(c);
    assert_eq!(plan.first_chunk as u128, first);
    assert_eq!(plan.chunk_count as u128, last - first + 1);
    assert_eq!(plan.ciphertext.start as u128, h + first * (c + t));
    assert_eq!(plan.ciphertext.end as u128, h + last * (c + t) + last_len + t);
    assert_eq!(plan.skip as u128, s - first * c);
    assert_eq!(plan.len as u128, e - s);
}
