//! Multipart range planning recomputed in `u128`: which stored bytes of parts of the given sizes
//! hold a plaintext range. Shared by `tests/multipart.rs` and the `part_plan` fuzz target.

use s3crypt::{ChunkSize, HEADER_LEN, Part, PartTable, TAG_LEN};

/// The stored run `(start, end)` that serves plaintext bytes `a..e` of parts of `sizes` bytes with
/// chunk size `c`, per `docs/FORMAT.md` §5.5.
pub fn model_plan(c: u128, sizes: &[u64], a: u64, e: u64) -> (u128, u128) {
    let (t, h) = (TAG_LEN as u128, HEADER_LEN as u128);
    let stored = |p: u128| h + p + t * (p / c + 1);
    let (a, e) = (u128::from(a), u128::from(e));
    let (mut plain_at, mut stored_at) = (0u128, 0u128);
    let (mut start, mut end) = (0, 0);
    let (mut found_start, mut found_end) = (false, false);
    for &size in sizes {
        let size = u128::from(size);
        if !found_start && a < plain_at + size {
            start = stored_at + h + (a - plain_at) / c * (c + t);
            found_start = true;
        }
        if !found_end && e - 1 < plain_at + size {
            let i = (e - 1 - plain_at) / c;
            end = stored_at + h + i * (c + t) + (size - i * c).min(c) + t;
            found_end = true;
        }
        plain_at += size;
        stored_at += stored(size);
    }
    assert!(found_start && found_end);
    (start, end)
}

/// A part table for parts of `sizes` bytes (numbered 1, 3, 5, …; headers are not checked here).
pub fn table(cs: ChunkSize, sizes: &[u64]) -> Option<PartTable> {
    let parts: Option<Vec<Part>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let number = u32::try_from(2 * i + 1).ok()?;
            Part::new(number, &[i as u8; HEADER_LEN], cs.ciphertext_len(n).ok()?).ok()
        })
        .collect();
    PartTable::new(cs, &parts?).ok()
}

/// Plans `a..b` (ordered) of parts of `sizes` bytes and checks the plan against the model: the
/// stored run, the pieces' contiguity and plaintext, and the part lookups.
pub fn check_parts_plan(cs: ChunkSize, sizes: &[u64], a: u64, b: u64) {
    let Some(table) = table(cs, sizes) else {
        return;
    };
    let total: u128 = sizes.iter().map(|&s| u128::from(s)).sum();
    assert_eq!(u128::from(table.plaintext_len()), total);
    let (start, end) = (a.min(b), a.max(b));
    let plan = table.plan_range(start..end);
    if start == end || u128::from(end) > total {
        assert!(plan.is_err());
        return;
    }
    let plan = plan.unwrap();
    let (s, e) = model_plan(cs.bytes() as u128, sizes, start, end);
    assert_eq!((u128::from(plan.stored.start), u128::from(plan.stored.end)), (s, e));
    assert_eq!(plan.plaintext, start..end);
    // The pieces tile the run and the range, in part order.
    let mut at = plan.stored.start;
    let mut plain = 0u128;
    for (i, piece) in plan.pieces.iter().enumerate() {
        assert_eq!(piece.stored.start, at);
        at = piece.stored.end;
        assert!(piece.stored.start >= piece.part.stored.start && piece.stored.end <= piece.part.stored.end);
        if i > 0 {
            assert_eq!(piece.part.index, plan.pieces[i - 1].part.index + 1);
            assert_eq!(piece.stored.start, piece.part.stored.start, "a later piece starts at its header");
        }
        plain += u128::from(piece.plaintext.end - piece.plaintext.start);
        assert_eq!(table.part(piece.part.index).as_ref(), Some(&piece.part));
        assert_eq!(table.part_by_number(piece.part.number).as_ref(), Some(&piece.part));
    }
    assert_eq!(at, plan.stored.end);
    assert_eq!(plain, u128::from(end - start));
}
