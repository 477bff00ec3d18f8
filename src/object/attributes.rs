//! Sealed object attributes: S3's flexible checksums (`x-amz-checksum-*`), computed in the same
//! pass as the encryption and sealed inside the envelope's payload, so only a key holder reads
//! them back (a plaintext checksum stored in clear would let the storage confirm guessed contents).
//!
//! CRCs come from the `crc` crate (slice-by-16 tables it generates at compile time), SHA-1 and
//! SHA-256 from RustCrypto. `docs/FORMAT.md` §5.8 gives the byte layout.

use crate::envelope::MAX_PARTS;
use crate::error::{Error, Result};
use base64ct::{Base64, Encoding};
use core::fmt;
use crc::{CRC_32_ISCSI, CRC_32_ISO_HDLC, CRC_64_NVME, Crc, Table};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

static CRC32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);
static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISCSI);
static CRC64NVME: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_NVME);

/// Longest checksum value (SHA-256).
const MAX_LEN: usize = 32;

/// An S3 flexible-checksum algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib), `x-amz-checksum-crc32`.
    Crc32,
    /// CRC-32C (Castagnoli, iSCSI), `x-amz-checksum-crc32c`.
    Crc32c,
    /// CRC-64/NVME, `x-amz-checksum-crc64nvme`.
    Crc64Nvme,
    /// SHA-1, `x-amz-checksum-sha1`.
    Sha1,
    /// SHA-256, `x-amz-checksum-sha256`.
    Sha256,
}

impl ChecksumAlgorithm {
    const ALL: [Self; 5] = [Self::Crc32, Self::Crc32c, Self::Crc64Nvme, Self::Sha1, Self::Sha256];

    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::Crc32 => 1,
            Self::Crc32c => 2,
            Self::Crc64Nvme => 3,
            Self::Sha1 => 4,
            Self::Sha256 => 5,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// S3's name (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`), as in
    /// `x-amz-sdk-checksum-algorithm` and `x-amz-checksum-algorithm`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The algorithm S3 names `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The header carrying the value: `x-amz-checksum-crc32` and so on.
    pub const fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The value's length in bytes.
    pub const fn value_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// Whether this is a CRC (whose part values combine into the whole object's).
    pub const fn is_crc(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }
}

/// A checksum value as S3 returns it: of the whole object (`FULL_OBJECT`), or of the concatenated
/// part checksums of a multipart object (`COMPOSITE`, written with a `-N` suffix).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum {
    algorithm: ChecksumAlgorithm,
    value: [u8; MAX_LEN],
    parts: Option<u32>,
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checksum").field("algorithm", &self.algorithm).field("parts", &self.parts).finish()
    }
}

impl Checksum {
    /// A full-object checksum from its big-endian value.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] unless `value` is as long as the algorithm's values.
    pub fn new(algorithm: ChecksumAlgorithm, value: &[u8]) -> Result<Self> {
        if value.len() != algorithm.value_len() {
            return Err(Error::InvalidPart);
        }
        let mut v = [0u8; MAX_LEN];
        v[..value.len()].copy_from_slice(value);
        Ok(Self { algorithm, value: v, parts: None })
    }

