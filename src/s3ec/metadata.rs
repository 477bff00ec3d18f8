//! The S3EC metadata codec: V2 and V3 mapkeys, format detection, RFC 2047 decoding.

use super::instruction;
use super::{CBC_CEK_NAME, S3ecContent, S3ecError, S3ecFormat, S3ecOptions, S3ecWrap};
use crate::envelope::echo;
use crate::error::Result;
use crate::kms::EncryptionContext;
use base64ct::{Base64, Encoding};
use std::borrow::Cow;
use std::collections::BTreeMap;

pub(super) const KEY_V1: &str = "x-amz-key";
pub(super) const KEY_V2: &str = "x-amz-key-v2";
pub(super) const IV: &str = "x-amz-iv";
pub(super) const MATDESC: &str = "x-amz-matdesc";
pub(super) const WRAP_ALG: &str = "x-amz-wrap-alg";
pub(super) const CEK_ALG: &str = "x-amz-cek-alg";
pub(super) const TAG_LEN: &str = "x-amz-tag-len";
pub(super) const PLAIN_LEN: &str = "x-amz-unencrypted-content-length";
pub(super) const INSTRUCTION_MARKER: &str = "x-amz-crypto-instr-file";
pub(super) const V3_CEK: &str = "x-amz-c";
pub(super) const V3_KEY: &str = "x-amz-3";
pub(super) const V3_MATDESC: &str = "x-amz-m";
pub(super) const V3_CONTEXT: &str = "x-amz-t";
pub(super) const V3_WRAP: &str = "x-amz-w";
pub(super) const V3_COMMITMENT: &str = "x-amz-d";
pub(super) const V3_MESSAGE_ID: &str = "x-amz-i";

/// Every mapkey s3crypt knows, as AWS's clients spell them (without S3's `x-amz-meta-` prefix).
pub(super) const MAPKEYS: [&str; 16] = [
    KEY_V1,
    KEY_V2,
    IV,
    MATDESC,
    WRAP_ALG,
    CEK_ALG,
    TAG_LEN,
    PLAIN_LEN,
    INSTRUCTION_MARKER,
    V3_CEK,
    V3_KEY,
    V3_MATDESC,
    V3_CONTEXT,
    V3_WRAP,
    V3_COMMITMENT,
    V3_MESSAGE_ID,
];

/// V2 content algorithm name, also the V2 AES/GCM wrap's associated data and the V2 value of the
/// reserved context entry.
pub(super) const V2_CEK_NAME: &str = "AES/GCM/NoPadding";
/// V3 content algorithm: suite 0x0073, in decimal.
pub(super) const V3_CEK_NAME: &str = "115";
/// The reserved encryption-context entry binding a `kms+context` wrap to the content algorithm.
pub(super) const CEK_CONTEXT_KEY: &str = "aws:x-amz-cek-alg";
const S3_META_PREFIX: &str = "x-amz-meta-";
/// The longest mapkey value accepted (S3 caps all user metadata at 2 KiB; instruction files are
/// larger only through their JSON quoting).
const MAX_VALUE_LEN: usize = 8 * 1024;

pub(super) const IV_LEN: usize = 12;
/// The IV of legacy CBC content: one AES block.
pub(super) const CBC_IV_LEN: usize = 16;
/// The longest encrypted data key the V1 `AES` (ECB) wrap produces: a 256-bit key plus a block of
/// PKCS#5 padding. AWS's Java client tells a V1 `AES` wrap from a V1 `RSA` one by this length.
const V1_AES_EDK_MAX: usize = 48;
pub(super) const MESSAGE_ID_LEN: usize = 28;
pub(super) const COMMITMENT_LEN: usize = 28;

