//! S3EC key wrapping: `AES/GCM` with a raw AES-256 key, and `kms+context` through the embedder's
//! KMS (sans-I/O requests, or the [`Kms`] / [`AsyncKms`] traits); decrypt-only, the legacy `AESWrap`
//! (RFC 3394), V1 `AES` (ECB) and `kms` wraps.

use super::metadata::{CEK_CONTEXT_KEY, S3ecEnvelope, V2_CEK_NAME, V3_CEK_NAME};
use super::{CBC_CEK_NAME, S3ecError, S3ecFormat, S3ecWrap};
use crate::error::{Error, Result};
use crate::keys::{KEY_LEN, fill_random, secret_key};
use crate::kms::{AsyncKms, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, Kms, KmsDataKey};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use rand_core::TryCryptoRng;
use std::collections::BTreeMap;

secret_key!(
    /// A raw AES-256 wrapping key for S3EC's `AES/GCM` wrap (AWS's `AesKeyring`). Zeroized on drop;
    /// never printed.
    S3ecAesKey
);

secret_key!(
    /// An S3EC object's plaintext data key, as unwrapped. For V3 it is the HKDF input, never the
    /// content key itself. Zeroized on drop; never printed.
    S3ecDataKey
);

/// `nonce(12) ‖ AES-256-GCM(data key)(32) ‖ tag(16)`.
const AES_EDK_LEN: usize = 12 + KEY_LEN + 16;
/// RFC 3394 output for a 32-byte key: the 8-byte integrity block plus the key.
const AES_WRAP_EDK_LEN: usize = KEY_LEN + aes_kw::IV_LEN;
/// V1 `AES` (AES/ECB/PKCS5Padding) of a 32-byte key: two blocks of key and one of padding.
const AES_ECB_EDK_LEN: usize = KEY_LEN + 16;
/// The first byte of an RSA-OAEP-SHA1 pseudo-key: the data key's length.
#[cfg(feature = "aws-lc")]
const PSEUDO_KEY_LEN: u8 = 32;
/// Context entries AWS's readers drop before comparing the stored context with the caller's.
const KMS_V1_KEY: &str = "kms_cmk_id";

/// The content-algorithm name a wrap binds: the AES/GCM wrap's associated data, and the value of
/// `aws:x-amz-cek-alg` in a `kms+context` encryption context.
pub(super) fn cek_name(format: S3ecFormat) -> &'static str {
    match format {
        // V1 content is always CBC; no V1 wrap binds it.
        S3ecFormat::V1 => CBC_CEK_NAME,
        S3ecFormat::V2 => V2_CEK_NAME,
        S3ecFormat::V3 => V3_CEK_NAME,
    }
}

/// Wraps `data_key` under `key`: a fresh 96-bit nonce per wrap (the wrapping key encrypts one
/// 32-byte message per object, far from GCM's random-nonce bound).
pub(super) fn wrap_aes<R: TryCryptoRng + ?Sized>(
    key: &S3ecAesKey,
    data_key: &S3ecDataKey,
    format: S3ecFormat,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut edk = vec![0u8; AES_EDK_LEN];
    fill_random(rng, &mut edk[..12])?;
    let (nonce, rest) = edk.split_at_mut(12);
    let (body, tag_out) = rest.split_at_mut(KEY_LEN);
    body.copy_from_slice(data_key.expose_secret());
    let nonce: &[u8; 12] = (&*nonce).try_into().map_err(|_| Error::TooLong)?;
    let tag = Aes256Gcm::new(key.expose_secret().into())
        .encrypt_inout_detached(nonce.into(), cek_name(format).as_bytes(), body.into())
        .map_err(|_| Error::TooLong)?;
    tag_out.copy_from_slice(&tag);
    Ok(edk)
}

