//! KMS encryption contexts with AWS semantics.

use crate::error::{Error, Result};
use base64ct::{Base64, Encoding};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// Longest canonical context, in bytes of JSON: it is stored in the envelope, within S3's 2 KiB
/// user-metadata budget.
pub const MAX_CONTEXT_LEN: usize = 1024;

/// Longest JSON text parsed as a context: [`MAX_CONTEXT_LEN`] with every character escaped as
/// `\uXXXX` (six bytes for at most one byte of the canonical form), before the canonical length is
/// checked.
const MAX_RAW_CONTEXT_LEN: usize = MAX_CONTEXT_LEN * 6;

/// The key S3 adds to every SSE-KMS encryption context: the object's (or, with bucket keys, the
/// bucket's) ARN.
pub const S3_ARN_KEY: &str = "aws:s3:arn";

/// A KMS encryption context: string pairs bound into every KMS call, with AWS semantics.
///
/// It is always canonical: keys are unique and sorted, and it serialises to exactly one JSON text
/// (compact, keys in byte order, `serde_json`'s minimal escaping), which is what the envelope stores
/// and what the KMS sees on both generate and decrypt. `Debug` prints the pairs: contexts are
/// authenticated, not secret (AWS logs them in CloudTrail).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct EncryptionContext {
    pairs: BTreeMap<String, String>,
}

impl fmt::Debug for EncryptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(&self.pairs).finish()
    }
}

/// Why an encryption context was refused.
fn invalid() -> Error {
    Error::Sse(crate::SseError::InvalidEncryptionContext)
}

