#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod buffer;
mod error;
mod keys;
mod stream;

pub use buffer::OutputBuffer;
pub use error::{Error, Result};
pub use keys::{DataKey, KEY_LEN};
pub use stream::{
    ChunkOpener, ChunkSealer, ChunkSize, HEADER_LEN, MAX_CHUNKS, Opener, RangeOpener, RangePlan,
    Sealer, TAG_LEN, open, seal,
};

/// The operating system's CSPRNG (`getrandom`), the generator to pass wherever s3crypt asks for one.
#[cfg(feature = "os-rng")]
pub use getrandom::SysRng as OsRng;

/// The `rand_core` traits s3crypt's generators must implement.
pub use rand_core::{TryCryptoRng, TryRng};
