//! SSE-C: the client's key, sent with every request and never stored.

use crate::envelope::{Envelope, Scheme};
use crate::error::{Error, Result};
use crate::keys::CustomerKey;
use crate::wrap::{Encryptor, WrappingKey};
use base64ct::{Base64, Encoding};
use md5::{Digest, Md5};

impl CustomerKey {
    /// MD5 of the key, which S3 clients send and S3 echoes (`…-customer-key-MD5`).
    pub fn md5(&self) -> [u8; 16] {
        Md5::digest(self.expose_secret()).into()
    }

    /// The response headers S3 returns for an SSE-C request: the algorithm and the key's MD5
    /// (base64), never the key.
    pub fn response_headers(&self) -> [(&'static str, String); 2] {
        [
            ("x-amz-server-side-encryption-customer-algorithm", "AES256".to_owned()),
            ("x-amz-server-side-encryption-customer-key-MD5", Base64::encode_string(&self.md5())),
        ]
    }
}

impl Encryptor for CustomerKey {
    fn scheme(&self) -> Scheme {
        Scheme::SseC
    }

    fn sealing_key(&self) -> Result<WrappingKey<'_>> {
        Ok(WrappingKey::new(self.expose_secret(), "", 0))
    }

    fn opening_key(&self, envelope: &Envelope) -> Result<WrappingKey<'_>> {
        if envelope.key_version() != 0 {
            return Err(Error::UnknownKey { key_id: String::new(), version: envelope.key_version() });
        }
        Ok(WrappingKey::new(self.expose_secret(), "", 0))
    }
}
