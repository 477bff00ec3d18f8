//! S3EC bodies: content suites 0x0072 (V2: AES-256-GCM under the data key) and 0x0073 (V3: HKDF-SHA-512
//! derivation with a checked key commitment), read buffered, streamed (delayed authentication) or by
//! range (AES-CTR, legacy unauthenticated), and written; and, decrypt-only behind
//! `enableLegacyUnauthenticatedModes`, legacy `AES/CBC/PKCS5Padding` bodies (V1, V2 CBC), buffered.

use super::metadata::{CBC_IV_LEN, COMMITMENT_LEN, IV_LEN, MESSAGE_ID_LEN, S3ecEnvelope};
use super::wrap::{S3ecAesKey, S3ecDataKey, generate_request, wrap_aes};
use super::{S3EC_MAX_PLAINTEXT, S3ecContent, S3ecError, S3ecFormat, S3ecOptions, S3ecWrap};
use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, fill_random};
use crate::kms::{EncryptionContext, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms};
use aes::cipher::{BlockCipherEncrypt, KeyIvInit, StreamCipher, StreamCipherSeek};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use ctutils::{Choice, CtEq};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use hkdf::Hkdf;
use rand_core::TryCryptoRng;
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

/// Length of the GCM tag at the end of every S3EC GCM body.
const TAG_LEN: usize = 16;
/// The AES block: legacy CBC bodies are a whole number of them.
const CBC_BLOCK: usize = 16;
/// The most PKCS#7 padding a CBC body carries: one whole block.
const MAX_PAD: u8 = 16;
/// Suite 0x0073's id: the V3 body's associated data and the prefix of its HKDF info strings.
const SUITE_V3: [u8; 2] = [0x00, 0x73];
/// The V3 body IV: fixed, because every V3 content key is fresh (a new message id).
const V3_IV: [u8; IV_LEN] = [1; IV_LEN];

/// The body's content key and GCM parameters.
struct ContentKey {
    key: Zeroizing<[u8; KEY_LEN]>,
    iv: [u8; IV_LEN],
    aad: &'static [u8],
}

impl ContentKey {
    fn for_envelope(envelope: &S3ecEnvelope, data_key: &S3ecDataKey) -> Result<Self> {
        match envelope.content {
            // CBC: the IV is the opener's `cbc_iv`; `iv` and `aad` are unused.
            S3ecContent::AesCbc => {
                Ok(Self { key: Zeroizing::new(*data_key.expose_secret()), iv: [0; IV_LEN], aad: &[] })
            }
            S3ecContent::AesGcm => {
                Ok(Self { key: Zeroizing::new(*data_key.expose_secret()), iv: envelope.iv, aad: &[] })
            }
            S3ecContent::AesGcmCommitting => Ok(Self {
                key: derive_v3(data_key, &envelope.message_id, Some(&envelope.commitment))?.0,
                iv: V3_IV,
                aad: &SUITE_V3,
            }),
        }
    }
}

/// Suite 0x0073: PRK = HKDF-Extract(salt = message id, IKM = data key); commitment =
/// Expand(PRK, 0x0073 ‖ "COMMITKEY", 28); content key = Expand(PRK, 0x0073 ‖ "DERIVEKEY", 32). When
/// `expected` is given the commitment is compared with it in constant time *before* the content key
/// is derived.
fn derive_v3(
    data_key: &S3ecDataKey,
    message_id: &[u8; MESSAGE_ID_LEN],
    expected: Option<&[u8; COMMITMENT_LEN]>,
) -> Result<(Zeroizing<[u8; KEY_LEN]>, [u8; COMMITMENT_LEN])> {
    let prk = Hkdf::<Sha512>::new(Some(message_id), data_key.expose_secret());
    let mut commitment = [0u8; COMMITMENT_LEN];
    prk.expand_multi_info(&[&SUITE_V3, b"COMMITKEY"], &mut commitment).map_err(|_| Error::TooLong)?;
    if let Some(expected) = expected {
        if !bool::from(commitment.ct_eq(expected)) {
            return Err(Error::Authentication);
        }
    }
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    prk.expand_multi_info(&[&SUITE_V3, b"DERIVEKEY"], &mut key[..]).map_err(|_| Error::TooLong)?;
    Ok((key, commitment))
}

/// AES-256-GCM as a stream, composed from RustCrypto's AES-CTR (32-bit big-endian counter, as
/// GCM's inc32) and GHASH: constant memory, any split of the input.
struct GcmStream {
    ctr: ctr::Ctr32BE<aes::Aes256>,
    ghash: GHash,
    /// GHASH input not yet a whole block.
    pending: [u8; 16],
    pending_len: usize,
    aad_len: u64,
    text_len: u64,
    /// E(K, J0), XORed into the GHASH output to make the tag.
    tag_mask: Zeroizing<[u8; 16]>,
}

