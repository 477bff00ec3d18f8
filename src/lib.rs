#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod buffer;
mod envelope;
mod error;
pub mod io;
mod keys;
mod kms;
mod modes;
mod object;
mod primitives;
mod s3;
mod s3ec;
mod stream;
mod wrap;

pub use buffer::{OutputBuffer, ReusableBuffer};
pub use envelope::{
    ECHO_MAX, ENVELOPE_VERSION, Envelope, Field, FormatError, MAX_PARTS, METADATA_PREFIX, ObjectId, Scheme,
    Suite, WrapAlgorithm,
};
pub use error::{Error, Result};
pub use keys::{CustomerKey, DataKey, KEY_LEN, RootKey};
pub use kms::{
    AsyncKms, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, GenerateDataKeyResponse, Kms,
    KmsDataKey, KmsError, LocalKms, MAX_CONTEXT_LEN, ReEncryptRequest, ReEncryptResponse, S3_ARN_KEY, s3_arn,
};
pub use modes::client_side::{ClientKeyring, ClientKms, ClientKmsKey, ClientSideError, MaterialDescription};
pub use modes::sse_kms::{BucketKeyCache, KmsKey, SseKms};
pub use modes::sse_s3::Keyring;
pub use object::{
    ByteRange, Checksum, ChecksumAlgorithm, ClientBodySealer, ClientSealer, CompletedUpload, CopySource,
    ETag, MultipartBody, MultipartOpener, MultipartRangePlan, ObjectKey, ObjectSealer,
    PARTS_COMPANION_SUFFIX, Part, PartAttributes, PartCopier, PartInfo, PartPiece, PartSealer, PartTable,
    PartsCompanion, SealOptions, SealedPart, Upload, parts_companion_key,
};
pub use s3::{
    AWS_MANAGED_KMS_KEY, BucketEncryption, CLIENT_INSTRUCTION_SUFFIX, ClientCompletion, ClientCopyPlan,
    ClientGetBody, ClientGetPlan, ClientInstructionPlan, ClientMultipartUpload, ClientPutPlan,
    CompanionPutPlan, CompletePlan, CopyByPartsPlan, CopyPlan, CreateUploadPlan, DefaultAlgorithm,
    HeaderSource, KeyEvent, KeyUse, MultipartCopyPlan, MultipartGetPlan, OpenKey, Operation, Outcome,
    PartCopyPlan, PartPlan, ReadPlan, S3_MAX_PART_SIZE, S3_MIN_PART_SIZE, S3ErrorResponse, S3Request,
    SealKey, SseError, SseHeaders, SseKmsRequest, SseRequest, UploadEncryption, UploadPartCopyPlan,
    UploadPartPlan, WritePlan, WrongKeyStatus, parse_range,
};
#[cfg(feature = "aws-lc")]
pub use s3ec::S3ecRsaKey;
pub use s3ec::{
    CommitmentPolicy, S3EC_DEFAULT_BUFFER_LIMIT, S3EC_INSTRUCTION_SUFFIX, S3EC_MAX_PLAINTEXT, S3ecAesKey,
    S3ecBufferedBody, S3ecContent, S3ecDataKey, S3ecDelayedBody, S3ecEnvelope, S3ecError, S3ecFormat,
    S3ecMetadata, S3ecOpener, S3ecOptions, S3ecRange, S3ecSealer, S3ecWrap,
};
pub use stream::{
    Backend, ChunkOpener, ChunkSealer, ChunkSize, HEADER_LEN, MAX_CHUNKS, Opener, RangeOpener, RangePlan,
    Sealer, StreamParams, TAG_LEN, open, seal,
};
pub use wrap::{Encryptor, WrappingKey};

#[cfg(feature = "parallel")]
pub use object::MD5_BESIDE_MIN;
#[cfg(feature = "parallel")]
pub use stream::{open_parallel, seal_parallel};

/// The operating system's CSPRNG (`getrandom`), the generator to pass wherever s3crypt asks for one.
#[cfg(feature = "os-rng")]
pub use getrandom::SysRng as OsRng;

/// The `rand_core` traits s3crypt's generators must implement.
pub use rand_core::{TryCryptoRng, TryRng};
