//! Secret key types.
//!
//! Every key is a private-field newtype over 32 bytes that is zeroized on drop, compares in constant
//! time, and prints as `[REDACTED]`. Distinct roles get distinct types so that a root key can never be
//! passed where a per-object data key is expected.

use crate::error::{Error, Result};
use ctutils::CtEq;
use rand_core::TryCryptoRng;
use zeroize::Zeroize;

/// Length in bytes of every key in s3crypt (AES-256).
pub const KEY_LEN: usize = 32;

/// Defines a zeroizing, redacted, constant-time-comparable 256-bit key newtype.
macro_rules! secret_key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name([u8; KEY_LEN]);

        impl $name {
            /// Takes ownership of 32 raw key bytes.
            pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// Copies a key from a slice.
            ///
            /// # Errors
            /// [`Error::InvalidKeyLength`] unless the slice is exactly 32 bytes long.
            pub fn from_slice(bytes: &[u8]) -> Result<Self> {
                let bytes: [u8; KEY_LEN] =
                    bytes.try_into().map_err(|_| Error::InvalidKeyLength(bytes.len()))?;
                Ok(Self(bytes))
            }

            /// Draws a fresh key from a cryptographically secure RNG.
            ///
            /// # Errors
            /// [`Error::Rng`] if the generator fails.
            pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self> {
                let mut key = Self([0; KEY_LEN]);
                rng.try_fill_bytes(&mut key.0).map_err(|_| Error::Rng)?;
                Ok(key)
            }

            /// The raw key bytes. Handle with care: copies are not zeroized for you.
            pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        impl zeroize::ZeroizeOnDrop for $name {}

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
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
            assert_eq!(
                DataKey::from_slice(&vec![0; len]),
                Err(Error::InvalidKeyLength(len))
            );
        }
        assert!(DataKey::from_slice(&[7; 32]).is_ok());
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
