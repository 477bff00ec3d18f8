//! The S3 metadata map: one `s3crypt-<field>` user-metadata entry per field.

use super::{
    CHECK_LEN, Draft, Envelope, Field, FormatError, Layout, PARTS_DIGEST_LEN, SALT_LEN, Scheme, Suite, Value,
    WrapAlgorithm, fixed, valid_key_id,
};
use crate::error::Result;
use crate::stream::{ChunkSize, HEADER_LEN};
use base64ct::{Base64, Encoding};

/// Prefix of every metadata name s3crypt writes (user-metadata keys; on the wire they travel as
/// `x-amz-meta-s3crypt-…` headers, and the decoder accepts that form too).
pub const METADATA_PREFIX: &str = "s3crypt-";

/// S3's limit on the user metadata of one object, counted as the bytes of every name and value.
pub(crate) const METADATA_BUDGET: usize = 2048;

const WIRE_PREFIX: &str = "x-amz-meta-";

impl Envelope {
    /// Encodes the envelope as S3 user metadata: `(name, value)` pairs whose names start with
    /// [`METADATA_PREFIX`] and whose values are valid HTTP header values (printable ASCII; bytes in
    /// standard base64).
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut pairs = vec![(Field::Version, super::ENVELOPE_VERSION.to_string())];
        for field in Field::TLV {
            let value = match field {
                Field::Scheme => self.scheme.token().to_owned(),
                Field::Suite => self.suite.token().to_owned(),
                Field::ChunkSize => self.chunk_size.bytes().to_string(),
                Field::Length => self.plaintext_len.to_string(),
                Field::Wrap => self.wrap.token().to_owned(),
                Field::KeyId if self.key_id.is_empty() => continue,
                Field::KeyId => self.key_id.clone(),
                Field::KeyVersion => self.key_version.to_string(),
                Field::Salt => Base64::encode_string(&self.salt),
                Field::KeyCheck => Base64::encode_string(&self.key_check),
                Field::WrappedKey => Base64::encode_string(&self.wrapped_key),
                Field::KmsBlob => match &self.kms {
                    Some(k) => Base64::encode_string(&k.blob),
                    None => continue,
                },
                Field::KmsContext => match &self.kms {
                    Some(k) => k.context.to_header(),
                    None => continue,
                },
                Field::BucketKey if self.bucket_key() => "true".to_owned(),
                Field::Upload if self.layout == Layout::Upload => "true".to_owned(),
                Field::Parts => match &self.layout {
                    Layout::Parts { count, .. } => count.to_string(),
                    _ => continue,
                },
                Field::PartsDigest => match &self.layout {
                    Layout::Parts { digest, .. } => Base64::encode_string(digest),
                    _ => continue,
                },
                Field::Description => match &self.description {
                    Some(d) => d.to_header(),
                    None => continue,
                },
                Field::BodyHeader => match &self.body_header {
                    Some(header) => Base64::encode_string(header),
                    None => continue,
                },
                Field::BucketKey | Field::Upload | Field::Version => continue,
            };
            pairs.push((field, value));
        }
        pairs.into_iter().map(|(f, v)| (format!("{METADATA_PREFIX}{}", f.name()), v)).collect()
    }

    /// Bytes the envelope takes of S3's 2 KiB user-metadata budget (names and values).
    pub fn metadata_len(&self) -> usize {
        self.to_metadata().iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Decodes an envelope from an object's user metadata. Pairs whose names do not start with
    /// [`METADATA_PREFIX`] (or `x-amz-meta-` and the prefix) are other metadata and are ignored;
    /// names compare case-insensitively, as HTTP header names do.
    ///
    /// # Errors
    /// [`crate::Error::Format`] with the specific [`FormatError`]: an unknown `s3crypt-` name, a
    /// duplicate, a missing field, a malformed or non-canonical value, or more than 2 KiB.
    pub fn from_metadata<I, K, V>(pairs: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Ok(decode(pairs)?)
    }
}

