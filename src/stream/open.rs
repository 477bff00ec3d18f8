//! Opening: the streaming opener, the random-access chunk opener and the range opener.
//!
//! Plaintext is appended to the caller's buffer only after its chunk has authenticated. When a chunk
//! fails, whatever was appended for it is wiped and removed, and the opener stays failed.

use super::StreamParams;
use super::aead::{TAG_LEN, Tag};
use super::kdf::StreamKeys;
use super::layout::{COMMITMENT_LEN, ChunkSize, HEADER_LEN, RangePlan, SALT_LEN};
use crate::buffer::{OutputBuffer, Scratch, discard_from, grow, reserve_wiping};
use crate::error::{Error, Result};
use crate::keys::DataKey;
use core::ops::Range;
use zeroize::Zeroize;

/// Derives a stream's keys from its header and checks the key commitment.
pub(crate) fn keys_from_header(
    key: &DataKey,
    params: StreamParams,
    context: &[u8],
    header: &[u8],
) -> Result<StreamKeys> {
    if header.len() != HEADER_LEN {
        return Err(Error::Truncated);
    }
    let (salt, commitment) = header.split_at(SALT_LEN);
    let salt: &[u8; SALT_LEN] = salt.try_into().map_err(|_| Error::Truncated)?;
    let keys = StreamKeys::derive(key, params, salt, context)?;
    keys.verify_commitment(&commitment[..COMMITMENT_LEN])?;
    Ok(keys)
}

/// Runs one step of an opener whose failures are sticky: after the first error, `failed` holds it
/// and every later step returns it again without running.
pub(crate) fn sticky(failed: &mut Option<Error>, step: impl FnOnce() -> Result<()>) -> Result<()> {
    if let Some(e) = failed {
        return Err(e.clone());
    }
    let result = step();
    if let Err(e) = &result {
        *failed = Some(e.clone());
    }
    result
}

/// Splits a sealed chunk into ciphertext and tag.
///
/// The tag is borrowed where it lies, not copied out: copying it would load the chunk's last cache
/// line before the cipher streams the chunk from its first, a miss to memory per chunk that stalls
/// the core (7–10% of the opening time at 64 MiB in 16 KiB chunks with aws-lc). Borrowed, it is
/// read by the library after the ciphertext, from a line the stream has just brought in.
fn split_tag(sealed: &[u8]) -> Result<(&[u8], &Tag)> {
    let at = sealed.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
    let (ciphertext, tag) = sealed.split_at(at);
    Ok((ciphertext, tag.try_into().map_err(|_| Error::Truncated)?))
}

/// Opens sealed chunk `index` into `out`, keeping only the plaintext bytes in `keep`.
///
/// The plaintext is decrypted straight from `sealed` into `out`, in one pass (into a `Vec` the slot
/// is zeroed first, in cache); on failure whatever was appended is wiped and removed.
fn open_into<B: OutputBuffer + ?Sized>(
    keys: &StreamKeys,
    index: u64,
    sealed: &[u8],
    keep: Range<usize>,
    out: &mut B,
) -> Result<()> {
    let (ciphertext, tag) = split_tag(sealed)?;
    let start = out.len();
    let slot = grow(out, ciphertext.len());
    if let Err(e) = keys.aead.open_to(&keys.nonce(index), ciphertext, tag, slot) {
        discard_from(out, start);
        return Err(e);
    }
    if keep != (0..ciphertext.len()) {
        let kept = keep.len();
        out.tail_mut(start).copy_within(keep, 0);
        discard_from(out, start + kept);
    }
    Ok(())
}

/// Collects input pieces into sealed chunks, without copying whole chunks that arrive in one piece.
struct Assembler {
    scratch: Scratch,
    /// The buffered bytes form a piece that was handed out and consumed.
    consumed: bool,
}

/// A completed piece: borrowed from the caller's input, or the assembler's buffered bytes.
enum Piece<'i> {
    Direct(&'i [u8]),
    Buffered,
}

impl Assembler {
    fn new(capacity: usize) -> Self {
        Self { scratch: Scratch::new(capacity), consumed: false }
    }