/// The S3EC mapkeys found in a set of metadata pairs, by canonical name.
#[derive(Debug, Default)]
pub(super) struct MapKeys(pub(super) BTreeMap<&'static str, String>);

/// The canonical spelling of an S3EC mapkey, with or without S3's `x-amz-meta-` prefix, in any case.
pub(super) fn canonical_key(name: &str) -> Option<&'static str> {
    let bare = match name.get(..S3_META_PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(S3_META_PREFIX) => &name[S3_META_PREFIX.len()..],
        _ => name,
    };
    MAPKEYS.iter().copied().find(|k| k.eq_ignore_ascii_case(bare))
}

impl MapKeys {
    /// Collects the S3EC mapkeys among `pairs` (other user metadata is ignored).
    pub(super) fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut keys = Self::default();
        for (name, value) in pairs {
            if let Some(key) = canonical_key(name) {
                keys.insert(key, value)?;
            }
        }
        Ok(keys)
    }

    pub(super) fn insert(&mut self, key: &'static str, value: &str) -> Result<()> {
        if value.len() > MAX_VALUE_LEN {
            return Err(S3ecError::InvalidValue(key).into());
        }
        if self.0.insert(key, value.to_owned()).is_some() {
            return Err(S3ecError::DuplicateKey(key).into());
        }
        Ok(())
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn require(&self, key: &'static str) -> Result<&str> {
        self.get(key).ok_or_else(|| S3ecError::MissingKey(key).into())
    }
}

/// What an object's metadata says about its S3EC envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum S3ecMetadata {
    /// The envelope is in the metadata.
    Envelope(S3ecEnvelope),
    /// The envelope is not (or not entirely) in the metadata: read the instruction file
    /// (`<key>.instruction`, [`crate::S3EC_INSTRUCTION_SUFFIX`]) and call
    /// [`S3ecEnvelope::from_instruction_file`]. If there is none, the object cannot be read as an
    /// S3EC object: refuse it ([`crate::S3ecError::NotEncrypted`]), as AWS's clients do. Never
    /// return its body as plaintext: metadata is storage's to change, so an encrypted object whose
    /// S3EC metadata was stripped and whose instruction file was removed looks exactly like this.
    InstructionFile,
}

/// A parsed, validated S3EC V2 or V3 envelope: everything needed to unwrap the data key and open
/// the body. Build one from metadata ([`S3ecEnvelope::from_metadata`]), from metadata and an
/// instruction file ([`S3ecEnvelope::from_instruction_file`]), or by sealing ([`crate::S3ecSealer`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3ecEnvelope {
    pub(super) format: S3ecFormat,
    pub(super) content: S3ecContent,
    pub(super) wrap: S3ecWrap,
    pub(super) encrypted_key: Vec<u8>,
    /// V2 GCM: `x-amz-iv`. V3: unused (the body IV is fixed). CBC: zero.
    pub(super) iv: [u8; IV_LEN],
    /// CBC content only (V1, V2 CBC): `x-amz-iv`, 16 bytes; zero otherwise.
    pub(super) cbc_iv: [u8; CBC_IV_LEN],
    /// V3 only (zero in V2).
    pub(super) message_id: [u8; MESSAGE_ID_LEN],
    /// V3 only (zero in V2).
    pub(super) commitment: [u8; COMMITMENT_LEN],
    /// The material description (AES/GCM, RSA) or the KMS encryption context (kms+context), as
    /// stored, reserved entries included.
    pub(super) description: EncryptionContext,
    pub(super) plaintext_len: Option<u64>,
}