    /// The checksum of `data` in one call.
    pub fn compute(algorithm: ChecksumAlgorithm, data: &[u8]) -> Self {
        let mut state = ChecksumState::new(algorithm);
        state.update(data);
        state.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// The value, big-endian, as many bytes as the algorithm's.
    pub fn value(&self) -> &[u8] {
        &self.value[..self.algorithm.value_len()]
    }

    /// For a composite checksum, the number of parts it covers.
    pub fn part_count(&self) -> Option<u32> {
        self.parts
    }

    /// The header value S3 sends: base64 of the value, with `-N` for a composite checksum.
    pub fn to_base64(self) -> String {
        let b64 = Base64::encode_string(self.value());
        match self.parts {
            Some(n) => format!("{b64}-{n}"),
            None => b64,
        }
    }

    /// The response header: its name and [`Checksum::to_base64`].
    pub fn header(&self) -> (&'static str, String) {
        (self.algorithm.header_name(), self.to_base64())
    }

    /// S3's `COMPOSITE` checksum of a multipart object: the checksum of its parts' values
    /// concatenated in part order, with the part count.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for no parts, more than 10,000, mixed algorithms or a composite
    /// among them.
    pub fn composite(parts: &[Checksum]) -> Result<Self> {
        let algorithm = check_parts(parts.iter())?;
        let mut state = ChecksumState::new(algorithm);
        for part in parts {
            state.update(part.value());
        }
        let mut checksum = state.finish();
        checksum.parts = u32::try_from(parts.len()).ok();
        Ok(checksum)
    }

    /// S3's `FULL_OBJECT` checksum of a multipart object from its parts' CRCs and plaintext
    /// lengths: the CRC of the whole object, without reading it again.
    ///
    /// # Errors
    /// [`Error::InvalidPart`] for no parts, more than 10,000, mixed algorithms, a composite among
    /// them, or an algorithm that is not a CRC.
    pub fn full_object(parts: &[(Checksum, u64)]) -> Result<Self> {
        let algorithm = check_parts(parts.iter().map(|(c, _)| c))?;
        let (width, poly) = match algorithm {
            ChecksumAlgorithm::Crc32 => (32, u64::from(CRC_32_ISO_HDLC.poly.reverse_bits())),
            ChecksumAlgorithm::Crc32c => (32, u64::from(CRC_32_ISCSI.poly.reverse_bits())),
            ChecksumAlgorithm::Crc64Nvme => (64, CRC_64_NVME.poly.reverse_bits()),
            _ => return Err(Error::InvalidPart),
        };
        let mut crc = 0u64;
        for (i, (part, len)) in parts.iter().enumerate() {
            let mut be = [0u8; 8];
            be[8 - part.value().len()..].copy_from_slice(part.value());
            let value = u64::from_be_bytes(be);
            crc = if i == 0 { value } else { crc_combine(crc, value, *len, width, poly) };
        }
        let bytes = crc.to_be_bytes();
        Self::new(algorithm, &bytes[8 - algorithm.value_len()..])
    }
}

/// The one algorithm of a list of single (not composite) checksums, 1 to 10,000 of them.
fn check_parts<'a>(mut parts: impl ExactSizeIterator<Item = &'a Checksum>) -> Result<ChecksumAlgorithm> {
    if parts.len() == 0 || parts.len() > MAX_PARTS as usize {
        return Err(Error::InvalidPart);
    }
    let first = parts.next().ok_or(Error::InvalidPart)?;
    if first.parts.is_some() || parts.any(|p| p.algorithm != first.algorithm || p.parts.is_some()) {
        return Err(Error::InvalidPart);
    }
    Ok(first.algorithm)
}