impl GcmStream {
    fn new(key: &ContentKey) -> Self {
        let aes = aes::Aes256::new((&*key.key).into());
        let mut h = ghash::Block::default();
        aes.encrypt_block(&mut h);
        let mut ghash = GHash::new(&h);
        h.zeroize();
        ghash.update_padded(key.aad);
        let mut j0 = [0u8; 16];
        j0[..IV_LEN].copy_from_slice(&key.iv);
        j0[15] = 1;
        let mut mask = ghash::Block::from(j0);
        aes.encrypt_block(&mut mask);
        let tag_mask = Zeroizing::new(mask.into());
        mask.zeroize();
        j0[15] = 2;
        let ctr = ctr::Ctr32BE::<aes::Aes256>::new((&*key.key).into(), (&j0).into());
        let aad_len = key.aad.len() as u64;
        Self { ctr, ghash, pending: [0; 16], pending_len: 0, aad_len, text_len: 0, tag_mask }
    }

    /// Counts `len` more bytes of text; past S3EC's limit, counts nothing and fails.
    fn count(&mut self, len: usize) -> Result<()> {
        let total = self.text_len.checked_add(len as u64).filter(|&t| t <= S3EC_MAX_PLAINTEXT);
        self.text_len = total.ok_or(Error::TooLong)?;
        Ok(())
    }

    fn absorb(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let take = (16 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 16 {
                return;
            }
            self.ghash.update_padded(&self.pending);
            self.pending_len = 0;
        }
        let whole = data.len() - data.len() % 16;
        self.ghash.update_padded(&data[..whole]);
        let rest = &data[whole..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    #[cfg(test)]
    fn encrypt(&mut self, buf: &mut [u8]) -> Result<()> {
        self.count(buf.len())?;
        self.encrypt_counted(buf)
    }

    /// Encrypts bytes already counted.
    fn encrypt_counted(&mut self, buf: &mut [u8]) -> Result<()> {
        self.ctr.try_apply_keystream(buf).map_err(|_| Error::TooLong)?;
        self.absorb(buf);
        Ok(())
    }

    #[cfg(test)]
    fn decrypt(&mut self, buf: &mut [u8]) -> Result<()> {
        self.count(buf.len())?;
        self.decrypt_counted(buf)
    }

    /// [`GcmStream::decrypt`] of bytes already counted.
    fn decrypt_counted(&mut self, buf: &mut [u8]) -> Result<()> {
        self.absorb(buf);
        self.ctr.try_apply_keystream(buf).map_err(|_| Error::TooLong)
    }

    fn tag(mut self) -> [u8; 16] {
        self.ghash.update_padded(&self.pending[..self.pending_len]);
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(self.aad_len * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(self.text_len * 8).to_be_bytes());
        self.ghash.update_padded(&lengths);
        let mut tag: [u8; 16] = self.ghash.finalize().into();
        for (t, m) in tag.iter_mut().zip(self.tag_mask.iter()) {
            *t ^= m;
        }
        tag
    }
}

/// The key to an S3EC body, once the commitment policy and (V3) the key commitment have been
/// checked: see [`S3ecEnvelope::opener`].
pub struct S3ecOpener {
    key: ContentKey,
    /// Legacy CBC content: its IV (the body is `AES/CBC/PKCS5Padding`, not GCM).
    cbc_iv: Option<[u8; CBC_IV_LEN]>,
    options: S3ecOptions,
    plaintext_len: Option<u64>,
}

impl core::fmt::Debug for S3ecOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("S3ecOpener").field("key", &"[REDACTED]").finish_non_exhaustive()
    }
}

impl S3ecEnvelope {
    /// The opener for this object's body under its unwrapped `data_key`.
    ///
    /// # Errors
    /// [`S3ecError::CommitmentPolicy`] for a V1 or V2 object under
    /// `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`; [`S3ecError::LegacyContentRefused`] for CBC content
    /// without [`S3ecOptions::enable_legacy_unauthenticated_modes`]; [`Error::Authentication`] if
    /// the V3 key commitment (`x-amz-d`) does not match the data key and message id.
    pub fn opener(&self, data_key: &S3ecDataKey, options: &S3ecOptions) -> Result<S3ecOpener> {
        if !options.commitment_policy.allows_decrypt(self.format) {
            return Err(S3ecError::CommitmentPolicy(options.commitment_policy.aws_name()).into());
        }
        let cbc = self.content == S3ecContent::AesCbc;
        if cbc && !options.legacy_unauthenticated_modes {
            return Err(S3ecError::LegacyContentRefused("AES/CBC".to_owned()).into());
        }
        Ok(S3ecOpener {
            cbc_iv: cbc.then_some(self.cbc_iv),
            key: ContentKey::for_envelope(self, data_key)?,
            options: *options,
            plaintext_len: self.plaintext_len,
        })
    }
}

