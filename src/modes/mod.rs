//! The encryption modes: each is an [`crate::Encryptor`] that resolves wrapping keys its own way.

pub(crate) mod client_side;
pub(crate) mod sse_c;
pub(crate) mod sse_kms;
pub(crate) mod sse_s3;