    /// Takes bytes from `input` until `want` are available: straight from `input` when nothing is
    /// buffered, into the internal buffer otherwise. `None` means `input` is used up first.
    fn next<'i>(&mut self, input: &mut &'i [u8], want: usize) -> Option<Piece<'i>> {
        if self.consumed {
            self.scratch.clear();
            self.consumed = false;
        }
        if self.scratch.filled().is_empty() && input.len() >= want {
            let (chunk, rest) = input.split_at(want);
            *input = rest;
            return Some(Piece::Direct(chunk));
        }
        *input = &input[self.scratch.fill_to(want, input)..];
        self.consumed = self.scratch.filled().len() == want;
        self.consumed.then_some(Piece::Buffered)
    }

    /// The bytes of a completed piece.
    fn get<'a>(&'a self, piece: &Piece<'a>) -> &'a [u8] {
        match *piece {
            Piece::Direct(bytes) => bytes,
            Piece::Buffered => self.scratch.filled(),
        }
    }

    /// The bytes buffered so far.
    fn buffered(&self) -> &[u8] {
        if self.consumed { &[] } else { self.scratch.filled() }
    }
}

// One opener per stream: the variants' size difference costs nothing worth an allocation.
#[allow(clippy::large_enum_variant)]
enum State {
    Header { key: DataKey, context: Box<[u8]> },
    Body { keys: StreamKeys, next: u64 },
    Failed(Error),
}

/// Opens a stream pushed in pieces of any size, appending authenticated plaintext to a caller's
/// buffer.
///
/// A full-size chunk is opened as soon as its last byte arrives (it can never be the final chunk);
/// [`Opener::finish`] opens the final short chunk and reports a stream that stops early. After the
/// first error every call fails again: an opener never resumes past bytes it could not authenticate.
///
/// ```
/// use s3crypt::{ChunkSize, DataKey, Opener, OsRng, seal};
///
/// let key = DataKey::generate(&mut OsRng)?;
/// let stored = seal(&key, ChunkSize::C2SP, b"", &[7; 40_000], &mut OsRng)?;
/// let mut opener = Opener::new(&key, ChunkSize::C2SP, b"");
/// let mut plaintext = Vec::new();
/// for piece in stored.chunks(1000) {
///     opener.update(piece, &mut plaintext)?;
/// }
/// opener.finish(&mut plaintext)?;
/// assert_eq!(plaintext, [7; 40_000]);
/// # Ok::<(), s3crypt::Error>(())
/// ```
pub struct Opener {
    state: State,
    params: StreamParams,
    input: Assembler,
    /// The plaintext length the stream must have (an object's authenticated envelope length).
    expected_len: Option<u64>,
    /// The header the stream must start with (a client-side object's authenticated envelope
    /// records it).
    expected_header: Option<[u8; HEADER_LEN]>,
}

impl core::fmt::Debug for Opener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match &self.state {
            State::Header { .. } => "header",
            State::Body { .. } => "body",
            State::Failed(_) => "failed",
        };
        f.debug_struct("Opener").field("params", &self.params).field("state", &state).finish_non_exhaustive()
    }
}

impl Opener {
    /// Prepares to open a stream sealed under `key` with `params`' chunk size and `context`.
    pub fn new(key: &DataKey, params: impl Into<StreamParams>, context: &[u8]) -> Self {
        let params = params.into();
        Self {
            state: State::Header { key: DataKey::from_bytes(*key.expose_secret()), context: context.into() },
            params,
            input: Assembler::new(params.chunk_size.sealed_len()),
            expected_len: None,
            expected_header: None,
        }
    }

    /// An opener that also requires the stream's plaintext to be exactly `len` bytes long: a
    /// full chunk past that length fails before it is opened, and [`Opener::finish`] fails unless
    /// the final chunk ends the stream at `len`. Object openers use it to bind the body to the
    /// envelope's authenticated length.
    pub(crate) fn with_expected_len(mut self, len: u64) -> Self {
        self.expected_len = Some(len);
        self
    }

    /// An opener that also requires the stream to start with exactly `header` (compared in
    /// constant time, [`Error::Authentication`] otherwise, before any key is derived from it).
    /// Client-side object openers use it to bind the body to the envelope's recorded header.
    pub(crate) fn with_expected_header(mut self, header: Option<[u8; HEADER_LEN]>) -> Self {
        self.expected_header = header;
        self
    }

