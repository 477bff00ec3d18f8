//! S3 request semantics: the server-side-encryption headers of each operation, the response
//! headers, bucket default encryption, and the error responses S3 gives.

mod bucket;
mod client;
mod client_multipart;
mod errors;
mod events;
mod headers;
mod operation;
mod response;
mod sse;
mod ssec;
mod upload;

pub use bucket::{BucketEncryption, DefaultAlgorithm};
pub use client::{
    CLIENT_INSTRUCTION_SUFFIX, ClientCopyPlan, ClientGetBody, ClientGetPlan, ClientInstructionPlan,
    ClientPutPlan,
};
pub use client_multipart::{
    ClientCompletion, ClientMultipartUpload, CompanionPutPlan, CompletePlan, CopyByPartsPlan,
    CreateUploadPlan, MultipartCopyPlan, MultipartGetPlan, S3_MAX_PART_SIZE, S3_MIN_PART_SIZE,
    UploadPartCopyPlan, UploadPartPlan,
};
pub use errors::{S3ErrorResponse, SseError, WrongKeyStatus};
pub use events::{KeyEvent, KeyUse, Outcome};
pub use headers::HeaderSource;
pub use operation::{
    AWS_MANAGED_KMS_KEY, CopyPlan, OpenKey, Operation, PartCopyPlan, PartPlan, ReadPlan, S3Request, SealKey,
    WritePlan, parse_range,
};
pub use response::SseHeaders;
pub use sse::{SseKmsRequest, SseRequest};
pub use upload::UploadEncryption;