impl S3ecOpener {
    /// The plaintext length of a body of `body_len` bytes, checked against what the metadata states.
    fn plaintext_len(&self, body_len: u64) -> Result<u64> {
        let len = body_len.checked_sub(TAG_LEN as u64).ok_or(S3ecError::BodyLength)?;
        if self.plaintext_len.is_some_and(|stated| stated != len) {
            return Err(S3ecError::BodyLength.into());
        }
        if len > S3EC_MAX_PLAINTEXT {
            return Err(Error::TooLong);
        }
        Ok(len)
    }

    /// Opens a whole body held in memory: authenticates it, then decrypts it. Nothing is returned
    /// unless the tag verifies.
    ///
    /// A legacy CBC body has no tag: it is decrypted and its PKCS#7 padding (and the stated
    /// `x-amz-unencrypted-content-length`, when there is one) checked in constant time; any failure
    /// of those, or a body that is not a whole, non-zero number of blocks, is the one opaque
    /// [`Error::Authentication`], so the caller cannot be made a padding oracle. **A CBC body that
    /// passes is still not authenticated** (`docs/DESIGN.md` §11).
    ///
    /// # Errors
    /// [`S3ecError::BufferLimit`] past [`S3ecOptions::buffer_limit`]; [`S3ecError::BodyLength`] for a
    /// body shorter than a tag or not of the stated length; [`Error::Authentication`] if the tag
    /// does not verify (a flipped, truncated or extended body, a wrong key), or a CBC body fails.
    pub fn open(&self, body: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open_into(body, &mut out)?;
        Ok(out)
    }

