//! A reference S3 gateway on s3crypt: filesystem storage, SSE-S3 / SSE-C / SSE-KMS, TLS.
//!
//! ```text
//! cargo run --release -p s3crypt-gateway -- --data ./data [--port 8443] [--http [--http-port 8080]]
//!     [--cert cert.pem --key key.pem] [--keys keys.json] [--log keys.log] [--no-encryption]
//! ```
//!
//! It prints its endpoint(s), the access key and secret, and the certificate path, and writes the
//! same to `DATA/gateway.json` for scripts.

mod body;
mod crypto;
mod keylog;
mod keys;
mod multipart;
mod service;
mod store;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;

const USAGE: &str = "usage: s3crypt-gateway --data DIR [--host 127.0.0.1] [--port 8443] [--http] [--http-port 0] \
[--cert PEM --key PEM] [--keys FILE] [--log FILE] [--no-encryption]";

#[derive(Debug)]
struct Args {
    data: PathBuf,
    host: String,
    port: u16,
    http: bool,
    http_port: u16,
    cert: Option<(PathBuf, PathBuf)>,
    keys: Option<PathBuf>,
    log: Option<PathBuf>,
    encrypt: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut data = None;
    let mut args = Args {
        data: PathBuf::new(),
        host: "127.0.0.1".into(),
        port: 8443,
        http: false,
        http_port: 0,
        cert: None,
        keys: None,
        log: None,
        encrypt: true,
    };
    let (mut cert, mut key) = (None, None);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--data" => data = Some(PathBuf::from(value("--data")?)),
            "--host" => args.host = value("--host")?,
            "--port" => args.port = value("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--http" => args.http = true,
            "--http-port" => {
                args.http = true;
                args.http_port = value("--http-port")?.parse().map_err(|e| format!("--http-port: {e}"))?;
            }
            "--cert" => cert = Some(PathBuf::from(value("--cert")?)),
            "--key" => key = Some(PathBuf::from(value("--key")?)),
            "--keys" => args.keys = Some(PathBuf::from(value("--keys")?)),
            "--log" => args.log = Some(PathBuf::from(value("--log")?)),
            "--no-encryption" => args.encrypt = false,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    args.data = data.ok_or_else(|| format!("--data is required\n{USAGE}"))?;
    args.cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("--cert and --key go together".into()),
    };
    Ok(args)
}

/// The certificate and key: given, or a self-signed pair kept in `DATA/tls/`.
fn tls_files(args: &Args) -> io::Result<(PathBuf, PathBuf)> {
    if let Some(pair) = &args.cert {
        return Ok(pair.clone());
    }
    let dir = args.data.join("tls");
    std::fs::create_dir_all(&dir)?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.is_file() || !key.is_file() {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), args.host.clone()];
        let generated = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
        store::write_atomic(&key, generated.signing_key.serialize_pem().as_bytes(), 0o600)?;
        store::write_atomic(&cert, generated.cert.pem().as_bytes(), 0o644)?;
    }
    Ok((cert, key))
}

fn tls_acceptor(cert: &Path, key: &Path) -> io::Result<tokio_rustls::TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(io::Error::other)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io::Error::other)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(io::Error::other)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

fn s3_service(state: &Arc<crypto::State>, secure: bool, access: &str, secret: &str) -> S3Service {
    let mut builder = S3ServiceBuilder::new(service::Gateway { state: Arc::clone(state), secure });
    builder.set_auth(SimpleAuth::from_single(access.to_owned(), secret.to_owned()));
    builder.build()
}

async fn serve(listener: TcpListener, service: S3Service, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let service = service.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let builder = ConnBuilder::new(TokioExecutor::new());
            let result = match tls {
                Some(tls) => match tls.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), service).await,
                    Err(_) => return,
                },
                None => builder.serve_connection(TokioIo::new(stream), service).await,
            };
            let _ = result;
        });
    }
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    std::fs::create_dir_all(&args.data)?;
    let keys_path = args.keys.clone().unwrap_or_else(|| args.data.join("keys.json"));
    let keys = keys::load_or_create(&keys_path)?;
    let (access, secret) = (keys.access_key.clone(), keys.secret_key.clone());
    let log: Box<dyn io::Write + Send> = match &args.log {
        Some(p) => Box::new(std::fs::OpenOptions::new().create(true).append(true).open(p)?),
        None => Box::new(io::stderr()),
    };
    let store = store::Store::open(&args.data)?;
    let state = Arc::new(crypto::State::new(store, keys, keylog::KeyLog::new(log), args.encrypt));

    let (cert, key) = tls_files(&args)?;
    let acceptor = tls_acceptor(&cert, &key)?;
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let endpoint = format!("https://{}:{}", args.host, listener.local_addr()?.port());
    let mut info = serde_json::json!({
        "endpoint": endpoint,
        "access_key": access.as_str(),
        "secret_key": secret.as_str(),
        "certificate": std::fs::canonicalize(&cert)?,
        "encryption": args.encrypt,
    });
    println!("s3crypt gateway");
    println!("  endpoint:    {endpoint}");
    let http_listener = if args.http {
        let l = TcpListener::bind((args.host.as_str(), args.http_port)).await?;
        let http_endpoint = format!("http://{}:{}", args.host, l.local_addr()?.port());
        println!("  http:        {http_endpoint} (plain HTTP: SSE-C is refused here)");
        info["http_endpoint"] = serde_json::Value::String(http_endpoint);
        Some(l)
    } else {
        None
    };
    println!("  access key:  {}", access.as_str());
    println!("  secret key:  {}", secret.as_str());
    println!("  certificate: {}", info["certificate"].as_str().unwrap_or_default());
    println!("  data:        {}", args.data.display());
    if !args.encrypt {
        println!("  WARNING: --no-encryption: objects are stored in plaintext (load-test baseline)");
    }
    store::write_atomic(&args.data.join("gateway.json"), info.to_string().as_bytes(), 0o600)?;

    if let Some(l) = http_listener {
        tokio::spawn(serve(l, s3_service(&state, false, &access, &secret), None));
    }
    tokio::select! {
        () = serve(listener, s3_service(&state, true, &access, &secret), Some(acceptor)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
