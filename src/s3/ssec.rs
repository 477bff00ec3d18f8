//! SSE-C request headers.

use super::SseError;
use super::headers::{HeaderSource, pairs};
use crate::error::Result;
use crate::keys::CustomerKey;
use base64ct::{Base64, Encoding};
use ctutils::CtEq;

const PREFIX: &str = "x-amz-server-side-encryption-customer-";
const COPY_PREFIX: &str = "x-amz-copy-source-server-side-encryption-customer-";

impl CustomerKey {
    /// Parses the SSE-C trio of a request: `x-amz-server-side-encryption-customer-algorithm`
    /// (exactly `AES256`), `…-customer-key` (strict base64 of 32 bytes) and `…-customer-key-MD5`
    /// (base64 MD5 of the raw key, compared in constant time).
    ///
    /// `headers` are the request's `(name, value)` pairs; names compare case-insensitively.
    /// Returns `Ok(None)` when none of the three is present.
    ///
    /// # Errors
    /// [`crate::Error::Sse`] with S3's answer for a missing or invalid header or an MD5 mismatch.
    pub fn from_headers<'h, I, N, V>(headers: I) -> Result<Option<Self>>
    where
        I: IntoIterator<Item = &'h (N, V)> + Clone,
        N: AsRef<str> + 'h,
        V: AsRef<[u8]> + 'h,
    {
        parse(pairs(headers).as_slice(), PREFIX)
    }

    /// Parses the copy-source SSE-C trio (`x-amz-copy-source-server-side-encryption-customer-*`)
    /// of CopyObject and UploadPartCopy: the source object's key. Same rules and errors as
    /// [`CustomerKey::from_headers`].
    ///
    /// # Errors
    /// [`crate::Error::Sse`] as for [`CustomerKey::from_headers`].
    pub fn from_copy_source_headers<'h, I, N, V>(headers: I) -> Result<Option<Self>>
    where
        I: IntoIterator<Item = &'h (N, V)> + Clone,
        N: AsRef<str> + 'h,
        V: AsRef<[u8]> + 'h,
    {
        parse(pairs(headers).as_slice(), COPY_PREFIX)
    }
}

/// The SSE-C trio of `headers` (`copy_source`: the `x-amz-copy-source-…` one).
pub(crate) fn customer_key<H: HeaderSource + ?Sized>(
    headers: &H,
    copy_source: bool,
) -> Result<Option<CustomerKey>> {
    parse(headers, if copy_source { COPY_PREFIX } else { PREFIX })
}

/// Whether any header of the SSE-C trio (`copy_source`: of the copy-source trio) is present.
pub(crate) fn customer_key_present<H: HeaderSource + ?Sized>(headers: &H, copy_source: bool) -> bool {
    headers.any_with_prefix(if copy_source { COPY_PREFIX } else { PREFIX })
}

fn parse<H: HeaderSource + ?Sized>(headers: &H, prefix: &str) -> Result<Option<CustomerKey>> {
    let get = |suffix: &str, dup: SseError| headers.single(&format!("{prefix}{suffix}")).map_err(|()| dup);
    let algorithm = get("algorithm", SseError::InvalidCustomerAlgorithm)?;
    let key = get("key", SseError::InvalidCustomerKey)?;
    let md5 = get("key-md5", SseError::CustomerKeyMd5Mismatch)?;
    if algorithm.is_none() && key.is_none() && md5.is_none() {
        return Ok(None);
    }
    match algorithm {
        None => return Err(SseError::MissingCustomerAlgorithm.into()),
        Some("AES256") => {}
        Some(_) => return Err(SseError::InvalidCustomerAlgorithm.into()),
    }
    let key = key.ok_or(SseError::MissingCustomerKey)?;
    let key = CustomerKey::from_base64(key).map_err(|_| SseError::InvalidCustomerKey)?;
    let md5 = md5.ok_or(SseError::MissingCustomerKeyMd5)?;
    let mut claimed = [0u8; 16];
    let claimed_ok = md5.len() == 24 && Base64::decode(md5, &mut claimed).is_ok_and(|d| d.len() == 16);
    if !claimed_ok || !bool::from(key.md5().ct_eq(&claimed)) {
        return Err(SseError::CustomerKeyMd5Mismatch.into());
    }
    Ok(Some(key))
}
