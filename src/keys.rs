//! Secret key types.
//!
//! Every key is a private-field newtype over 32 bytes that is zeroized on drop, compares in constant
//! time, and prints as `[REDACTED]`. Distinct roles get distinct types so that a root key can never be
//! passed where a per-object data key is expected.

use crate::error::{Error, Result};
use rand_core::TryCryptoRng;

/// Length in bytes of every key in s3crypt (AES-256).
pub const KEY_LEN: usize = 32;

/// Defines a zeroizing, redacted, constant-time-comparable 256-bit key newtype.
macro_rules! secret_key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name([u8; $crate::keys::KEY_LEN]);

        impl $name {
            /// Takes ownership of 32 raw key bytes.
            pub fn from_bytes(bytes: [u8; $crate::keys::KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// Copies a key from a slice.
            ///
            /// # Errors
            /// [`$crate::Error::InvalidKeyLength`] unless the slice is exactly 32 bytes long.
            pub fn from_slice(bytes: &[u8]) -> $crate::Result<Self> {
                let bytes: [u8; $crate::keys::KEY_LEN] =
                    bytes.try_into().map_err(|_| $crate::Error::InvalidKeyLength(bytes.len()))?;
                Ok(Self(bytes))
            }

            /// Draws a fresh key from a cryptographically secure RNG.
            ///
            /// # Errors
            /// [`$crate::Error::Rng`] if the generator fails.
            pub fn generate<R: ::rand_core::TryCryptoRng + ?Sized>(rng: &mut R) -> $crate::Result<Self> {
                let mut key = Self([0; $crate::keys::KEY_LEN]);
                rng.try_fill_bytes(&mut key.0).map_err(|_| $crate::Error::Rng)?;
                Ok(key)
            }

            /// A key from 64 hexadecimal digits (either case).
            ///
            /// # Errors
            /// [`$crate::Error::InvalidKeyEncoding`] unless `hex` is exactly 64 hex digits.
            pub fn from_hex(hex: &str) -> $crate::Result<Self> {
                let mut key = Self([0; $crate::keys::KEY_LEN]);
                $crate::keys::decode_hex_key(hex.as_bytes(), &mut key.0).ok_or($crate::Error::InvalidKeyEncoding)?;
                Ok(key)
            }

            /// A key from canonical, padded, standard base64 of 32 bytes (44 characters).
            ///
            /// # Errors
            /// [`$crate::Error::InvalidKeyEncoding`] for anything else (whitespace, URL-safe alphabet,
            /// missing padding, non-canonical trailing bits, other lengths).
            pub fn from_base64(b64: &str) -> $crate::Result<Self> {
                let mut key = Self([0; $crate::keys::KEY_LEN]);
                $crate::keys::decode_base64_key(b64.as_bytes(), &mut key.0).ok_or($crate::Error::InvalidKeyEncoding)?;
                Ok(key)
            }

            /// The raw key bytes. Handle with care: copies are not zeroized for you.
            pub fn expose_secret(&self) -> &[u8; $crate::keys::KEY_LEN] {
                &self.0
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                ::zeroize::Zeroize::zeroize(&mut self.0);
            }
        }

        impl ::zeroize::ZeroizeOnDrop for $name {}

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                ::ctutils::CtEq::ct_eq(&self.0, &other.0).into()
            }
        }

        impl Eq for $name {}
    };
}

secret_key!(
    /// A per-object (or per-stream) data key: the input key of the streaming core.
    ///
    /// Generate one per object with [`DataKey::generate`]; never reuse one across objects that are
    /// sealed independently.
    DataKey
);

secret_key!(
    /// An SSE-S3 root key: a long-lived 256-bit key a gateway holds in a [`crate::Keyring`].
    ///
    /// Load it with [`RootKey::from_hex`], [`RootKey::from_base64`] or [`RootKey::from_bytes`].
    RootKey
);

secret_key!(
    /// An SSE-C customer key: the 256-bit key a client sends with each request. It is never stored;
    /// parse it from request headers with [`CustomerKey::from_headers`].
    CustomerKey
);

/// Decodes exactly 64 hex digits of either case, without branching on the digits' values
/// (`base16ct`), as the base64 decoder does: key material is secret.
pub(crate) fn decode_hex_key(digits: &[u8], out: &mut [u8; KEY_LEN]) -> Option<()> {
    if digits.len() != 2 * KEY_LEN {
        return None;
    }
    let decoded = base16ct::mixed::decode(digits, out).ok()?;
    (decoded.len() == KEY_LEN).then_some(())
}

/// Decodes strict base64 of exactly 32 bytes (constant-time in the key bytes).
pub(crate) fn decode_base64_key(b64: &[u8], out: &mut [u8; KEY_LEN]) -> Option<()> {
    use base64ct::{Base64, Encoding};
    if b64.len() != 44 {
        return None;
    }
    let decoded = Base64::decode(b64, out).ok()?;
    (decoded.len() == KEY_LEN).then_some(())
}

pub(crate) use secret_key;

/// Fills a buffer from the caller's RNG, mapping failure to [`Error::Rng`].
pub(crate) fn fill_random<R: TryCryptoRng + ?Sized>(rng: &mut R, buf: &mut [u8]) -> Result<()> {
    rng.try_fill_bytes(buf).map_err(|_| Error::Rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = DataKey::from_bytes([0x41; KEY_LEN]);
        let shown = format!("{key:?}");
        assert_eq!(shown, "DataKey([REDACTED])");
        assert!(!shown.contains("65"), "no key byte reaches the output");
    }

    #[test]
    fn slice_length_is_checked() {
        for len in [0, 16, 31, 33, 64] {
            assert_eq!(DataKey::from_slice(&vec![0; len]), Err(Error::InvalidKeyLength(len)));
        }
        assert!(DataKey::from_slice(&[7; 32]).is_ok());
    }

    #[test]
    fn root_keys_load_from_hex_and_base64_strictly() {
        let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";
        let key = RootKey::from_hex(hex).unwrap();
        assert_eq!(key.expose_secret()[31], 0x1f);
        let b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        assert_eq!(RootKey::from_base64(b64).unwrap(), key);
        for bad in [&hex[1..], "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", ""] {
            assert_eq!(RootKey::from_hex(bad), Err(Error::InvalidKeyEncoding));
        }
        for bad in [
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",   // no padding
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= ", // trailing space
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",  // non-canonical last digit
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh_=",  // URL-safe alphabet
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",  // 31 bytes
        ] {
            assert_eq!(RootKey::from_base64(bad), Err(Error::InvalidKeyEncoding), "{bad}");
        }
        assert_eq!(format!("{key:?}"), "RootKey([REDACTED])");
    }

    #[test]
    fn equality_compares_all_bytes() {
        let a = DataKey::from_bytes([1; KEY_LEN]);
        let mut other = [1; KEY_LEN];
        other[31] = 2;
        assert_ne!(a, DataKey::from_bytes(other));
        assert_eq!(a, DataKey::from_bytes([1; KEY_LEN]));
    }
}
