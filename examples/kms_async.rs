//! SSE-KMS from an async gateway: the KMS round trip is the gateway's own `await`; s3crypt only
//! builds the requests and consumes the responses, so nothing blocks a runtime thread and the crate
//! needs no runtime.
//!
//! `cargo run --release --example kms_async`
//!
//! The "remote" KMS here is the crate's `LocalKms` behind an artificial 20 ms network delay; a real
//! gateway puts its AWS KMS, Vault or KES client in its place by implementing `AsyncKms`.

use s3crypt::{
    AsyncKms, DecryptRequest, EncryptionContext, Envelope, GenerateDataKeyRequest, GenerateDataKeyResponse,
    Kms, KmsDataKey, KmsError, KmsKey, LocalKms, ObjectId, ObjectSealer, OsRng, ReEncryptRequest,
    ReEncryptResponse, RootKey, SealOptions, SseRequest,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The gateway's KMS client: every call is a network round trip.
struct RemoteKms {
    kms: LocalKms<OsRng>,
    latency: Duration,
}

impl AsyncKms for RemoteKms {
    async fn generate_data_key(
        &self,
        request: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        tokio::time::sleep(self.latency).await;
        self.kms.generate_data_key(request)
    }

    async fn decrypt(&self, request: &DecryptRequest) -> Result<KmsDataKey, KmsError> {
        tokio::time::sleep(self.latency).await;
        self.kms.decrypt(request)
    }

    async fn re_encrypt(&self, request: &ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
        tokio::time::sleep(self.latency).await;
        self.kms.re_encrypt(request)
    }
}

/// A PUT handler: SSE headers -> KMS data key -> streamed body -> envelope.
async fn put(
    kms: &RemoteKms,
    headers: &[(&str, &str)],
    id: &ObjectId<'_>,
    data: &[u8],
) -> s3crypt::Result<(Envelope, Vec<u8>)> {
    let SseRequest::SseKms(request) = SseRequest::from_headers(headers, id)? else {
        return Err(s3crypt::Error::InvalidKeyId);
    };
    let settings = request.settings("alias/aws/s3", false)?;
    // The only await on the KMS, before a byte of the body is written.
    let key = settings.generate_key_async(kms, id).await?;
    let mut sealer = ObjectSealer::new(SealOptions::default(), &mut OsRng)?;
    let mut body = Vec::new();
    for piece in data.chunks(64 << 10) {
        sealer.update(piece, &mut body)?;
    }
    let envelope = sealer.finish(&mut body, &key, id, &mut OsRng)?;
    Ok((envelope, body))
}

/// A GET handler: envelope -> KMS decrypt -> streamed body.
async fn get(
    kms: &RemoteKms,
    id: &ObjectId<'_>,
    metadata: &[(String, String)],
    body: &[u8],
) -> s3crypt::Result<Vec<u8>> {
    let envelope = Envelope::from_metadata(metadata.iter().map(|(k, v)| (k, v)))?;
    let key = KmsKey::for_envelope_async(kms, &envelope, id).await?;
    let object = envelope.open(&key, id)?;
    let mut plain = Vec::new();
    let mut opener = object.opener();
    opener.update(body, &mut plain)?;
    opener.finish(&mut plain)?;
    Ok(plain)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut local = LocalKms::new(OsRng);
    local.create_key("alias/tenant-data", RootKey::generate(&mut OsRng)?)?;
    let kms = Arc::new(RemoteKms { kms: local, latency: Duration::from_millis(20) });

    let mut context = EncryptionContext::new();
    context.insert("tenant", "t1")?;
    let context_header = context.to_header();
    let headers = [
        ("x-amz-server-side-encryption", "aws:kms"),
        ("x-amz-server-side-encryption-aws-kms-key-id", "alias/tenant-data"),
        ("x-amz-server-side-encryption-context", context_header.as_str()),
    ];

    // Eight PUTs at once on ONE thread: their KMS round trips overlap, because waiting on the KMS
    // is the gateway's await, not a blocking call inside s3crypt.
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8u8 {
        let kms = Arc::clone(&kms);
        let headers = headers.map(|(k, v)| (k, v.to_owned()));
        tasks.spawn(async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let name = format!("report-{i}.csv");
            let data = vec![i; 300_000];
            let (envelope, body) = put(&kms, &headers, &ObjectId::new("bucket", &name), &data).await?;
            Ok::<_, s3crypt::Error>((name, data, envelope.to_metadata(), body))
        });
    }
    let mut stored = Vec::new();
    while let Some(done) = tasks.join_next().await {
        stored.push(done??);
    }
    println!(
        "8 SSE-KMS PUTs with 20 ms KMS latency each took {:.0} ms on one thread (their KMS waits alone, \
         one after another, would take 160 ms)",
        started.elapsed().as_secs_f64() * 1e3
    );

    for (name, data, metadata, body) in &stored {
        let plain = get(&kms, &ObjectId::new("bucket", name), metadata, body).await?;
        assert_eq!(&plain, data);
    }
    let (name, _, metadata, _) = &stored[0];
    let context = metadata.iter().find(|(k, _)| k == "s3crypt-kms-context").map(|(_, v)| v.as_str());
    println!("GET of all 8 verified; {name} stores context {context:?} (base64 of canonical JSON)");
    Ok(())
}