    /// [`S3ecOpener::open`] into a caller's buffer (replacing its contents), so a reader that opens
    /// many objects reuses one allocation. On any error `out` is wiped and left empty.
    ///
    /// # Errors
    /// As [`S3ecOpener::open`].
    pub fn open_into(&self, body: &[u8], out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        if let Some(iv) = &self.cbc_iv {
            self.check_cbc_limit(body.len())?;
            out.extend_from_slice(body);
            return self.open_cbc_in_place(iv, out);
        }
        let len = self.plaintext_len(body.len() as u64)?;
        if len > self.options.buffer_limit {
            return Err(S3ecError::BufferLimit.into());
        }
        let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Authentication)?;
        out.resize(ciphertext.len(), 0);
        let opened = InOutBuf::new(ciphertext, out.as_mut_slice())
            .map_err(|_| Error::Authentication)
            .and_then(|buf| {
                Aes256Gcm::new((&*self.key.key).into())
                    .decrypt_inout_detached((&self.key.iv).into(), self.key.aad, buf, tag.into())
                    .map_err(|_| Error::Authentication)
            });
        if opened.is_err() {
            out.zeroize();
            out.clear();
        }
        opened
    }

    /// Authenticates and decrypts `body ‖ tag` in place, truncating the tag; on failure the buffer
    /// is wiped and emptied.
    fn open_in_place(&self, buf: &mut Vec<u8>) -> Result<()> {
        if let Some(iv) = &self.cbc_iv {
            return self.open_cbc_in_place(iv, buf);
        }
        let split = buf.len().checked_sub(TAG_LEN).ok_or(S3ecError::BodyLength)?;
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&buf[split..]);
        buf.truncate(split);
        let opened = Aes256Gcm::new((&*self.key.key).into()).decrypt_inout_detached(
            (&self.key.iv).into(),
            self.key.aad,
            buf.as_mut_slice().into(),
            (&tag).into(),
        );
        if opened.is_err() {
            buf.zeroize();
            buf.clear();
            return Err(Error::Authentication);
        }
        Ok(())
    }

    /// A CBC body holds at most the buffer limit plus one block of padding.
    fn check_cbc_limit(&self, body_len: usize) -> Result<()> {
        if body_len as u64 > self.options.buffer_limit.saturating_add(CBC_BLOCK as u64) {
            return Err(S3ecError::BufferLimit.into());
        }
        Ok(())
    }

    /// Decrypts `buf` (a whole CBC body) in place and strips its PKCS#7 padding. Everything that
    /// depends on the decrypted bytes (the padding, the stated plaintext length) is folded into one
    /// constant-time verdict before the single branch; on failure `buf` is wiped and emptied.
    fn open_cbc_in_place(&self, iv: &[u8; CBC_IV_LEN], buf: &mut Vec<u8>) -> Result<()> {
        use aes::cipher::{BlockModeDecrypt, KeyIvInit as _};
        let len = buf.len();
        if len == 0 || len % CBC_BLOCK != 0 {
            buf.zeroize();
            buf.clear();
            return Err(Error::Authentication);
        }
        let mut cbc = cbc::Decryptor::<aes::Aes256>::new((&*self.key.key).into(), iv.into());
        for block in buf.chunks_exact_mut(CBC_BLOCK) {
            let block: &mut aes::Block = block.try_into().map_err(|_| Error::Authentication)?;
            cbc.decrypt_block(block);
        }
        let pad = buf[len - 1];
        let mut valid = Choice::from_u8_le(1, pad) & Choice::from_u8_le(pad, MAX_PAD);
        // The last block, from its end: byte i (0-based) is padding iff i < pad.
        for (i, &byte) in (0..MAX_PAD).zip(buf[len - CBC_BLOCK..].iter().rev()) {
            let in_pad = Choice::from_u8_lt(i, pad);
            valid &= !in_pad | Choice::from_u8_eq(byte, pad);
        }
        let plain_len = (len as u64).wrapping_sub(u64::from(pad));
        if let Some(stated) = self.plaintext_len {
            valid &= Choice::from_u64_eq(plain_len, stated);
        }
        if !valid.to_bool() {
            buf.zeroize();
            buf.clear();
            return Err(Error::Authentication);
        }
        // Valid padding is 1..=16 bytes of a body of at least one block.
        buf.truncate(len - usize::from(pad));
        Ok(())
    }

    /// A buffered reader: feed the body in pieces as it arrives, get the plaintext at the end, once
    /// the tag has verified. Holds at most [`S3ecOptions::buffer_limit`] bytes plus the tag.
    pub fn buffered(self) -> S3ecBufferedBody {
        S3ecBufferedBody { opener: self, buf: Vec::new() }
    }

    /// A streaming reader that releases plaintext before the body is authenticated, in constant
    /// memory. Only with [`S3ecOptions::enable_delayed_authentication`]; everything released must
    /// be discarded if [`S3ecDelayedBody::finish`] fails.
    ///
    /// # Errors
    /// [`S3ecError::OptInRequired`] without the opt-in; [`S3ecError::Unsupported`] for a legacy CBC
    /// body (read it buffered).
    pub fn delayed(self) -> Result<S3ecDelayedBody> {
        if self.cbc_iv.is_some() {
            return Err(S3ecError::Unsupported("streaming AES/CBC read".to_owned()).into());
        }
        if !self.options.delayed_authentication {
            return Err(S3ecError::OptInRequired("enableDelayedAuthentication").into());
        }
        Ok(S3ecDelayedBody {
            stream: GcmStream::new(&self.key),
            held: Vec::with_capacity(TAG_LEN),
            plaintext_len: self.plaintext_len,
            failed: None,
        })
    }

    /// Plans a ranged read of plaintext bytes `first..=last` of a body `body_len` bytes long (S3's
    /// `Content-Length`): the bytes to fetch. Ranged reads decrypt with AES-CTR and are **not
    /// authenticated**, so they need [`S3ecOptions::enable_legacy_unauthenticated_modes`]. A
    /// `last` beyond the end is clipped, as S3 does.
    ///
    /// # Errors
    /// [`S3ecError::OptInRequired`] without the opt-in; [`Error::InvalidRange`] for an empty range
    /// or one starting past the end; [`S3ecError::Unsupported`] for a legacy CBC body.
    pub fn range(&self, first: u64, last: u64, body_len: u64) -> Result<S3ecRange> {
        if self.cbc_iv.is_some() {
            return Err(S3ecError::Unsupported("ranged AES/CBC read".to_owned()).into());
        }
        if !self.options.legacy_unauthenticated_modes {
            return Err(S3ecError::OptInRequired("enableLegacyUnauthenticatedModes (ranged GET)").into());
        }
        let len = self.plaintext_len(body_len)?;
        if first > last || first >= len {
            return Err(Error::InvalidRange);
        }
        let last = last.min(len - 1);
        let fetch_first = first - first % 16;
        let fetch_last = (last | 15).min(len - 1);
        Ok(S3ecRange { fetch_first, fetch_last, first, last })
    }

    /// Decrypts the bytes fetched for `range` (exactly [`S3ecRange::fetch_first`] through
    /// [`S3ecRange::fetch_last`] of the body) and returns the plaintext range. Unauthenticated.
    ///
    /// # Errors
    /// [`S3ecError::OptInRequired`] without the opt-in; [`Error::Truncated`] or
    /// [`Error::TrailingData`] if `fetched` is not exactly the planned length.
    pub fn open_range(&self, range: &S3ecRange, fetched: &[u8]) -> Result<Vec<u8>> {
        if self.cbc_iv.is_some() {
            return Err(S3ecError::Unsupported("ranged AES/CBC read".to_owned()).into());
        }
        if !self.options.legacy_unauthenticated_modes {
            return Err(S3ecError::OptInRequired("enableLegacyUnauthenticatedModes (ranged GET)").into());
        }
        let want = usize::try_from(range.fetch_last - range.fetch_first + 1).map_err(|_| Error::TooLong)?;
        if fetched.len() < want {
            return Err(Error::Truncated);
        }
        if fetched.len() > want {
            return Err(Error::TrailingData);
        }
        let mut counter = [0u8; 16];
        counter[..IV_LEN].copy_from_slice(&self.key.iv);
        counter[15] = 2;
        let mut ctr = ctr::Ctr32BE::<aes::Aes256>::new((&*self.key.key).into(), (&counter).into());
        ctr.try_seek(range.fetch_first).map_err(|_| Error::InvalidRange)?;
        let mut out = fetched.to_vec();
        ctr.try_apply_keystream(&mut out).map_err(|_| Error::TooLong)?;
        let skip = usize::try_from(range.first - range.fetch_first).map_err(|_| Error::TooLong)?;
        let len = usize::try_from(range.last - range.first + 1).map_err(|_| Error::TooLong)?;
        out.drain(..skip);
        out.truncate(len);
        Ok(out)
    }
}