impl S3ecEnvelope {
    /// Parses an object's user metadata: `(name, value)` pairs as S3 returns them, with or without
    /// the `x-amz-meta-` prefix, names in any case; non-S3EC pairs are ignored. Values S3 returned
    /// RFC 2047-encoded (`=?UTF-8?B?…?=`, how it answers for non-ASCII metadata) are decoded.
    ///
    /// # Errors
    /// [`S3ecError`] (as [`crate::Error::S3ec`]) for mixed V1/V2/V3 keys, a missing or malformed key,
    /// an all-zero IV or message id, a legacy algorithm without its opt-in
    /// ([`S3ecError::LegacyContentRefused`], [`S3ecError::LegacyWrapRefused`]), an unknown or
    /// unimplemented one, or a format the commitment policy refuses (V1 and V2 under
    /// `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`).
    pub fn from_metadata<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        options: &S3ecOptions,
    ) -> Result<S3ecMetadata> {
        let keys = MapKeys::from_pairs(pairs)?;
        if !(keys.has(KEY_V1) || keys.has(KEY_V2) || keys.has(V3_KEY)) {
            // AWS's rule: no encrypted data key in the metadata means an instruction file. Still
            // refuse metadata no honest writer produces.
            check_mixed(&keys)?;
            return Ok(S3ecMetadata::InstructionFile);
        }
        Self::from_keys(&keys, options).map(S3ecMetadata::Envelope)
    }

    /// Parses an object's metadata together with the body of its instruction file
    /// (`<key>.instruction`): a JSON object of mapkeys. For V3 the content keys `x-amz-c`,
    /// `x-amz-d` and `x-amz-i` must stay in the object's metadata (so swapping instruction files
    /// cannot swap the commitment); a key in both places with two different values is refused.
    ///
    /// # Errors
    /// [`S3ecError::InvalidInstructionFile`] for a malformed file, otherwise as
    /// [`S3ecEnvelope::from_metadata`].
    pub fn from_instruction_file<'a>(
        object_pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        instruction: &[u8],
        options: &S3ecOptions,
    ) -> Result<Self> {
        let mut keys = MapKeys::from_pairs(object_pairs)?;
        keys.0.remove(INSTRUCTION_MARKER);
        let object_has_content_keys = keys.has(CEK_ALG) || keys.has(IV) || keys.has(WRAP_ALG);
        for (key, value) in instruction::parse(instruction)? {
            // AWS's Go v1 client writes some keys in both places; the same value twice is harmless,
            // two different values are ambiguous.
            if keys.get(key) == Some(value.as_str()) {
                continue;
            }
            keys.insert(key, &value)?;
        }
        if (keys.has(KEY_V1) || keys.has(KEY_V2)) && object_has_content_keys {
            return Err(S3ecError::MixedFormats.into());
        }
        Self::from_keys(&keys, options)
    }

    fn from_keys(keys: &MapKeys, options: &S3ecOptions) -> Result<Self> {
        check_mixed(keys)?;
        let plaintext_len = match keys.get(PLAIN_LEN) {
            None => None,
            Some(v) => Some(parse_decimal(v).ok_or(S3ecError::InvalidValue(PLAIN_LEN))?),
        };
        let envelope = if keys.has(KEY_V1) {
            Self::from_v1_v2(keys, options, plaintext_len, S3ecFormat::V1)?
        } else if keys.has(KEY_V2) {
            Self::from_v1_v2(keys, options, plaintext_len, S3ecFormat::V2)?
        } else {
            Self::from_v3(keys, plaintext_len)?
        };
        // Refused before any key is unwrapped (or any KMS asked), and again by the opener.
        if !options.commitment_policy.allows_decrypt(envelope.format) {
            return Err(S3ecError::CommitmentPolicy(options.commitment_policy.aws_name()).into());
        }
        Ok(envelope)
    }

    /// V1 (`x-amz-key`) and V2 (`x-amz-key-v2`) share their mapkeys; V1 content is always CBC.
    fn from_v1_v2(
        keys: &MapKeys,
        options: &S3ecOptions,
        plaintext_len: Option<u64>,
        format: S3ecFormat,
    ) -> Result<Self> {
        // V1 is legacy whatever else it says.
        if format == S3ecFormat::V1 && !options.legacy_unauthenticated_modes {
            return Err(S3ecError::LegacyContentRefused("V1 (x-amz-key, AES/CBC)".to_owned()).into());
        }
        let content = match (format, keys.get(CEK_ALG)) {
            (S3ecFormat::V2, Some(V2_CEK_NAME)) => S3ecContent::AesGcm,
            // AWS (Java): a missing x-amz-cek-alg means CBC; V1 is CBC whatever it says.
            (_, None | Some(CBC_CEK_NAME)) => S3ecContent::AesCbc,
            (_, Some(other)) => return Err(S3ecError::Unsupported(echo(other)).into()),
        };
        if content == S3ecContent::AesCbc && !options.legacy_unauthenticated_modes {
            let what = if format == S3ecFormat::V1 { "V1 (x-amz-key, AES/CBC)" } else { "AES/CBC" };
            return Err(S3ecError::LegacyContentRefused(what.to_owned()).into());
        }
        let key_name = if format == S3ecFormat::V1 { KEY_V1 } else { KEY_V2 };
        let encrypted_key = decode_key(keys.require(key_name)?, key_name)?;
        let wrap = match keys.get(WRAP_ALG) {
            Some("AES/GCM") => S3ecWrap::AesGcm,
            Some("kms+context") => S3ecWrap::KmsContext,
            Some("RSA-OAEP-SHA1") => S3ecWrap::RsaOaepSha1,
            Some("kms") => S3ecWrap::Kms,
            Some("AESWrap") => S3ecWrap::AesWrap,
            Some(legacy @ "RSA/ECB/OAEPWithSHA-256AndMGF1Padding") => {
                return Err(legacy_wrap(options, legacy).into());
            }
            // AWS: no x-amz-wrap-alg is a v1 EncryptionOnly object, its data key encrypted with the
            // master key itself: `AES` (ECB) for a symmetric key, `RSA` (PKCS#1 v1.5) for a key
            // pair; Java tells them apart by the length. Only with CBC content.
            None if content == S3ecContent::AesCbc && encrypted_key.len() <= V1_AES_EDK_MAX => {
                S3ecWrap::AesEcb
            }
            None if content == S3ecContent::AesCbc => {
                return Err(legacy_wrap(options, "RSA (v1 EncryptionOnly)").into());
            }
            None => return Err(S3ecError::MissingKey(WRAP_ALG).into()),
            Some(other) => return Err(S3ecError::Unsupported(echo(other)).into()),
        };
        if wrap.is_legacy() && !options.legacy_wrapping_algorithms {
            return Err(S3ecError::LegacyWrapRefused(wrap.v2_name().to_owned()).into());
        }
        let (iv, cbc_iv) = match content {
            S3ecContent::AesCbc => {
                // What AWS's clients wrote with CBC content: the legacy wraps. The current wraps
                // bind a GCM content algorithm, and no AWS client paired them with CBC.
                if !wrap.is_legacy() {
                    return Err(S3ecError::Unsupported(format!("{} with AES/CBC", wrap.v2_name())).into());
                }
                if keys.has(TAG_LEN) {
                    return Err(S3ecError::InvalidValue(TAG_LEN).into());
                }
                let cbc_iv: [u8; CBC_IV_LEN] = decode_fixed(keys.require(IV)?, IV)?;
                if cbc_iv == [0; CBC_IV_LEN] {
                    return Err(S3ecError::InvalidValue(IV).into());
                }
                ([0; IV_LEN], cbc_iv)
            }
            _ => {
                if wrap == S3ecWrap::AesEcb {
                    return Err(
                        S3ecError::Unsupported("AES (v1 EncryptionOnly) with AES/GCM".to_owned()).into()
                    );
                }
                if keys.get(TAG_LEN).is_some_and(|t| t != "128") {
                    return Err(S3ecError::InvalidValue(TAG_LEN).into());
                }
                let iv: [u8; IV_LEN] = decode_fixed(keys.require(IV)?, IV)?;
                if iv == [0; IV_LEN] {
                    return Err(S3ecError::InvalidValue(IV).into());
                }
                (iv, [0; CBC_IV_LEN])
            }
        };
        Ok(Self {
            format,
            content,
            wrap,
            encrypted_key,
            iv,
            cbc_iv,
            message_id: [0; MESSAGE_ID_LEN],
            commitment: [0; COMMITMENT_LEN],
            description: parse_description(keys.get(MATDESC), MATDESC)?,
            plaintext_len,
        })
    }

    fn from_v3(keys: &MapKeys, plaintext_len: Option<u64>) -> Result<Self> {
        match keys.require(V3_CEK)? {
            V3_CEK_NAME => {}
            other => return Err(S3ecError::Unsupported(format!("x-amz-c {}", echo(other))).into()),
        }
        let wrap = match keys.require(V3_WRAP)? {
            "02" => S3ecWrap::AesGcm,
            "12" => S3ecWrap::KmsContext,
            "22" => S3ecWrap::RsaOaepSha1,
            other => return Err(S3ecError::Unsupported(format!("x-amz-w {}", echo(other))).into()),
        };
        let message_id: [u8; MESSAGE_ID_LEN] = decode_fixed(keys.require(V3_MESSAGE_ID)?, V3_MESSAGE_ID)?;
        if message_id == [0; MESSAGE_ID_LEN] {
            return Err(S3ecError::InvalidValue(V3_MESSAGE_ID).into());
        }
        let commitment = decode_fixed(keys.require(V3_COMMITMENT)?, V3_COMMITMENT)?;
        let description = match wrap {
            S3ecWrap::KmsContext => parse_description(keys.get(V3_CONTEXT), V3_CONTEXT)?,
            _ => parse_description(keys.get(V3_MATDESC), V3_MATDESC)?,
        };
        Ok(Self {
            format: S3ecFormat::V3,
            content: S3ecContent::AesGcmCommitting,
            wrap,
            encrypted_key: decode_key(keys.require(V3_KEY)?, V3_KEY)?,
            iv: [1; IV_LEN],
            cbc_iv: [0; CBC_IV_LEN],
            message_id,
            commitment,
            description,
            plaintext_len,
        })
    }

    /// The format (V1, V2 or V3).
    pub fn format(&self) -> S3ecFormat {
        self.format
    }

    /// The content (body) algorithm: CBC only for legacy objects read with
    /// [`S3ecOptions::enable_legacy_unauthenticated_modes`].
    pub fn content(&self) -> S3ecContent {
        self.content
    }

    /// How the data key is wrapped.
    pub fn wrap(&self) -> S3ecWrap {
        self.wrap
    }

    /// The material description (AES/GCM and RSA wraps) or KMS encryption context (`kms+context`)
    /// as stored, reserved entries (`aws:x-amz-cek-alg`) included.
    pub fn description(&self) -> &EncryptionContext {
        &self.description
    }

    /// The plaintext length, when the writer stated it (`x-amz-unencrypted-content-length`; Go and
    /// .NET write it, Java and Python do not).
    pub fn plaintext_len(&self) -> Option<u64> {
        self.plaintext_len
    }

    /// The envelope as user-metadata pairs (names without S3's `x-amz-meta-` prefix; send them as
    /// `x-amz-meta-<name>` headers). Values are visible ASCII and spaces, valid HTTP field values:
    /// JSON contexts escape controls, DEL and anything beyond ASCII as `\uXXXX`.
    pub fn to_metadata(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::with_capacity(7);
        match self.format {
            // Legacy (decrypt-only) envelopes as they were read, so they can be carried over.
            S3ecFormat::V1 | S3ecFormat::V2 if self.content == S3ecContent::AesCbc => {
                let key = if self.format == S3ecFormat::V1 { KEY_V1 } else { KEY_V2 };
                pairs.push((key, Base64::encode_string(&self.encrypted_key)));
                pairs.push((IV, Base64::encode_string(&self.cbc_iv)));
                pairs.push((MATDESC, ascii_json(&self.description)));
                if self.wrap != S3ecWrap::AesEcb {
                    pairs.push((WRAP_ALG, self.wrap.v2_name().to_owned()));
                }
                if self.format == S3ecFormat::V2 {
                    pairs.push((CEK_ALG, CBC_CEK_NAME.to_owned()));
                }
            }
            S3ecFormat::V1 | S3ecFormat::V2 => {
                pairs.push((KEY_V2, Base64::encode_string(&self.encrypted_key)));
                pairs.push((IV, Base64::encode_string(&self.iv)));
                pairs.push((MATDESC, ascii_json(&self.description)));
                pairs.push((WRAP_ALG, self.wrap.v2_name().to_owned()));
                pairs.push((CEK_ALG, V2_CEK_NAME.to_owned()));
                pairs.push((TAG_LEN, "128".to_owned()));
            }
            S3ecFormat::V3 => {
                pairs.push((V3_CEK, V3_CEK_NAME.to_owned()));
                pairs.push((V3_KEY, Base64::encode_string(&self.encrypted_key)));
                pairs.push((V3_WRAP, self.wrap.v3_code().to_owned()));
                let slot = if self.wrap == S3ecWrap::KmsContext { V3_CONTEXT } else { V3_MATDESC };
                pairs.push((slot, ascii_json(&self.description)));
                pairs.push((V3_COMMITMENT, Base64::encode_string(&self.commitment)));
                pairs.push((V3_MESSAGE_ID, Base64::encode_string(&self.message_id)));
            }
        }
        if let Some(len) = self.plaintext_len {
            pairs.push((PLAIN_LEN, len.to_string()));
        }
        pairs
    }

    /// The envelope split as AWS's clients split it for an instruction file: the pairs that stay in
    /// the object's metadata (V3: `x-amz-c`, `x-amz-d`, `x-amz-i`; V2: none) and the JSON body of
    /// `<key>.instruction` (store that object with metadata `x-amz-crypto-instr-file: ""`).
    pub fn to_instruction_file(&self) -> (Vec<(&'static str, String)>, String) {
        let mut on_object = Vec::new();
        let mut in_file = BTreeMap::new();
        for (key, value) in self.to_metadata() {
            if matches!(key, V3_CEK | V3_COMMITMENT | V3_MESSAGE_ID) {
                on_object.push((key, value));
            } else {
                in_file.insert(key, value);
            }
        }
        // Serialising a map of strings cannot fail.
        (on_object, serde_json::to_string(&in_file).unwrap_or_default())
    }
}

