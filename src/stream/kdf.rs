//! Per-stream key derivation: C2SP chunked encryption's HKDF-Expand step.
//!
//! `key ‖ base nonce ‖ commitment = HKDF-Expand-SHA-512(prk = input key,
//!     info = "c2sp.org/chunked-encryption@v1+" ‖ label ‖ 0x00 ‖ salt ‖ context, 76)`
//!
//! `label` is `AEAD_AES_256_GCM` for 16 KiB chunks (exactly Cobblestone-256) and
//! `AEAD_AES_256_GCM;chunk=N` for the larger chunk sizes, so that a stream's chunk size is bound into
//! its keys and can never be changed by rewriting metadata.

use super::StreamParams;
use super::aead::{Aead, NONCE_LEN, Nonce};
use super::layout::{COMMITMENT_LEN, ChunkSize, SALT_LEN};
use crate::error::{Error, Result};
use crate::keys::{DataKey, KEY_LEN};
use ctutils::CtEq;
use hkdf::Hkdf;
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

const INFO_PREFIX: &[u8] = b"c2sp.org/chunked-encryption@v1+";

/// The HKDF-Expand labels naming the AEAD (and, off the C2SP size, the chunk size), indexed by
/// `log2(chunk size) - 14`.
const LABELS: [&[u8]; 7] = [
    b"AEAD_AES_256_GCM",
    b"AEAD_AES_256_GCM;chunk=32768",
    b"AEAD_AES_256_GCM;chunk=65536",
    b"AEAD_AES_256_GCM;chunk=131072",
    b"AEAD_AES_256_GCM;chunk=262144",
    b"AEAD_AES_256_GCM;chunk=524288",
    b"AEAD_AES_256_GCM;chunk=1048576",
];

/// The label for `chunk_size`. A chunk size without a label of its own is refused, never given
/// another size's (or C2SP's) label.
pub(crate) fn label(chunk_size: ChunkSize) -> Result<&'static [u8]> {
    let index = usize::from(chunk_size.log2()).checked_sub(14).ok_or(Error::InvalidChunkSize)?;
    LABELS.get(index).copied().ok_or(Error::InvalidChunkSize)
}

/// HKDF-Expand-SHA-512 keyed directly with a 32-byte key (C2SP uses no Extract step).
///
/// The `hkdf` crate refuses PRKs shorter than the hash output (RFC 5869 asks for at least HashLen
/// bytes), but HMAC itself zero-pads any key shorter than the 128-byte SHA-512 block (FIPS 198-1,
/// step 2), so keying with `key ‖ 0^32` computes exactly HMAC-SHA-512(key, ·). The Wycheproof
/// vectors confirm the equivalence.
pub(crate) fn expand_sha512(key: &[u8; KEY_LEN], info: &[&[u8]], okm: &mut [u8]) -> Result<()> {
    let mut prk = [0u8; 64];
    prk[..KEY_LEN].copy_from_slice(key);
    let hkdf = Hkdf::<Sha512>::from_prk(&prk).map_err(|_| Error::InvalidKeyLength(KEY_LEN));
    prk.zeroize();
    hkdf?.expand_multi_info(info, okm).map_err(|_| Error::TooLong)
}

/// The keys of one stream.
pub(crate) struct StreamKeys {
    pub(crate) aead: Aead,
    base_nonce: Nonce,
    commitment: [u8; COMMITMENT_LEN],
}

impl StreamKeys {
    pub(crate) fn derive(
        key: &DataKey,
        params: StreamParams,
        salt: &[u8; SALT_LEN],
        context: &[u8],
    ) -> Result<Self> {
        let mut okm = Zeroizing::new([0u8; KEY_LEN + NONCE_LEN + COMMITMENT_LEN]);
        let info = [INFO_PREFIX, label(params.chunk_size)?, &[0], salt, context];
        expand_sha512(key.expose_secret(), &info, okm.as_mut_slice())?;
        let (aead_key, rest) = okm.split_at(KEY_LEN);
        let (base_nonce, commitment) = rest.split_at(NONCE_LEN);
        let aead_key: &[u8; KEY_LEN] = aead_key.try_into().map_err(|_| Error::TooLong)?;
        Ok(Self {
            aead: Aead::new(params.backend, aead_key)?,
            base_nonce: base_nonce.try_into().map_err(|_| Error::TooLong)?,
            commitment: commitment.try_into().map_err(|_| Error::TooLong)?,
        })
    }

    /// The nonce of chunk `index`: the base nonce XOR the index as a 96-bit big-endian integer.
    pub(crate) fn nonce(&self, index: u64) -> Nonce {
        let mut nonce = self.base_nonce;
        for (n, i) in nonce[NONCE_LEN - 8..].iter_mut().zip(index.to_be_bytes()) {
            *n ^= i;
        }
        nonce
    }

    pub(crate) fn commitment(&self) -> &[u8; COMMITMENT_LEN] {
        &self.commitment
    }

    /// Checks a stored commitment in constant time.
    pub(crate) fn verify_commitment(&self, stored: &[u8]) -> Result<()> {
        if stored.len() == COMMITMENT_LEN && bool::from(self.commitment.as_slice().ct_eq(stored)) {
            Ok(())
        } else {
            Err(Error::Authentication)
        }
    }
}

impl Drop for StreamKeys {
    fn drop(&mut self) {
        self.base_nonce.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_size_has_its_own_label_and_16k_is_c2sp() {
        let labels: Vec<&[u8]> =
            (14..=20).map(|l| label(ChunkSize::from_log2(l).unwrap()).unwrap()).collect();
        assert_eq!(labels[0], b"AEAD_AES_256_GCM");
        for (i, l) in labels.iter().enumerate() {
            let size = 1u32 << (14 + i);
            if i > 0 {
                assert_eq!(*l, format!("AEAD_AES_256_GCM;chunk={size}").as_bytes());
            }
            assert_eq!(labels.iter().filter(|m| *m == l).count(), 1);
        }
    }
}