    /// Consumes `input`, appending the plaintext of every chunk it completes and authenticates.
    ///
    /// # Errors
    /// [`Error::Authentication`] if the header's commitment or a chunk does not authenticate,
    /// [`Error::TooLong`] past the format's chunk limit; then (and after any earlier error) the same
    /// error again.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        let result = self.consume(input, out);
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
        }
        result
    }

    fn consume<B: OutputBuffer + ?Sized>(&mut self, mut input: &[u8], out: &mut B) -> Result<()> {
        let sealed = self.params.chunk_size.sealed_len();
        // Room for every chunk this input completes, reserved once: a buffer that has to move
        // mid-stream would leave authenticated plaintext behind in its old allocation, so it moves
        // at most once per call and the old allocation is wiped.
        let completes = (self.input.buffered().len() + input.len()) / sealed;
        reserve_wiping(out, completes * self.params.chunk_size.bytes());
        loop {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Header { key, context } => {
                    let Some(header) = self.input.next(&mut input, HEADER_LEN) else {
                        return Ok(());
                    };
                    let header = self.input.get(&header);
                    if self.expected_header.is_some_and(|h| !bool::from(ctutils::CtEq::ct_eq(&h[..], header)))
                    {
                        return Err(Error::Authentication);
                    }
                    let keys = keys_from_header(key, self.params, context, header)?;
                    self.state = State::Body { keys, next: 0 };
                }
                State::Body { keys, next } => {
                    let Some(chunk) = self.input.next(&mut input, sealed) else {
                        return Ok(());
                    };
                    // A full chunk is never the last one, so the final chunk must still fit.
                    if *next >= self.params.chunk_size.max_chunks() - 1 {
                        return Err(Error::TooLong);
                    }
                    // With an expected length, a full chunk must end before it (it is never the
                    // final chunk); one past it is refused before it is opened.
                    if self.expected_len.is_some_and(|len| *next >= len / self.params.chunk_size.bytes_u64())
                    {
                        return Err(Error::TrailingData);
                    }
                    let chunk = self.input.get(&chunk);
                    open_into(keys, *next, chunk, 0..sealed - TAG_LEN, out)?;
                    *next += 1;
                }
            }
        }
    }

    /// Opens the final chunk from the bytes still buffered and ends the stream.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the stream stopped inside the header or lacks its final chunk;
    /// [`Error::Authentication`] if the final chunk does not authenticate (a truncated, extended or
    /// corrupted stream); any error an earlier call returned.
    pub fn finish<B: OutputBuffer + ?Sized>(self, out: &mut B) -> Result<()> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Header { .. } => Err(Error::Truncated),
            State::Body { keys, next } => {
                let last = self.input.buffered();
                let plain = last.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
                if let Some(len) = self.expected_len {
                    // Where the final chunk must end the stream; a body of another length is
                    // refused before its final chunk is opened.
                    let total = next
                        .checked_mul(self.params.chunk_size.bytes_u64())
                        .and_then(|full| full.checked_add(plain as u64))
                        .ok_or(Error::TooLong)?;
                    if total < len {
                        return Err(Error::Truncated);
                    }
                    if total > len {
                        return Err(Error::TrailingData);
                    }
                }
                reserve_wiping(out, plain);
                open_into(keys, *next, last, 0..plain, out)
            }
        }
    }
}

/// Opens chunks of a stream in any order: random access for HTTP ranges and parallel readers.
///
/// Built from the stream's header and its authenticated plaintext length (from the envelope, or
/// computed from the stored length with [`ChunkSize::plaintext_len`]). Every chunk is checked against
/// the length its index must have, so the final chunk authenticates the length.
pub struct ChunkOpener {
    keys: StreamKeys,
    chunk_size: ChunkSize,
    plaintext_len: u64,
    chunk_count: u64,
}

impl core::fmt::Debug for ChunkOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkOpener")
            .field("chunk_size", &self.chunk_size)
            .field("plaintext_len", &self.plaintext_len)
            .finish_non_exhaustive()
    }
}

impl ChunkOpener {
    /// Derives the stream's keys from its 56-byte header and checks the key commitment.
    ///
    /// # Errors
    /// [`Error::Truncated`] if `header` is not 56 bytes; [`Error::Authentication`] if the
    /// commitment does not match (wrong key, wrong context, or a modified header);
    /// [`Error::TooLong`] if `plaintext_len` is beyond the format.
    pub fn new(
        key: &DataKey,
        params: impl Into<StreamParams>,
        context: &[u8],
        header: &[u8],
        plaintext_len: u64,
    ) -> Result<Self> {
        let params = params.into();
        let chunk_count = params.chunk_size.chunk_count(plaintext_len)?;
        let keys = keys_from_header(key, params, context, header)?;
        Ok(Self { keys, chunk_size: params.chunk_size, plaintext_len, chunk_count })
    }

    /// The plaintext length this opener checks chunks against.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// Number of chunks in the stream, the final one included.
    pub fn chunk_count(&self) -> u64 {
        self.chunk_count
    }

    /// The stream's chunk size.
    pub fn chunk_size(&self) -> ChunkSize {
        self.chunk_size
    }

