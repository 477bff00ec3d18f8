//! The compact binary header: `"S3CE" ‖ version ‖ TLV fields in ascending tag order`.

use super::{
    CHECK_LEN, Draft, Envelope, Field, FormatError, Layout, PARTS_DIGEST_LEN, SALT_LEN, Scheme, Suite, Value,
    WrapAlgorithm, fixed, valid_key_id,
};
use crate::error::Result;
use crate::stream::{ChunkSize, HEADER_LEN};

/// The first four bytes of every binary envelope.
pub(crate) const MAGIC: [u8; 4] = *b"S3CE";
/// No valid binary envelope is longer (it is checked before anything is parsed).
pub(crate) const BINARY_MAX: usize = 4096;

impl Envelope {
    /// Encodes the envelope as a compact binary header, for embedders who store one blob.
    pub fn to_binary(&self) -> Vec<u8> {
        self.encode_binary(true)
    }

    /// The canonical binary encoding; without the wrapped key it is the key wrap's associated data.
    pub(crate) fn encode_binary(&self, with_wrapped_key: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&MAGIC);
        out.push(super::ENVELOPE_VERSION);
        let context = self.kms.as_ref().map(|k| k.context.canonical_json());
        let description = self.description.as_ref().map(crate::EncryptionContext::canonical_json);
        let mut count_bytes;
        for field in Field::TLV {
            let value: &[u8] = match field {
                Field::Scheme => &[self.scheme.code()],
                Field::Suite => &[self.suite.code()],
                Field::ChunkSize => &[self.chunk_size.log2()],
                Field::Length => &self.plaintext_len.to_be_bytes(),
                Field::Wrap => &[self.wrap.code()],
                Field::KeyId if self.key_id.is_empty() => continue,
                Field::KeyId => self.key_id.as_bytes(),
                Field::KeyVersion => &self.key_version.to_be_bytes(),
                Field::Salt => &self.salt,
                Field::KeyCheck => &self.key_check,
                Field::WrappedKey if !with_wrapped_key => continue,
                Field::WrappedKey => &self.wrapped_key,
                Field::KmsBlob => match &self.kms {
                    Some(k) => &k.blob,
                    None => continue,
                },
                Field::KmsContext => match &context {
                    Some(json) => json.as_bytes(),
                    None => continue,
                },
                Field::BucketKey if self.bucket_key() => &[1],
                Field::Upload if self.layout == Layout::Upload => &[1],
                Field::Parts => match &self.layout {
                    Layout::Parts { count, .. } => {
                        count_bytes = count.to_be_bytes();
                        &count_bytes
                    }
                    _ => continue,
                },
                Field::PartsDigest => match &self.layout {
                    Layout::Parts { digest, .. } => digest,
                    _ => continue,
                },
                Field::Description => match &description {
                    Some(json) => json.as_bytes(),
                    None => continue,
                },
                Field::BodyHeader => match &self.body_header {
                    Some(header) => header,
                    None => continue,
                },
                Field::BucketKey | Field::Upload | Field::Version => continue,
            };
            out.push(field.tag());
            // A valid envelope's longest value is 1024 bytes (the context), so the length fits.
            #[allow(clippy::cast_possible_truncation)]
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
            out.extend_from_slice(value);
        }
        out
    }

    /// Decodes a binary header strictly: any deviation from the canonical encoding is an error.
    ///
    /// # Errors
    /// [`crate::Error::Format`] with the specific [`FormatError`].
    pub fn from_binary(bytes: &[u8]) -> Result<Self> {
        Ok(decode(bytes)?)
    }
}

fn decode(bytes: &[u8]) -> Result<Envelope, FormatError> {
    if bytes.len() > BINARY_MAX {
        return Err(FormatError::TooLarge);
    }
    let rest = bytes.strip_prefix(&MAGIC).ok_or(FormatError::BadMagic)?;
    let (&version, mut rest) = rest.split_first().ok_or(FormatError::Truncated)?;
    if version != super::ENVELOPE_VERSION {
        return Err(FormatError::UnsupportedVersion(version.to_string()));
    }
    let mut draft = Draft::default();
    let mut last: Option<Field> = None;
    while let [tag, len_hi, len_lo, tail @ ..] = rest {
        let field = Field::TLV
            .into_iter()
            .find(|f| f.tag() == *tag)
            .ok_or_else(|| FormatError::UnknownField(format!("tag {tag}")))?;
        match last {
            Some(prev) if prev == field => return Err(FormatError::DuplicateField(field)),
            Some(prev) if prev > field => return Err(FormatError::NonCanonical(field)),
            _ => {}
        }
        last = Some(field);
        let len = usize::from(u16::from_be_bytes([*len_hi, *len_lo]));
        if tail.len() < len {
            return Err(FormatError::Truncated);
        }
        let (value, tail) = tail.split_at(len);
        draft.set(field, parse(field, value)?)?;
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(FormatError::Truncated);
    }
    draft.build()
}

fn one_byte(value: &[u8], field: Field) -> Result<u8, FormatError> {
    match value {
        [b] => Ok(*b),
        _ => Err(FormatError::InvalidValue(field)),
    }
}

fn parse(field: Field, value: &[u8]) -> Result<Value, FormatError> {
    let invalid = FormatError::InvalidValue(field);
    Ok(match field {
        Field::Scheme => Value::Scheme(Scheme::from_code(one_byte(value, field)?).ok_or(invalid)?),
        Field::Suite => Value::Suite(Suite::from_code(one_byte(value, field)?).ok_or(invalid)?),
        Field::ChunkSize => {
            Value::ChunkSize(ChunkSize::from_log2(one_byte(value, field)?).map_err(|_| invalid)?)
        }
        Field::Length => Value::Length(u64::from_be_bytes(fixed(value, field)?)),
        Field::Wrap => Value::Wrap(WrapAlgorithm::from_code(one_byte(value, field)?).ok_or(invalid)?),
        Field::KeyId => {
            let id = core::str::from_utf8(value).map_err(|_| FormatError::InvalidValue(field))?;
            if !valid_key_id(id) {
                return Err(invalid);
            }
            Value::KeyId(id.to_owned())
        }
        Field::KeyVersion => Value::KeyVersion(u32::from_be_bytes(fixed(value, field)?)),
        Field::Salt => Value::Salt(fixed::<SALT_LEN>(value, field)?),
        Field::KeyCheck => Value::KeyCheck(fixed::<CHECK_LEN>(value, field)?),
        Field::WrappedKey => Value::WrappedKey(value.to_vec()),
        Field::KmsBlob => Value::KmsBlob(value.to_vec()),
        Field::KmsContext => Value::KmsContext(super::stored_context(value, field)?),
        Field::Description => Value::Description(super::stored_context(value, field)?),
        Field::BodyHeader => Value::BodyHeader(fixed::<HEADER_LEN>(value, field)?),
        Field::BucketKey if value == [1] => Value::BucketKey(true),
        Field::Upload if value == [1] => Value::Upload(true),
        Field::Parts => Value::Parts(u32::from_be_bytes(fixed(value, field)?)),
        Field::PartsDigest => Value::PartsDigest(fixed::<PARTS_DIGEST_LEN>(value, field)?),
        Field::BucketKey | Field::Upload | Field::Version => return Err(invalid),
    })
}