impl S3ecEnvelope {
    /// Unwraps the data key of an object wrapped with a raw AES key: `AES/GCM`, or (legacy, only
    /// parsed with [`crate::S3ecOptions::enable_legacy_wrapping_algorithms`]) `AESWrap` or V1
    /// `AES`. The `AES/GCM` wrap binds the content algorithm (its associated data is
    /// `AES/GCM/NoPadding` for V2, `115` for V3), so a relabelled format fails here; the legacy
    /// wraps bind nothing. `AESWrap` (RFC 3394) detects a wrong key or a tampered wrap with its
    /// 64-bit integrity check; V1 `AES` (ECB) only through its padding block (a wrong key passes
    /// it with probability 2^-128).
    ///
    /// # Errors
    /// [`S3ecError::UnsupportedWrap`] if the object is not wrapped with an AES key;
    /// [`S3ecError::InvalidValue`] for an encrypted key of the wrong length;
    /// [`Error::Authentication`] for a wrong key or a tampered wrap.
    pub fn unwrap_aes(&self, key: &S3ecAesKey) -> Result<S3ecDataKey> {
        match self.wrap {
            S3ecWrap::AesGcm => {}
            S3ecWrap::AesWrap => return self.unwrap_aes_kw(key),
            S3ecWrap::AesEcb => return self.unwrap_aes_ecb(key),
            _ => return Err(S3ecError::UnsupportedWrap(self.wrap.v2_name()).into()),
        }
        if self.encrypted_key.len() != AES_EDK_LEN {
            return Err(S3ecError::InvalidValue("encrypted data key").into());
        }
        let (nonce, rest) = self.encrypted_key.split_at(12);
        let (body, tag) = rest.split_at(KEY_LEN);
        let nonce: &[u8; 12] = nonce.try_into().map_err(|_| Error::Authentication)?;
        let tag: &[u8; 16] = tag.try_into().map_err(|_| Error::Authentication)?;
        let mut buf = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        buf.copy_from_slice(body);
        Aes256Gcm::new(key.expose_secret().into())
            .decrypt_inout_detached(
                nonce.into(),
                cek_name(self.format).as_bytes(),
                (&mut buf[..]).into(),
                tag.into(),
            )
            .map_err(|_| Error::Authentication)?;
        Ok(S3ecDataKey::from_bytes(*buf))
    }

    /// RFC 3394 key unwrap (AES-256 KEK, default IV), as Java's `AESWrap` cipher.
    fn unwrap_aes_kw(&self, key: &S3ecAesKey) -> Result<S3ecDataKey> {
        if self.encrypted_key.len() != AES_WRAP_EDK_LEN {
            return Err(S3ecError::InvalidValue("encrypted data key").into());
        }
        let mut buf = zeroize::Zeroizing::new([0u8; AES_WRAP_EDK_LEN]);
        let kw = aes_kw::KwAes256::new(key.expose_secret().into());
        let plain = kw.unwrap_key(&self.encrypted_key, &mut buf[..]).map_err(|_| Error::Authentication)?;
        S3ecDataKey::from_slice(plain)
    }

    /// V1 `EncryptionOnly` with a symmetric master key: Java's `AES` cipher, i.e.
    /// AES-256/ECB/PKCS5Padding over the 32-byte data key. ECB over three independent blocks is
    /// AES itself, block by block; the padding (a whole block of `0x10`, as the key is 32 bytes) is
    /// compared in constant time and any failure is the one opaque [`Error::Authentication`].
    fn unwrap_aes_ecb(&self, key: &S3ecAesKey) -> Result<S3ecDataKey> {
        use aes::cipher::BlockCipherDecrypt;
        use ctutils::CtEq;
        if self.encrypted_key.len() != AES_ECB_EDK_LEN {
            return Err(S3ecError::InvalidValue("encrypted data key").into());
        }
        let aes = aes::Aes256::new(key.expose_secret().into());
        let mut buf = zeroize::Zeroizing::new([0u8; AES_ECB_EDK_LEN]);
        buf.copy_from_slice(&self.encrypted_key);
        for block in buf.chunks_exact_mut(16) {
            let block: &mut aes::Block = block.try_into().map_err(|_| Error::Authentication)?;
            aes.decrypt_block(block);
        }
        if !bool::from(buf[KEY_LEN..].ct_eq(&[16u8; 16][..])) {
            return Err(Error::Authentication);
        }
        S3ecDataKey::from_slice(&buf[..KEY_LEN])
    }