/// Refuses metadata mixing the keys of several formats.
fn check_mixed(keys: &MapKeys) -> Result<()> {
    let edks = [KEY_V1, KEY_V2, V3_KEY].iter().filter(|k| keys.has(k)).count();
    let v3_keys = [V3_CEK, V3_KEY, V3_MATDESC, V3_CONTEXT, V3_WRAP, V3_COMMITMENT, V3_MESSAGE_ID];
    let v12_keys = [KEY_V1, KEY_V2, IV, MATDESC, WRAP_ALG, CEK_ALG, TAG_LEN];
    let has_v3 = v3_keys.iter().any(|k| keys.has(k));
    let has_v12 = v12_keys.iter().any(|k| keys.has(k));
    if edks > 1 || (has_v3 && has_v12) {
        return Err(S3ecError::MixedFormats.into());
    }
    Ok(())
}

fn legacy_wrap(options: &S3ecOptions, what: &str) -> S3ecError {
    if options.legacy_wrapping_algorithms {
        S3ecError::Unsupported(what.to_owned())
    } else {
        S3ecError::LegacyWrapRefused(what.to_owned())
    }
}

fn parse_decimal(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn decode_key(value: &str, key: &'static str) -> Result<Vec<u8>> {
    let bytes = Base64::decode_vec(value).map_err(|_| S3ecError::InvalidValue(key))?;
    if bytes.is_empty() {
        return Err(S3ecError::InvalidValue(key).into());
    }
    Ok(bytes)
}

fn decode_fixed<const N: usize>(value: &str, key: &'static str) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    match Base64::decode(value, &mut out) {
        Ok(decoded) if decoded.len() == N => Ok(out),
        _ => Err(S3ecError::InvalidValue(key).into()),
    }
}