    /// Authenticates and decrypts sealed chunk `index` (ciphertext ‖ tag) in place, returning the
    /// plaintext, a prefix of `sealed`.
    ///
    /// Opening the final chunk (index `chunk_count() - 1`) authenticates the stream's length.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the stream has no chunk `index`; [`Error::Truncated`] if `sealed`
    /// is not as long as that chunk must be; [`Error::Authentication`] if it does not authenticate,
    /// in which case `sealed` is wiped.
    pub fn open_chunk_in_place<'a>(&self, index: u64, sealed: &'a mut [u8]) -> Result<&'a mut [u8]> {
        let plain = self.chunk_size.chunk_plaintext_len(self.plaintext_len, index)?;
        if sealed.len() != plain + TAG_LEN {
            return Err(Error::Truncated);
        }
        let (ciphertext, tag_bytes) = sealed.split_at_mut(plain);
        // Borrowed where it lies (see `split_tag`).
        let tag: &Tag = (&*tag_bytes).try_into().map_err(|_| Error::Truncated)?;
        if let Err(e) = self.keys.aead.open_in_place(&self.keys.nonce(index), ciphertext, tag) {
            ciphertext.zeroize();
            tag_bytes.zeroize();
            return Err(e);
        }
        Ok(ciphertext)
    }

    /// Plans a plaintext byte range; see [`ChunkSize::plan_range`].
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is empty or reaches past the stream.
    pub fn plan_range(&self, range: Range<u64>) -> Result<RangePlan> {
        self.chunk_size.plan_range(self.plaintext_len, range)
    }

    /// Starts reading the plaintext bytes `range`: feed the stored bytes
    /// [`RangePlan::ciphertext`] of the returned [`RangeOpener::plan`] to it.
    ///
    /// # Errors
    /// [`Error::InvalidRange`] if the range is empty or reaches past the stream.
    pub fn open_range(self, range: Range<u64>) -> Result<RangeOpener> {
        let plan = self.plan_range(range)?;
        let input = Assembler::new(self.chunk_size.sealed_len());
        Ok(RangeOpener { next: plan.first_chunk, emitted: 0, plan, opener: self, input, failed: None })
    }
}

/// Opens the chunks covering a plaintext range, pushed in pieces of any size, and appends exactly the
/// requested plaintext bytes. Every chunk the range touches is authenticated; no other is read.
pub struct RangeOpener {
    opener: ChunkOpener,
    plan: RangePlan,
    next: u64,
    emitted: u64,
    input: Assembler,
    failed: Option<Error>,
}

impl core::fmt::Debug for RangeOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RangeOpener")
            .field("plan", &self.plan)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl RangeOpener {
    /// What to fetch: the stored byte range and the chunks it holds.
    pub fn plan(&self) -> &RangePlan {
        &self.plan
    }

    /// Consumes stored bytes of the planned range, appending the requested plaintext of every chunk
    /// they complete and authenticate.
    ///
    /// # Errors
    /// [`Error::Authentication`] if a chunk does not authenticate; [`Error::TrailingData`] if more
    /// bytes arrive than the plan covers; then (and after any earlier error) the same error again.
    pub fn update<B: OutputBuffer + ?Sized>(&mut self, input: &[u8], out: &mut B) -> Result<()> {
        let mut failed = self.failed.take();
        let result = sticky(&mut failed, || self.consume(input, out));
        self.failed = failed;
        result
    }

    fn consume<B: OutputBuffer + ?Sized>(&mut self, mut input: &[u8], out: &mut B) -> Result<()> {
        let end = self.plan.first_chunk + self.plan.chunk_count;
        while !input.is_empty() {
            if self.next == end {
                return Err(Error::TrailingData);
            }
            let opener = &self.opener;
            let plain = opener.chunk_size.chunk_plaintext_len(opener.plaintext_len, self.next)?;
            let Some(sealed) = self.input.next(&mut input, plain + TAG_LEN) else {
                return Ok(());
            };
            let sealed = self.input.get(&sealed);
            let skip = if self.next == self.plan.first_chunk { self.plan.skip } else { 0 };
            let wanted = self.plan.len - self.emitted;
            let keep_end = usize::try_from(wanted).map_or(plain, |w| w.saturating_add(skip).min(plain));
            open_into(&opener.keys, self.next, sealed, skip..keep_end, out)?;
            self.emitted += (keep_end - skip) as u64;
            self.next += 1;
        }
        Ok(())
    }

    /// Checks that every planned chunk arrived and authenticated.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the planned bytes stopped early; any error an earlier call returned.
    pub fn finish(self) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.next == self.plan.first_chunk + self.plan.chunk_count {
            Ok(())
        } else {
            Err(Error::Truncated)
        }
    }

    /// Gives back the chunk opener, to plan another range.
    pub fn into_inner(self) -> ChunkOpener {
        self.opener
    }
}