/// `CRC(A ‖ B)` from `CRC(A)`, `CRC(B)` and `len(B)`, for a reflected CRC of `width` bits with
/// reflected polynomial `poly` and equal initial value and final XOR (all three S3 CRCs): zlib's
/// `crc32_combine`, generalised. Appending `len(B)` zero bytes to A is a linear map over GF(2),
/// applied to `CRC(A)` by repeated squaring of the one-zero-bit operator.
fn crc_combine(crc1: u64, crc2: u64, len2: u64, width: usize, poly: u64) -> u64 {
    fn times(mat: &[u64; 64], width: usize, mut vec: u64) -> u64 {
        let mut sum = 0;
        for row in mat.iter().take(width) {
            if vec & 1 == 1 {
                sum ^= row;
            }
            vec >>= 1;
        }
        sum
    }
    fn square(mat: &[u64; 64], width: usize) -> [u64; 64] {
        let mut out = [0u64; 64];
        for n in 0..width {
            out[n] = times(mat, width, mat[n]);
        }
        out
    }
    if len2 == 0 {
        return crc1;
    }
    // The operator for one zero bit: shift right, XOR the polynomial when the low bit falls out.
    let mut odd = [0u64; 64];
    odd[0] = poly;
    for (n, row) in odd.iter_mut().enumerate().take(width).skip(1) {
        *row = 1 << (n - 1);
    }
    let mut even = square(&odd, width); // two zero bits
    odd = square(&even, width); // four zero bits
    let (mut crc1, mut len2) = (crc1, len2);
    loop {
        even = square(&odd, width); // the first pass: one zero byte
        if len2 & 1 == 1 {
            crc1 = times(&even, width, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        odd = square(&even, width);
        if len2 & 1 == 1 {
            crc1 = times(&odd, width, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
}

/// A checksum being computed over data pushed in pieces.
pub(crate) enum ChecksumState {
    Crc32(crc::Digest<'static, u32, Table<16>>),
    Crc32c(crc::Digest<'static, u32, Table<16>>),
    Crc64Nvme(crc::Digest<'static, u64, Table<16>>),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChecksumState {
    pub(crate) fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Self::Crc32(CRC32.digest()),
            ChecksumAlgorithm::Crc32c => Self::Crc32c(CRC32C.digest()),
            ChecksumAlgorithm::Crc64Nvme => Self::Crc64Nvme(CRC64NVME.digest()),
            ChecksumAlgorithm::Sha1 => Self::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Self::Crc32(d) | Self::Crc32c(d) => d.update(data),
            Self::Crc64Nvme(d) => d.update(data),
            Self::Sha1(d) => d.update(data),
            Self::Sha256(d) => d.update(data),
        }
    }

    pub(crate) fn finish(self) -> Checksum {
        let (algorithm, bytes): (ChecksumAlgorithm, Vec<u8>) = match self {
            Self::Crc32(d) => (ChecksumAlgorithm::Crc32, d.finalize().to_be_bytes().to_vec()),
            Self::Crc32c(d) => (ChecksumAlgorithm::Crc32c, d.finalize().to_be_bytes().to_vec()),
            Self::Crc64Nvme(d) => (ChecksumAlgorithm::Crc64Nvme, d.finalize().to_be_bytes().to_vec()),
            Self::Sha1(d) => (ChecksumAlgorithm::Sha1, d.finalize().to_vec()),
            Self::Sha256(d) => (ChecksumAlgorithm::Sha256, d.finalize().to_vec()),
        };
        let mut value = [0u8; MAX_LEN];
        value[..bytes.len()].copy_from_slice(&bytes);
        Checksum { algorithm, value, parts: None }
    }
}

/// The sealed payload item: `code ‖ value`, and `BE32(part count)` for a composite checksum
/// (`docs/FORMAT.md` §5.8).
pub(crate) fn encode_item(checksum: &Checksum) -> Vec<u8> {
    let mut out = vec![checksum.algorithm.code()];
    out.extend_from_slice(checksum.value());
    if let Some(n) = checksum.parts {
        out.extend_from_slice(&n.to_be_bytes());
    }
    out
}

/// Decodes [`encode_item`] strictly.
pub(crate) fn decode_item(bytes: &[u8]) -> Option<Checksum> {
    let (&code, rest) = bytes.split_first()?;
    let algorithm = ChecksumAlgorithm::from_code(code)?;
    let (value, count) = rest.split_at_checked(algorithm.value_len())?;
    let mut checksum = Checksum::new(algorithm, value).ok()?;
    match count {
        [] => {}
        [a, b, c, d] => {
            let n = u32::from_be_bytes([*a, *b, *c, *d]);
            if n == 0 || n > MAX_PARTS {
                return None;
            }
            checksum.parts = Some(n);
        }
        _ => return None,
    }
    Some(checksum)
}