fn parse_description(value: Option<&str>, key: &'static str) -> Result<EncryptionContext> {
    let Some(value) = value else { return Ok(EncryptionContext::new()) };
    let json = decode_rfc2047(value).ok_or(S3ecError::InvalidValue(key))?;
    EncryptionContext::from_json(json.as_bytes()).map_err(|_| S3ecError::InvalidValue(key).into())
}

/// JSON of a context with every non-ASCII character and DEL escaped (`\uXXXX`, surrogate pairs
/// beyond the BMP), so it travels in an HTTP header unchanged: JSON itself escapes only the other
/// controls, and DEL (0x7F) is no more a valid field-value byte (RFC 9110 §5.5) than they are.
pub(super) fn ascii_json(context: &EncryptionContext) -> String {
    let json = context.canonical_json();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && c != '\x7f' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Decodes a value made of RFC 2047 encoded words (`=?UTF-8?B?…?=` or `=?UTF-8?Q?…?=`, separated by
/// whitespace), as S3 returns non-ASCII user metadata; any other value is returned unchanged.
/// `None` for a malformed encoded word or a charset other than UTF-8 / US-ASCII.
pub(super) fn decode_rfc2047(value: &str) -> Option<Cow<'_, str>> {
    let trimmed = value.trim();
    if !(trimmed.starts_with("=?") && trimmed.ends_with("?=")) {
        return Some(Cow::Borrowed(value));
    }
    let mut bytes = Vec::new();
    for word in trimmed.split_ascii_whitespace() {
        let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
        let mut parts = inner.splitn(3, '?');
        let (charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
        if !(charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("us-ascii")) {
            return None;
        }
        if encoding.eq_ignore_ascii_case("b") {
            bytes.extend(Base64::decode_vec(text).ok()?);
        } else if encoding.eq_ignore_ascii_case("q") {
            let mut rest = text.bytes();
            while let Some(b) = rest.next() {
                match b {
                    b'_' => bytes.push(b' '),
                    b'=' => {
                        let hex = [rest.next()?, rest.next()?];
                        let hex = core::str::from_utf8(&hex).ok()?;
                        bytes.push(u8::from_str_radix(hex, 16).ok()?);
                    }
                    b'?' => return None,
                    b => bytes.push(b),
                }
            }
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2047_words() {
        assert_eq!(decode_rfc2047("plain").as_deref(), Some("plain"));
        assert_eq!(decode_rfc2047("=?UTF-8?B?Y2hpZmZyw6k=?=").as_deref(), Some("chiffré"));
        assert_eq!(decode_rfc2047("=?utf-8?q?chiffr=C3=A9_x?=").as_deref(), Some("chiffré x"));
        assert_eq!(decode_rfc2047("=?UTF-8?B?Y2hp?= =?UTF-8?B?ZmZyw6k=?=").as_deref(), Some("chiffré"));
        assert_eq!(decode_rfc2047("=?ISO-8859-1?B?6Q==?="), None);
        assert_eq!(decode_rfc2047("=?UTF-8?B?/w==?="), None, "not UTF-8");
        assert_eq!(decode_rfc2047("=?UTF-8?X?abc?="), None);
        assert_eq!(decode_rfc2047("=?UTF-8?Q?=Z?="), None);
    }

    #[test]
    fn ascii_json_escapes_beyond_the_bmp() {
        let mut c = EncryptionContext::new();
        c.insert("k", "é🔐").unwrap();
        assert_eq!(ascii_json(&c), r#"{"k":"\u00e9\ud83d\udd10"}"#);
        assert_eq!(EncryptionContext::from_json(ascii_json(&c).as_bytes()).unwrap(), c);
    }

    #[test]
    fn mapkey_spellings() {
        assert_eq!(canonical_key("X-Amz-Meta-X-Amz-Key-V2"), Some(KEY_V2));
        assert_eq!(canonical_key("x-amz-c"), Some(V3_CEK));
        assert_eq!(canonical_key("x-amz-meta-other"), None);
    }
}
