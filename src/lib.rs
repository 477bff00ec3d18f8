#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod buffer;
mod envelope;
mod error;
mod keys;
mod modes;
mod object;
mod s3;
mod stream;
mod wrap;

pub use buffer::OutputBuffer;
pub use envelope::{
    ENVELOPE_VERSION, Envelope, Field, FormatError, METADATA_PREFIX, ObjectId, Scheme, Suite,
    WrapAlgorithm,
};
pub use error::{Error, Result};
pub use keys::{CustomerKey, DataKey, KEY_LEN, RootKey};
pub use modes::sse_s3::Keyring;
pub use object::{ObjectKey, ObjectSealer, SealOptions};
pub use s3::{S3ErrorResponse, SseError, WrongKeyStatus};
pub use stream::{
    ChunkOpener, ChunkSealer, ChunkSize, HEADER_LEN, MAX_CHUNKS, Opener, RangeOpener, RangePlan,
    Sealer, TAG_LEN, open, seal,
};
pub use wrap::{Encryptor, WrappingKey};

/// The operating system's CSPRNG (`getrandom`), the generator to pass wherever s3crypt asks for one.
#[cfg(feature = "os-rng")]
pub use getrandom::SysRng as OsRng;

/// The `rand_core` traits s3crypt's generators must implement.
pub use rand_core::{TryCryptoRng, TryRng};