/// A planned ranged read of an S3EC body (see [`S3ecOpener::range`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S3ecRange {
    fetch_first: u64,
    fetch_last: u64,
    first: u64,
    last: u64,
}

impl S3ecRange {
    /// First body byte to fetch (block-aligned).
    pub fn fetch_first(&self) -> u64 {
        self.fetch_first
    }

    /// Last body byte to fetch (inclusive).
    pub fn fetch_last(&self) -> u64 {
        self.fetch_last
    }

    /// The HTTP `Range` header value to send: `bytes=<fetch_first>-<fetch_last>`.
    pub fn header(&self) -> String {
        format!("bytes={}-{}", self.fetch_first, self.fetch_last)
    }
}

/// A buffered S3EC body reader (see [`S3ecOpener::buffered`]).
pub struct S3ecBufferedBody {
    opener: S3ecOpener,
    buf: Vec<u8>,
}

impl core::fmt::Debug for S3ecBufferedBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("S3ecBufferedBody").field("buffered", &self.buf.len()).finish_non_exhaustive()
    }
}

impl S3ecBufferedBody {
    /// Buffers the next piece of the body.
    ///
    /// # Errors
    /// [`S3ecError::BufferLimit`] once more than the limit plus the tag has arrived.
    pub fn push(&mut self, body: &[u8]) -> Result<()> {
        let total = (self.buf.len() as u64).checked_add(body.len() as u64).ok_or(Error::TooLong)?;
        let limit = self.opener.options.buffer_limit.saturating_add(TAG_LEN as u64);
        if total > limit {
            return Err(S3ecError::BufferLimit.into());
        }
        self.buf.extend_from_slice(body);
        Ok(())
    }

    /// Authenticates the whole body and returns its plaintext.
    ///
    /// # Errors
    /// As [`S3ecOpener::open`].
    pub fn finish(mut self) -> Result<Vec<u8>> {
        if self.opener.cbc_iv.is_none() {
            self.opener.plaintext_len(self.buf.len() as u64)?;
        }
        self.opener.open_in_place(&mut self.buf)?;
        Ok(core::mem::take(&mut self.buf))
    }
}

/// A streaming S3EC body reader with delayed authentication (see [`S3ecOpener::delayed`]).
pub struct S3ecDelayedBody {
    stream: GcmStream,
    /// The last up-to-16 bytes seen: they may be the tag.
    held: Vec<u8>,
    plaintext_len: Option<u64>,
    /// The error an update returned: every later call returns it again.
    failed: Option<Error>,
}

impl core::fmt::Debug for S3ecDelayedBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("S3ecDelayedBody").field("released", &self.stream.text_len).finish_non_exhaustive()
    }
}

impl S3ecDelayedBody {
    /// Decrypts the next piece of the body into `out` (appended), holding back the last 16 bytes
    /// seen, which may be the tag. **The plaintext is not yet authenticated.**
    ///
    /// # Errors
    /// [`Error::TooLong`] past S3EC's 64 GiB limit, with nothing of `body` taken and `out` as it
    /// was; then, and after any earlier error, the same error again (and from
    /// [`S3ecDelayedBody::finish`]).
    pub fn update(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let total = self.held.len().saturating_add(body.len());
        let release = total.saturating_sub(TAG_LEN);
        // Counted before anything moves: a piece past the limit leaves `out` and the stream as
        // they were, never ciphertext appended where the caller expects plaintext.
        if let Err(e) = self.stream.count(release) {
            self.failed = Some(e.clone());
            return Err(e);
        }
        let start = out.len();
        let from_held = release.min(self.held.len());
        out.extend_from_slice(&self.held[..from_held]);
        out.extend_from_slice(&body[..release - from_held]);
        self.held.drain(..from_held);
        self.held.extend_from_slice(&body[release - from_held..]);
        if let Err(e) = self.stream.decrypt_counted(&mut out[start..]) {
            out.truncate(start);
            self.failed = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }

    /// Checks the tag. If this fails, everything [`S3ecDelayedBody::update`] released is forged or
    /// corrupt and must be discarded.
    ///
    /// # Errors
    /// [`Error::Authentication`] for a bad tag or a body shorter than a tag;
    /// [`S3ecError::BodyLength`] if the body is not of the length the metadata states; the error an
    /// update returned.
    pub fn finish(self) -> Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.held.len() != TAG_LEN {
            return Err(Error::Authentication);
        }
        if self.plaintext_len.is_some_and(|stated| stated != self.stream.text_len) {
            return Err(S3ecError::BodyLength.into());
        }
        let expected = self.stream.tag();
        if bool::from(expected[..].ct_eq(&self.held[..])) { Ok(()) } else { Err(Error::Authentication) }
    }
}

