//! S3 request semantics: server-side-encryption request headers and the error responses S3 gives.

mod errors;
mod sse;
mod ssec;

pub use errors::{S3ErrorResponse, SseError, WrongKeyStatus};
pub use sse::{SseKmsRequest, SseRequest};

/// Finds the single value of header `name` (case-insensitive) among `headers`.
///
/// `Ok(None)` if absent; `Err(())` if it appears more than once or is not UTF-8, both of which make
/// a request ambiguous.
pub(crate) fn single<'h, I, N, V>(headers: I, name: &str) -> Result<Option<&'h str>, ()>
where
    I: IntoIterator<Item = &'h (N, V)>,
    N: AsRef<str> + 'h,
    V: AsRef<[u8]> + 'h,
{
    let mut found = None;
    for (n, v) in headers {
        if n.as_ref().eq_ignore_ascii_case(name) {
            let v = core::str::from_utf8(v.as_ref()).map_err(|_| ())?;
            if found.replace(v).is_some() {
                return Err(());
            }
        }
    }
    Ok(found)
}