    /// The KMS Decrypt request for a `kms+context` object, after checking what AWS's clients check
    /// before asking the KMS: the stored context must bind this object's content algorithm
    /// (`aws:x-amz-cek-alg`), and the stored context minus its reserved entries must equal
    /// `context`, the one the caller expects. The request carries the stored context, so the KMS
    /// authenticates it. S3EC does not store the KMS key id: `key_id` is the caller's.
    ///
    /// A legacy `kms` object (only parsed with
    /// [`crate::S3ecOptions::enable_legacy_wrapping_algorithms`]) binds no content algorithm; its
    /// stored context is the material description AWS's v1 clients wrote, `{"kms_cmk_id": <key>}`
    /// plus any entries the writer added. Every entry of it is checked before the KMS is asked: it
    /// must not hold the reserved `aws:x-amz-cek-alg` (no `kms` writer put it there, so a
    /// `kms+context` object relabelled `kms` cannot skip the content binding), its `kms_cmk_id`, if
    /// any, must be `key_id`, and the rest must equal `context` — empty for what AWS's v1 clients
    /// wrote by default. So a blob planted from another context under the same KMS key (another
    /// tenant's, or a non-S3EC one) is refused here, not decrypted on the reader's authority. The
    /// request carries the stored context, which the KMS authenticates.
    ///
    /// # Errors
    /// [`S3ecError::UnsupportedWrap`] for another wrap; [`S3ecError::ContextMismatch`] as above.
    pub fn kms_decrypt_request(&self, key_id: &str, context: &EncryptionContext) -> Result<DecryptRequest> {
        match self.wrap {
            S3ecWrap::KmsContext => {}
            S3ecWrap::Kms => return self.kms_v1_decrypt_request(key_id, context),
            _ => return Err(S3ecError::UnsupportedWrap(self.wrap.v2_name()).into()),
        }
        if self.description.get(CEK_CONTEXT_KEY) != Some(cek_name(self.format)) {
            return Err(S3ecError::ContextMismatch.into());
        }
        self.approved_request(key_id, context, &[CEK_CONTEXT_KEY, KMS_V1_KEY])
    }

    fn kms_v1_decrypt_request(&self, key_id: &str, context: &EncryptionContext) -> Result<DecryptRequest> {
        if self.description.get(CEK_CONTEXT_KEY).is_some() {
            return Err(S3ecError::ContextMismatch.into());
        }
        if self.description.get(KMS_V1_KEY).is_some_and(|stored| stored != key_id) {
            return Err(S3ecError::ContextMismatch.into());
        }
        self.approved_request(key_id, context, &[KMS_V1_KEY])
    }

    /// The Decrypt request for the caller's `key_id`, once the caller has approved the stored
    /// context: storage chooses it, so every entry but the `reserved` ones must equal `context`'s.
    fn approved_request(
        &self,
        key_id: &str,
        context: &EncryptionContext,
        reserved: &[&str],
    ) -> Result<DecryptRequest> {
        let stored = self.description.iter().filter(|(k, _)| !reserved.contains(k));
        if !stored.eq(context.iter()) {
            return Err(S3ecError::ContextMismatch.into());
        }
        Ok(DecryptRequest {
            key_id: key_id.to_owned(),
            ciphertext_blob: self.encrypted_key.clone(),
            context: self.description.clone(),
        })
    }

    /// The data key from the KMS's answer to [`S3ecEnvelope::kms_decrypt_request`].
    pub fn kms_data_key(plaintext: &KmsDataKey) -> S3ecDataKey {
        S3ecDataKey::from_bytes(*plaintext.expose_secret())
    }