/// Writes one S3EC object: a fresh data key (and, for V3, message id) per object, wrapped with a raw
/// AES key or by the embedder's KMS; then the body, in one piece ([`S3ecSealer::seal`]) or streamed
/// ([`S3ecSealer::update`], [`S3ecSealer::finish`]). The envelope is known before the body, so the
/// metadata can be sent first. The format is the commitment policy's ([`S3ecOptions`]): V3 by default,
/// V2 under `FORBID_ENCRYPT_ALLOW_DECRYPT`.
pub struct S3ecSealer {
    envelope: S3ecEnvelope,
    stream: GcmStream,
}

impl core::fmt::Debug for S3ecSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("S3ecSealer").field("envelope", &self.envelope).finish_non_exhaustive()
    }
}

impl S3ecSealer {
    /// A sealer whose data key is wrapped with `key` (`AES/GCM`), storing `description` as the
    /// material description (AWS does not authenticate it).
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails (or draws an IV or message id readers refuse).
    pub fn aes<R: TryCryptoRng + ?Sized>(
        key: &S3ecAesKey,
        description: EncryptionContext,
        options: &S3ecOptions,
        rng: &mut R,
    ) -> Result<Self> {
        let format = options.commitment_policy.encrypt_format();
        let data_key = S3ecDataKey::generate(rng)?;
        let encrypted_key = wrap_aes(key, &data_key, format, rng)?;
        Self::new(format, S3ecWrap::AesGcm, encrypted_key, &data_key, description, rng)
    }

    /// The KMS GenerateDataKey request for a `kms+context` object: the caller's `context` plus the
    /// reserved `aws:x-amz-cek-alg` entry naming the content algorithm of the format `options` write.
    ///
    /// # Errors
    /// [`crate::SseError::ReservedContextKey`] if `context` already has `aws:x-amz-cek-alg`.
    pub fn kms_request(
        key_id: &str,
        context: &EncryptionContext,
        options: &S3ecOptions,
    ) -> Result<GenerateDataKeyRequest> {
        generate_request(key_id, context, options.commitment_policy.encrypt_format())
    }

    /// A sealer from the KMS's answer to [`S3ecSealer::kms_request`] (`request` is that request).
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails (or draws an IV or message id readers refuse);
    /// [`S3ecError::ContextMismatch`] if `request` was not made for the format `options` write.
    pub fn kms<R: TryCryptoRng + ?Sized>(
        request: &GenerateDataKeyRequest,
        response: GenerateDataKeyResponse,
        options: &S3ecOptions,
        rng: &mut R,
    ) -> Result<Self> {
        let format = options.commitment_policy.encrypt_format();
        let expected = super::wrap::cek_name(format);
        if request.context.get(super::metadata::CEK_CONTEXT_KEY) != Some(expected) {
            return Err(S3ecError::ContextMismatch.into());
        }
        let data_key = S3ecDataKey::from_bytes(*response.plaintext.expose_secret());
        Self::new(
            format,
            S3ecWrap::KmsContext,
            response.ciphertext_blob,
            &data_key,
            request.context.clone(),
            rng,
        )
    }

    /// [`S3ecSealer::kms_request`] and [`S3ecSealer::kms`] with a blocking KMS client.
    ///
    /// # Errors
    /// As those, and [`Error::Kms`] for the KMS's error.
    pub fn with_kms<R: TryCryptoRng + ?Sized>(
        kms: &impl Kms,
        key_id: &str,
        context: &EncryptionContext,
        options: &S3ecOptions,
        rng: &mut R,
    ) -> Result<Self> {
        let request = Self::kms_request(key_id, context, options)?;
        let response = kms.generate_data_key(&request)?;
        Self::kms(&request, response, options, rng)
    }