impl EncryptionContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user pair.
    ///
    /// # Errors
    /// [`crate::SseError::ReservedContextKey`] for keys starting with `aws:` (reserved for AWS);
    /// [`crate::SseError::InvalidEncryptionContext`] for a duplicate key or a context grown beyond
    /// [`MAX_CONTEXT_LEN`].
    pub fn insert(&mut self, key: &str, value: &str) -> Result<()> {
        if is_reserved(key) {
            return Err(Error::Sse(crate::SseError::ReservedContextKey));
        }
        self.insert_unchecked(key, value)
    }

    /// Adds a pair after checking it, so that a refused pair leaves the context unchanged.
    fn insert_unchecked(&mut self, key: &str, value: &str) -> Result<()> {
        if self.pairs.contains_key(key) {
            return Err(invalid());
        }
        let mut grown = self.pairs.clone();
        grown.insert(key.to_owned(), value.to_owned());
        if serde_json::to_string(&grown).map_or(true, |json| json.len() > MAX_CONTEXT_LEN) {
            return Err(invalid());
        }
        self.pairs = grown;
        Ok(())
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str)
    }

    /// The pairs, in canonical (byte) order of keys.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The canonical JSON text.
    pub fn canonical_json(&self) -> String {
        // Serialising a map of strings cannot fail.
        serde_json::to_string(&self.pairs).unwrap_or_default()
    }

    /// The value of an `x-amz-server-side-encryption-context` header: base64 of the canonical JSON.
    pub fn to_header(&self) -> String {
        Base64::encode_string(self.canonical_json().as_bytes())
    }

    /// Parses a user-supplied `x-amz-server-side-encryption-context` header: base64 of a UTF-8
    /// JSON object whose values are all strings. Keys must be unique and must not use the
    /// reserved `aws:` prefix, with one exception S3 clients rely on: `aws:s3:arn`, accepted when
    /// it equals `expected_arn` (the value S3 adds anyway).
    ///
    /// # Errors
    /// [`crate::SseError::InvalidEncryptionContext`] for bad base64, bad JSON, a non-string value,
    /// a duplicate key or an oversized context; [`crate::SseError::ReservedContextKey`] for an
    /// `aws:` key.
    pub fn from_header(value: &str, expected_arn: &str) -> Result<Self> {
        if value.len() > MAX_CONTEXT_LEN.div_ceil(3) * 4 * 2 {
            return Err(invalid());
        }
        let json = Base64::decode_vec(value).map_err(|_| invalid())?;
        let mut context = Self::from_json(&json)?;
        if let Some(arn) = context.pairs.remove(S3_ARN_KEY) {
            if arn != expected_arn {
                return Err(Error::Sse(crate::SseError::ReservedContextKey));
            }
        }
        if context.pairs.keys().any(|k| is_reserved(k)) {
            return Err(Error::Sse(crate::SseError::ReservedContextKey));
        }
        Ok(context)
    }

    /// Parses a JSON object of string pairs strictly (duplicates and non-string values refused),
    /// reserved keys included: this is how a stored, canonical context is read back.
    pub(crate) fn from_json(json: &[u8]) -> Result<Self> {
        // The limit is on the canonical form, checked below; this one only bounds the parse. A
        // stored text may be longer than its canonical form: JSON that escapes non-ASCII as
        // `\uXXXX` (S3EC's `x-amz-m` / `x-amz-t`, as s3crypt and AWS's Python client write them) is
        // up to three times as long, and escaping ASCII too up to six.
        if json.len() > MAX_RAW_CONTEXT_LEN {
            return Err(invalid());
        }
        let mut de = serde_json::Deserializer::from_slice(json);
        let pairs = (&mut de).deserialize_map(PairsVisitor).map_err(|_| invalid())?;
        de.end().map_err(|_| invalid())?;
        let context = Self { pairs };
        if context.canonical_json().len() > MAX_CONTEXT_LEN {
            return Err(invalid());
        }
        Ok(context)
    }

    /// Whether this context's `aws:s3:arn` names `object` (or, for a bucket key, its bucket):
    /// the check that a KMS key belongs to the object before it is sealed with, and that a stored
    /// context belongs to the object before the KMS is asked to decrypt under it.
    pub(crate) fn names(&self, object: &crate::ObjectId<'_>, bucket_key: bool) -> bool {
        let key = (!bucket_key).then(|| object.key());
        s3_arn(object.bucket(), key).is_ok_and(|arn| self.get(S3_ARN_KEY) == Some(arn.as_str()))
    }

    /// Whether a key uses the `aws:` prefix AWS reserves (compared case-insensitively).
    pub(crate) fn has_reserved_key(&self) -> bool {
        self.pairs.keys().any(|k| is_reserved(k))
    }

    /// The context S3 gives the KMS for an object: the user's pairs plus `aws:s3:arn`.
    pub(crate) fn with_arn(&self, arn: &str) -> Result<Self> {
        let mut context = self.clone();
        context.insert_unchecked(S3_ARN_KEY, arn)?;
        Ok(context)
    }
}

