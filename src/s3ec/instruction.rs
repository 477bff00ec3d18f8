//! S3EC instruction files: the envelope as a JSON object in `<key>.instruction`.

use super::S3ecError;
use super::metadata::{INSTRUCTION_MARKER, V3_CEK, V3_COMMITMENT, V3_MESSAGE_ID, canonical_key};
use crate::error::Result;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

/// The largest instruction file accepted. AWS's are a few hundred bytes.
pub(super) const MAX_INSTRUCTION_LEN: usize = 64 * 1024;

/// Parses an instruction file: a JSON object whose keys are all S3EC mapkeys and whose values are
/// all strings, with no duplicates and none of the keys that must stay on the object.
pub(super) fn parse(body: &[u8]) -> Result<Vec<(&'static str, String)>> {
    let invalid = || crate::Error::S3ec(S3ecError::InvalidInstructionFile);
    if body.len() > MAX_INSTRUCTION_LEN {
        return Err(invalid());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let pairs = (&mut de).deserialize_map(PairsVisitor).map_err(|_| invalid())?;
    de.end().map_err(|_| invalid())?;
    let mut out: Vec<(&'static str, String)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let key = canonical_key(&name).ok_or_else(invalid)?;
        if name.len() != key.len() || matches!(key, V3_CEK | V3_COMMITMENT | V3_MESSAGE_ID) {
            // A prefixed name, or a V3 content key: the commitment and message id must come from
            // the object itself, or swapping instruction files would swap them too.
            return Err(invalid());
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(invalid());
        }
        if key != INSTRUCTION_MARKER {
            out.push((key, value));
        }
    }
    Ok(out)
}

/// A JSON object of string values, in order, duplicates kept (the caller refuses them).
struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry::<String, String>()? {
            if pairs.len() >= 64 {
                return Err(de::Error::custom("too many keys"));
            }
            pairs.push(pair);
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_files() {
        let ok = parse(br#"{"x-amz-3":"AAAA","x-amz-w":"12","x-amz-t":"{}"}"#).unwrap();
        assert_eq!(ok.len(), 3);
        // Case-insensitive key names are AWS's mapkeys too, S3's prefix is not.
        assert!(parse(br#"{"X-Amz-W":"12"}"#).is_ok());
        for bad in [
            &br#"{"x-amz-meta-x-amz-w":"12"}"#[..],
            br#"{"x-amz-w":"12","x-amz-w":"02"}"#,
            br#"{"x-amz-w":"12","X-AMZ-W":"02"}"#,
            br#"{"x-amz-d":"AAAA"}"#,
            br#"{"x-amz-i":"AAAA"}"#,
            br#"{"x-amz-c":"115"}"#,
            br#"{"other":"1"}"#,
            br#"{"x-amz-w":12}"#,
            br#"["x-amz-w"]"#,
            br#"{"x-amz-w":"12"} trailing"#,
            b"",
            b"\xff",
        ] {
            assert_eq!(
                parse(bad).unwrap_err(),
                crate::Error::S3ec(S3ecError::InvalidInstructionFile),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