/// The field a metadata name denotes, `None` for names outside the envelope's prefix.
fn field_of(name: &str) -> Option<Result<Field, FormatError>> {
    let name = strip_prefix_ci(name, WIRE_PREFIX).unwrap_or(name);
    let rest = strip_prefix_ci(name, METADATA_PREFIX)?;
    Some(
        [Field::Version]
            .into_iter()
            .chain(Field::TLV)
            .find(|f| f.name().eq_ignore_ascii_case(rest))
            .ok_or_else(|| FormatError::UnknownField(super::echo(name))),
    )
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

fn decode<I, K, V>(pairs: I) -> Result<Envelope, FormatError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut draft = Draft::default();
    let mut version: Option<String> = None;
    let mut budget = 0usize;
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        let Some(field) = field_of(name) else {
            continue;
        };
        let field = field?;
        // The budget counts user-metadata names, as S3 does: without the `x-amz-meta-` transport prefix.
        let name = strip_prefix_ci(name, WIRE_PREFIX).unwrap_or(name);
        budget = budget.saturating_add(name.len()).saturating_add(value.len());
        if budget > METADATA_BUDGET {
            return Err(FormatError::TooLarge);
        }
        if field == Field::Version {
            if version.replace(value.to_owned()).is_some() {
                return Err(FormatError::DuplicateField(Field::Version));
            }
            continue;
        }
        draft.set(field, parse(field, value)?)?;
    }
    match version {
        None => return Err(FormatError::MissingField(Field::Version)),
        Some(v) if v != super::ENVELOPE_VERSION.to_string() => {
            return Err(FormatError::UnsupportedVersion(super::echo(&v)));
        }
        Some(_) => {}
    }
    draft.build()
}

/// A canonical decimal: ASCII digits, no sign, no leading zero (except `0` itself).
fn decimal(value: &str, field: Field) -> Result<u64, FormatError> {
    let b = value.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(FormatError::InvalidValue(field));
    }
    if b.len() > 1 && b[0] == b'0' {
        return Err(FormatError::NonCanonical(field));
    }
    value.parse().map_err(|_| FormatError::InvalidValue(field))
}

/// Standard base64 with padding, canonical (the decoder rejects non-zero trailing bits), at most
/// `max` decoded bytes; the size is checked before decoding.
fn base64(value: &str, field: Field, max: usize) -> Result<Vec<u8>, FormatError> {
    if value.len() > max.div_ceil(3) * 4 {
        return Err(FormatError::InvalidValue(field));
    }
    Base64::decode_vec(value).map_err(|_| FormatError::InvalidValue(field))
}

fn parse(field: Field, value: &str) -> Result<Value, FormatError> {
    let invalid = FormatError::InvalidValue(field);
    Ok(match field {
        Field::Scheme => Value::Scheme(Scheme::from_token(value).ok_or(invalid)?),
        Field::Suite => Value::Suite(Suite::from_token(value).ok_or(invalid)?),
        Field::ChunkSize => {
            Value::ChunkSize(ChunkSize::from_bytes(decimal(value, field)?).map_err(|_| invalid)?)
        }
        Field::Length => Value::Length(decimal(value, field)?),
        Field::Wrap => Value::Wrap(WrapAlgorithm::from_token(value).ok_or(invalid)?),
        Field::KeyId if valid_key_id(value) => Value::KeyId(value.to_owned()),
        Field::KeyId => return Err(invalid),
        Field::KeyVersion => Value::KeyVersion(u32::try_from(decimal(value, field)?).map_err(|_| invalid)?),
        Field::Salt => Value::Salt(fixed::<SALT_LEN>(&base64(value, field, SALT_LEN)?, field)?),
        Field::KeyCheck => Value::KeyCheck(fixed::<CHECK_LEN>(&base64(value, field, CHECK_LEN)?, field)?),
        Field::WrappedKey => Value::WrappedKey(base64(value, field, super::WRAPPED_MAX)?),
        Field::KmsBlob => Value::KmsBlob(base64(value, field, super::KMS_BLOB_MAX)?),
        Field::KmsContext => {
            let json = base64(value, field, crate::kms::MAX_CONTEXT_LEN)?;
            Value::KmsContext(super::stored_context(&json, field)?)
        }
        Field::Description => {
            let json = base64(value, field, crate::kms::MAX_CONTEXT_LEN)?;
            Value::Description(super::stored_context(&json, field)?)
        }
        Field::BodyHeader => {
            Value::BodyHeader(fixed::<HEADER_LEN>(&base64(value, field, HEADER_LEN)?, field)?)
        }
        Field::BucketKey if value == "true" => Value::BucketKey(true),
        Field::Upload if value == "true" => Value::Upload(true),
        Field::Parts => Value::Parts(u32::try_from(decimal(value, field)?).map_err(|_| invalid)?),
        Field::PartsDigest => {
            Value::PartsDigest(fixed::<PARTS_DIGEST_LEN>(&base64(value, field, PARTS_DIGEST_LEN)?, field)?)
        }
        Field::BucketKey | Field::Upload | Field::Version => return Err(invalid),
    })
}