fn is_reserved(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// The S3 ARN of an object (`arn:aws:s3:::bucket/key`) or, without a key, of a bucket.
///
/// An ARN joins the names with `/`, so it identifies an object only if the bucket name has none:
/// `("a", "b/c")` and `("a/b", "c")` would share `arn:aws:s3:::a/b/c`. S3 refuses such bucket
/// names, and so does this function, which makes the ARN an unambiguous, structured name.
///
/// # Errors
/// [`crate::SseError::InvalidEncryptionContext`] if the names are not UTF-8 (an ARN is text), or
/// the bucket name is empty or contains `/`.
pub fn s3_arn(bucket: &[u8], key: Option<&[u8]>) -> Result<String> {
    let bucket = core::str::from_utf8(bucket).map_err(|_| invalid())?;
    if bucket.is_empty() || bucket.contains('/') {
        return Err(invalid());
    }
    match key {
        None => Ok(format!("arn:aws:s3:::{bucket}")),
        Some(key) => {
            Ok(format!("arn:aws:s3:::{bucket}/{}", core::str::from_utf8(key).map_err(|_| invalid())?))
        }
    }
}

/// Deserialises a JSON object of string values, refusing duplicate keys.
struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, String>()? {
            if pairs.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str) -> String {
        Base64::encode_string(json.as_bytes())
    }

    const ARN: &str = "arn:aws:s3:::bkt/k";

    #[test]
    fn canonical_form_sorts_and_compacts() {
        let c = EncryptionContext::from_header(&header(r#"{ "b" : "2", "a":"1", "é":"\u00e9\n" }"#), ARN)
            .unwrap();
        assert_eq!(c.canonical_json(), r#"{"a":"1","b":"2","é":"é\n"}"#);
        let again = EncryptionContext::from_header(&c.to_header(), ARN).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn canonical_escaping_is_as_specified() {
        // FORMAT.md §2.4: quote, backslash and controls escaped (named or \u00xx), nothing else.
        let mut c = EncryptionContext::new();
        c.insert("k", "\u{1}\"\\/é\n\u{7f}").unwrap();
        c.insert("B", "").unwrap();
        assert_eq!(c.canonical_json(), "{\"B\":\"\",\"k\":\"\\u0001\\\"\\\\/é\\n\u{7f}\"}");
    }

    #[test]
    fn the_boto3_capture_parses() {
        // boto3-captures/sse_kms_put_with_context_bucket_key.json
        let c = EncryptionContext::from_header(
            "eyJ0ZW5hbnQiOiJ0MSIsImF3czpzMzphcm4iOiJhcm46YXdzOnMzOjo6Ymt0L2sifQ==",
            ARN,
        )
        .unwrap();
        assert_eq!(c.get("tenant"), Some("t1"));
        assert_eq!(c.get(S3_ARN_KEY), None, "S3's own key is added back by S3, not kept as a user pair");
        assert_eq!(c.with_arn(ARN).unwrap().get(S3_ARN_KEY), Some(ARN));
    }

    #[test]
    fn malformed_contexts() {
        let invalid: Result<EncryptionContext> = Err(Error::Sse(crate::SseError::InvalidEncryptionContext));
        let reserved: Result<EncryptionContext> = Err(Error::Sse(crate::SseError::ReservedContextKey));
        for json in [
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":1}"#,
            r#"{"a":null}"#,
            r#"{"a":["x"]}"#,
            r#"["a"]"#,
            r#""a""#,
            r#"{"a":"1"} x"#,
            "{",
            "",
        ] {
            assert_eq!(EncryptionContext::from_header(&header(json), ARN), invalid, "{json}");
        }
        // Raw JSON, not base64 (the boto3 pitfall), and base64 with whitespace.
        assert_eq!(EncryptionContext::from_header(r#"{"tenant":"t1"}"#, ARN), invalid);
        assert_eq!(EncryptionContext::from_header(&format!(" {}", header("{}")), ARN), invalid);
        for json in [
            r#"{"aws:x":"1"}"#,
            r#"{"AWS:s3:arn":"arn:aws:s3:::bkt/k"}"#,
            r#"{"aws:s3:arn":"arn:aws:s3:::other/k"}"#,
        ] {
            assert_eq!(EncryptionContext::from_header(&header(json), ARN), reserved, "{json}");
        }
        let big = format!(r#"{{"k":"{}"}}"#, "v".repeat(MAX_CONTEXT_LEN));
        assert_eq!(EncryptionContext::from_header(&header(&big), ARN), invalid);
        let mut c = EncryptionContext::new();
        assert_eq!(c.insert("aws:thing", "x").map(|()| c.clone()), reserved);
        c.insert("a", "1").unwrap();
        assert_eq!(c.insert("a", "2").map(|()| c.clone()), invalid);
        assert_eq!(c.get("a"), Some("1"), "a refused pair changes nothing");
        assert_eq!(c.insert("b", &"v".repeat(MAX_CONTEXT_LEN)).map(|()| c.clone()), invalid);
        assert_eq!(c.len(), 1);
    }
}