    fn new<R: TryCryptoRng + ?Sized>(
        format: S3ecFormat,
        wrap: S3ecWrap,
        encrypted_key: Vec<u8>,
        data_key: &S3ecDataKey,
        description: EncryptionContext,
        rng: &mut R,
    ) -> Result<Self> {
        let mut envelope = S3ecEnvelope {
            format,
            content: if format == S3ecFormat::V3 {
                S3ecContent::AesGcmCommitting
            } else {
                S3ecContent::AesGcm
            },
            wrap,
            encrypted_key,
            iv: V3_IV,
            cbc_iv: [0; CBC_IV_LEN],
            message_id: [0; MESSAGE_ID_LEN],
            commitment: [0; COMMITMENT_LEN],
            description,
            plaintext_len: None,
        };
        let key = match format {
            S3ecFormat::V1 => return Err(S3ecError::Unsupported("writing V1".to_owned()).into()),
            S3ecFormat::V2 => {
                // A fresh data key per object, and a random IV as AWS's clients draw one. A draw that
                // lands on a value readers refuse (all zero, or V3's fixed IV) has probability 2^-95
                // from a working generator: it is a broken one, and drawing again could loop forever.
                fill_random(rng, &mut envelope.iv)?;
                if envelope.iv == [0; IV_LEN] || envelope.iv == V3_IV {
                    return Err(Error::Rng);
                }
                ContentKey { key: Zeroizing::new(*data_key.expose_secret()), iv: envelope.iv, aad: &[] }
            }
            S3ecFormat::V3 => {
                fill_random(rng, &mut envelope.message_id)?;
                if envelope.message_id == [0; MESSAGE_ID_LEN] {
                    return Err(Error::Rng); // 2^-224 from a working generator, as above
                }
                let (key, commitment) = derive_v3(data_key, &envelope.message_id, None)?;
                envelope.commitment = commitment;
                ContentKey { key, iv: V3_IV, aad: &SUITE_V3 }
            }
        };
        Ok(Self { envelope, stream: GcmStream::new(&key) })
    }

    /// The envelope: send [`S3ecEnvelope::to_metadata`] as the object's user metadata (or
    /// [`S3ecEnvelope::to_instruction_file`]).
    pub fn envelope(&self) -> &S3ecEnvelope {
        &self.envelope
    }

    /// The body length for a plaintext of `plaintext_len` bytes (S3's `Content-Length`).
    ///
    /// # Errors
    /// [`Error::TooLong`] beyond [`S3EC_MAX_PLAINTEXT`].
    pub fn body_len(plaintext_len: u64) -> Result<u64> {
        if plaintext_len > S3EC_MAX_PLAINTEXT {
            return Err(Error::TooLong);
        }
        Ok(plaintext_len + TAG_LEN as u64)
    }

