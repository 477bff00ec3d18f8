//! The two constructions every key-wrapping path uses, written once: HKDF-SHA-512 and AES-256-GCM
//! under a key that encrypts exactly one message (so the fixed zero nonce never repeats).

use crate::error::{Error, Result};
use crate::keys::KEY_LEN;
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use hkdf::Hkdf;
use sha2::Sha512;
use zeroize::Zeroizing;

/// Length of the tag appended by [`seal_once`].
pub(crate) const TAG_LEN: usize = 16;

/// RFC 5869 HKDF-SHA-512 (Extract, then Expand over the concatenation of `info`).
pub(crate) fn hkdf_sha512(salt: &[u8], ikm: &[u8], info: &[&[u8]], okm: &mut [u8]) -> Result<()> {
    Hkdf::<Sha512>::new(Some(salt), ikm).expand_multi_info(info, okm).map_err(|_| Error::TooLong)
}

/// A single-use AES-256-GCM key.
pub(crate) struct OnceKey(Aes256Gcm);

impl OnceKey {
    /// Derives a single-use key (and, into `extra`, further output) with HKDF-SHA-512.
    pub(crate) fn derive(salt: &[u8], ikm: &[u8], info: &[&[u8]], extra: &mut [u8]) -> Result<Self> {
        let mut okm = Zeroizing::new(vec![0u8; KEY_LEN + extra.len()]);
        hkdf_sha512(salt, ikm, info, &mut okm)?;
        extra.copy_from_slice(&okm[KEY_LEN..]);
        let key: &[u8; KEY_LEN] = okm[..KEY_LEN].try_into().map_err(|_| Error::TooLong)?;
        Ok(Self(Aes256Gcm::new(key.into())))
    }

    /// Encrypts `plaintext` (nonce 0) and returns `ciphertext ‖ tag`.
    pub(crate) fn seal(self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut out = plaintext.to_vec();
        let tag = self
            .0
            .encrypt_inout_detached(&[0; 12].into(), aad, out.as_mut_slice().into())
            .map_err(|_| Error::TooLong)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Authenticates and decrypts `ciphertext ‖ tag` (nonce 0); the plaintext is wiped on drop.
    pub(crate) fn open(self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let split = sealed.len().checked_sub(TAG_LEN).ok_or(Error::Authentication)?;
        let (ciphertext, tag) = sealed.split_at(split);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Authentication)?;
        let mut out = Zeroizing::new(ciphertext.to_vec());
        self.0
            .decrypt_inout_detached(&[0; 12].into(), aad, out.as_mut_slice().into(), tag.into())
            .map_err(|_| Error::Authentication)?;
        Ok(out)
    }
}