    /// [`S3ecEnvelope::kms_decrypt_request`], performed with a blocking KMS client.
    ///
    /// # Errors
    /// As [`S3ecEnvelope::kms_decrypt_request`], and [`Error::Kms`] for the KMS's error.
    pub fn unwrap_kms(
        &self,
        kms: &impl Kms,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<S3ecDataKey> {
        let request = self.kms_decrypt_request(key_id, context)?;
        Ok(Self::kms_data_key(&kms.decrypt(&request)?))
    }

    /// [`S3ecEnvelope::kms_decrypt_request`], performed with an async KMS client.
    ///
    /// # Errors
    /// As [`S3ecEnvelope::unwrap_kms`].
    pub async fn unwrap_kms_async(
        &self,
        kms: &impl AsyncKms,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<S3ecDataKey> {
        let request = self.kms_decrypt_request(key_id, context)?;
        Ok(Self::kms_data_key(&kms.decrypt(&request).await?))
    }
}

/// The context AWS's clients send to KMS GenerateDataKey: the caller's plus the reserved
/// `aws:x-amz-cek-alg` entry naming the content algorithm.
pub(super) fn kms_context(context: &EncryptionContext, format: S3ecFormat) -> Result<EncryptionContext> {
    let mut pairs: BTreeMap<&str, &str> = context.iter().collect();
    if pairs.insert(CEK_CONTEXT_KEY, cek_name(format)).is_some() {
        return Err(crate::SseError::ReservedContextKey.into());
    }
    let json = serde_json::to_vec(&pairs).map_err(|_| crate::SseError::InvalidEncryptionContext)?;
    EncryptionContext::from_json(&json)
}

/// The KMS GenerateDataKey request for a new S3EC object under `key_id` with the caller's `context`.
pub(super) fn generate_request(
    key_id: &str,
    context: &EncryptionContext,
    format: S3ecFormat,
) -> Result<GenerateDataKeyRequest> {
    Ok(GenerateDataKeyRequest { key_id: key_id.to_owned(), context: kms_context(context, format)? })
}

/// An RSA private key for S3EC's `RSA-OAEP-SHA1` wrap (AWS's `RsaKeyring`), decrypt-only. Available
/// with the `aws-lc` feature only: RSA decryption needs a constant-time implementation, and
/// RustCrypto's `rsa` is not one (RUSTSEC-2023-0071). Never printed.
#[cfg(feature = "aws-lc")]
pub struct S3ecRsaKey(aws_lc_rs::rsa::OaepPrivateDecryptingKey);

#[cfg(feature = "aws-lc")]
impl core::fmt::Debug for S3ecRsaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("S3ecRsaKey([REDACTED])")
    }
}

#[cfg(feature = "aws-lc")]
impl S3ecRsaKey {
    /// A key from its PKCS#8 DER encoding (2048 to 8192 bits).
    ///
    /// # Errors
    /// [`Error::InvalidKeyEncoding`] if AWS-LC rejects the encoding or the key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let key =
            aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der).map_err(|_| Error::InvalidKeyEncoding)?;
        aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(key).map(Self).map_err(|_| Error::InvalidKeyEncoding)
    }
}

#[cfg(feature = "aws-lc")]
impl S3ecEnvelope {
    /// Unwraps the data key of an `RSA-OAEP-SHA1` object: RSA-OAEP with SHA-1 and MGF1-SHA-1, no
    /// label, over `0x20 ‖ data key (32) ‖ content-algorithm name` (`AES/GCM/NoPadding` for V2, `115`
    /// for V3). The name binds the format and is compared in constant time.
    ///
    /// # Errors
    /// [`S3ecError::UnsupportedWrap`] for another wrap; [`Error::Authentication`] if decryption
    /// fails or the decrypted pseudo-key does not bind this object's format.
    pub fn unwrap_rsa(&self, key: &S3ecRsaKey) -> Result<S3ecDataKey> {
        use ctutils::CtEq;
        if self.wrap != S3ecWrap::RsaOaepSha1 {
            return Err(S3ecError::UnsupportedWrap(self.wrap.v2_name()).into());
        }
        let mut out = zeroize::Zeroizing::new(vec![0u8; key.0.min_output_size()]);
        let plain = key
            .0
            .decrypt(&aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1, &self.encrypted_key, &mut out, None)
            .map_err(|_| Error::Authentication)?;
        let name = cek_name(self.format).as_bytes();
        if plain.len() != 1 + KEY_LEN + name.len() {
            return Err(Error::Authentication);
        }
        let (head, suffix) = plain.split_at(1 + KEY_LEN);
        let binds = bool::from(head[0].ct_eq(&PSEUDO_KEY_LEN)) & bool::from(suffix.ct_eq(name));
        if !binds {
            return Err(Error::Authentication);
        }
        S3ecDataKey::from_slice(&head[1..])
    }
}