    /// Encrypts the next piece of plaintext, appending the ciphertext to `out`.
    ///
    /// # Errors
    /// [`Error::TooLong`] beyond [`S3EC_MAX_PLAINTEXT`], with `out` as it was (nothing of
    /// `plaintext` is appended to the ciphertext).
    pub fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        // Counted before the plaintext is copied into `out`, the caller's ciphertext buffer.
        self.stream.count(plaintext.len())?;
        let start = out.len();
        out.extend_from_slice(plaintext);
        if let Err(e) = self.stream.encrypt_counted(&mut out[start..]) {
            out[start..].zeroize();
            out.truncate(start);
            return Err(e);
        }
        Ok(())
    }

    /// Appends the tag and returns the envelope.
    pub fn finish(self, out: &mut Vec<u8>) -> S3ecEnvelope {
        out.extend_from_slice(&self.stream.tag());
        self.envelope
    }

    /// Encrypts a whole plaintext: returns the envelope and the body.
    ///
    /// # Errors
    /// [`Error::TooLong`] beyond [`S3EC_MAX_PLAINTEXT`].
    pub fn seal(mut self, plaintext: &[u8]) -> Result<(S3ecEnvelope, Vec<u8>)> {
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        self.update(plaintext, &mut out)?;
        let envelope = self.finish(&mut out);
        Ok((envelope, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GCM composed here is AES-GCM: same output as `aes-gcm` for every split.
    #[test]
    fn gcm_stream_matches_aes_gcm() {
        let key = ContentKey { key: Zeroizing::new([7; 32]), iv: [9; 12], aad: &SUITE_V3 };
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i * 31 % 251).unwrap()).collect();
            let mut expected = plain.clone();
            let tag = Aes256Gcm::new((&[7u8; 32]).into())
                .encrypt_inout_detached((&[9u8; 12]).into(), &SUITE_V3, expected.as_mut_slice().into())
                .unwrap();
            for split in [0, 1, 7, 16, len / 2, len] {
                let split = split.min(len);
                let mut s = GcmStream::new(&key);
                let mut buf = plain.clone();
                let (a, b) = buf.split_at_mut(split);
                s.encrypt(a).unwrap();
                s.encrypt(b).unwrap();
                assert_eq!(buf, expected, "len {len} split {split}");
                assert_eq!(&s.tag()[..], &tag[..], "len {len} split {split}");
                let mut d = GcmStream::new(&key);
                let (a, b) = buf.split_at_mut(split);
                d.decrypt(a).unwrap();
                d.decrypt(b).unwrap();
                assert_eq!(buf, plain);
                assert_eq!(&d.tag()[..], &tag[..]);
            }
        }
    }

    fn unhex<const N: usize>(h: &str) -> [u8; N] {
        let bytes: Vec<u8> = (0..N).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
        bytes.try_into().unwrap()
    }

    /// Known answers for suite 0x0073's derivation, from AWS's Go client
    /// (aws/amazon-s3-encryption-client-go, v4/internal/key_derivation_test.go).
    #[test]
    fn derivation_known_answers() {
        for (dk, id, key, commitment) in [
            (
                "80d90dc4cc7e77d8a6332efa44eba56230a7fe7b89af37d1e501ab2e07c0a163",
                "b8ea76bed24c7b85382a148cb9dcd1cfdfb765f55ded4dfa6e0c4c79",
                "6dd14f546cc006e639126e83f5d4d1b118576bb5df97f38c6fb3a1db87bbc338",
                "f89818bc0a346d3a3426b68e9509b6b2ae5fe1f904aa329fb73625db",
            ),
            (
                "501afb8227d22e75e68010414b8abdaf3064c081e8e922dafef4992036394d60",
                "61a00b4981a5aacfd136c55cb726e32d2a547dc7600a7d4675c69127",
                "e14786a714748d1d2c3a4a6816dec56ddf1881bbeabb4f39420ffb9f63700b2f",
                "5c1e73e47f6fe3a70d6d094283aceaa76d2975feb829212d88f0afc1",
            ),
        ] {
            let expected: [u8; COMMITMENT_LEN] = unhex(commitment);
            let (derived, c) =
                derive_v3(&S3ecDataKey::from_bytes(unhex(dk)), &unhex(id), Some(&expected)).unwrap();
            assert_eq!(*derived, unhex::<32>(key));
            assert_eq!(c, expected);
            assert!(matches!(
                derive_v3(&S3ecDataKey::from_bytes(unhex(dk)), &unhex(id), Some(&[0; COMMITMENT_LEN])),
                Err(Error::Authentication)
            ));
        }
    }

    /// A delayed read past S3EC's limit fails before it appends anything: `out` keeps only what was
    /// released before (never ciphertext where plaintext is expected), and the error sticks.
    #[test]
    fn delayed_update_past_the_limit_appends_nothing() {
        let key = ContentKey { key: Zeroizing::new([7; 32]), iv: [9; 12], aad: &SUITE_V3 };
        // As if 64 GiB less 4 bytes had been released already.
        let near_the_limit = || {
            let mut stream = GcmStream::new(&key);
            stream.text_len = S3EC_MAX_PLAINTEXT - 4;
            S3ecDelayedBody { stream, held: Vec::new(), plaintext_len: None, failed: None }
        };
        let mut body = near_the_limit();
        let mut out = vec![0xAA];
        assert_eq!(body.update(&[0x55; 40], &mut out), Err(Error::TooLong));
        assert_eq!(out, [0xAA]);
        assert!(body.held.is_empty());
        assert_eq!(body.update(&[], &mut out), Err(Error::TooLong));
        assert_eq!(body.finish(), Err(Error::TooLong));
        // Up to the limit is fine.
        let mut body = near_the_limit();
        body.update(&[0x55; 20], &mut out).unwrap();
        assert_eq!(out.len(), 5);
    }

    /// A sealer's piece past S3EC's limit is refused before it is copied into the ciphertext
    /// buffer: `out` keeps only the ciphertext before it, never the plaintext.
    #[test]
    fn seal_update_past_the_limit_appends_nothing() {
        let key = ContentKey { key: Zeroizing::new([7; 32]), iv: V3_IV, aad: &SUITE_V3 };
        let envelope = S3ecEnvelope {
            format: S3ecFormat::V3,
            content: S3ecContent::AesGcmCommitting,
            wrap: S3ecWrap::AesGcm,
            encrypted_key: vec![1; 60],
            iv: V3_IV,
            cbc_iv: [0; CBC_IV_LEN],
            message_id: [2; MESSAGE_ID_LEN],
            commitment: [3; COMMITMENT_LEN],
            description: EncryptionContext::new(),
            plaintext_len: None,
        };
        let mut sealer = S3ecSealer { envelope, stream: GcmStream::new(&key) };
        // As if 64 GiB less 4 bytes had been sealed already.
        sealer.stream.text_len = S3EC_MAX_PLAINTEXT - 4;
        let mut out = vec![0xAA];
        assert_eq!(sealer.update(b"secret plaintext", &mut out), Err(Error::TooLong));
        assert_eq!(out, [0xAA]);
        sealer.update(b"last", &mut out).unwrap();
        assert_eq!(out.len(), 5);
        assert_ne!(&out[1..], b"last");
    }

    /// The commitment computed on write is accepted on read, and one flipped bit of it is refused.
    #[test]
    fn commitment_is_checked_before_derivation() {
        let dk = S3ecDataKey::from_bytes([3; 32]);
        let id = [5; MESSAGE_ID_LEN];
        let (key, commitment) = derive_v3(&dk, &id, None).unwrap();
        let (again, _) = derive_v3(&dk, &id, Some(&commitment)).unwrap();
        assert_eq!(*key, *again);
        let mut wrong = commitment;
        wrong[27] ^= 1;
        assert!(matches!(derive_v3(&dk, &id, Some(&wrong)), Err(Error::Authentication)));
    }
}
