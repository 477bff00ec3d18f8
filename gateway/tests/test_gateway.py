"""The reference gateway against a real S3 client (boto3), over TLS and plain HTTP.

Starts the release build of the gateway on 127.0.0.1 with random ports and a temporary data
directory, then checks what S3 clients depend on and what the encryption promises: round trips in
every mode, ranges, refusals with S3's status and code, copies between modes, bucket default
encryption, no plaintext on disk, and that tampering with the files under the gateway never yields a
200 with wrong bytes.

Environment: GATEWAY_BIN (default: target/release/s3crypt-gateway from the repository root).
"""

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("GATEWAY_BIN", ROOT / "target" / "release" / "s3crypt-gateway"))
CHUNK = 16384  # s3crypt's default chunk size
FOOTER = 12  # BE32(record length) ‖ "S3CGW01\n"


class Gateway:
    """A running gateway process and what a client needs to reach it."""

    def __init__(self, data, extra=()):
        self.data = Path(data)
        self.log = self.data.parent / (self.data.name + "-keys.log")
        info = self.data / "gateway.json"
        if info.exists():
            info.unlink()
        self.proc = subprocess.Popen(
            [str(BIN), "--data", str(self.data), "--port", "0", "--http", "--log", str(self.log), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while not info.exists():
            if self.proc.poll() is not None:
                raise RuntimeError("gateway exited: " + self.proc.stdout.read().decode())
            if time.time() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.05)
        self.info = json.loads(info.read_text())

    def client(self, secure=True, **config):
        cfg = Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            **config,
        )
        return boto3.client(
            "s3",
            endpoint_url=self.info["endpoint"] if secure else self.info["http_endpoint"],
            aws_access_key_id=self.info["access_key"],
            aws_secret_access_key=self.info["secret_key"],
            region_name="us-east-1",
            verify=self.info["certificate"],
            config=cfg,
        )

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def object_file(self, bucket, key):
        name = hashlib.sha256(key.encode()).hexdigest()
        return self.data / "buckets" / bucket / "objects" / name

    def log_lines(self):
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def gw(tmp_path_factory):
    assert BIN.exists(), f"build the gateway first: {BIN}"
    g = Gateway(tmp_path_factory.mktemp("gw") / "data")
    yield g
    g.stop()


@pytest.fixture(scope="session")
def s3(gw):
    return gw.client()


@pytest.fixture(scope="session")
def s3_http(gw):
    return gw.client(secure=False)


_counter = [0]


@pytest.fixture
def bucket(s3):
    _counter[0] += 1
    name = f"test-{os.getpid()}-{_counter[0]}"
    s3.create_bucket(Bucket=name)
    return name


def sse_c(key=None):
    key = key or os.urandom(32)
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_src_sse_c(key):
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def error_of(excinfo):
    r = excinfo.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def split_file(path):
    """(body, record bytes, record dict) of a stored object file."""
    raw = path.read_bytes()
    assert raw[-8:] == b"S3CGW01\n"
    rlen = int.from_bytes(raw[-12:-8], "big")
    body_end = len(raw) - FOOTER - rlen
    record = raw[body_end : len(raw) - FOOTER]
    return raw[:body_end], record, json.loads(record)


def join_file(body, record):
    record = json.dumps(record).encode() if isinstance(record, dict) else record
    return body + record + len(record).to_bytes(4, "big") + b"S3CGW01\n"


def assert_get_fails(s3, bucket, key, **kw):
    """A GET of a damaged object must fail: a 5xx, or a body stream that breaks. Never 200 + bytes."""
    try:
        r = s3.get_object(Bucket=bucket, Key=key, **kw)
    except ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status >= 500, f"expected a 5xx, got {status} {e.response['Error']}"
        return "status"
    except botocore.exceptions.BotoCoreError as e:
        # The connection closed before the response was complete (the body stream failed at once).
        return f"aborted before the body: {type(e).__name__}"
    try:
        data = r["Body"].read()
    except (botocore.exceptions.ResponseStreamingError, botocore.exceptions.IncompleteReadError, Exception) as e:  # noqa: B014
        return f"aborted: {type(e).__name__}"
    pytest.fail(f"GET of a damaged object returned 200 with {len(data)} bytes")


# ---------------------------------------------------------------------------------------------
# Round trips


def test_put_get_head_delete(s3, bucket):
    data = os.urandom(100_000)
    put = s3.put_object(Bucket=bucket, Key="a/b.bin", Body=data, ContentType="application/x-test", Metadata={"who": "me"})
    assert put["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="a/b.bin")
    assert got["Body"].read() == data
    assert got["ServerSideEncryption"] == "AES256"
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"who": "me"}
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="a/b.bin")
    assert head["ContentLength"] == len(data)
    assert head["ServerSideEncryption"] == "AES256"
    s3.delete_object(Bucket=bucket, Key="a/b.bin")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="a/b.bin")
    assert error_of(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="no-such-bucket-here", Key="x")
    assert error_of(e) == (404, "NoSuchBucket")


def test_etags_follow_s3(s3, bucket):
    # S3: a single-part SSE-S3 object's ETag is the plaintext MD5; SSE-C and SSE-KMS ETags are not.
    data = os.urandom(70_000)
    md5 = '"' + hashlib.md5(data).hexdigest() + '"'
    assert s3.put_object(Bucket=bucket, Key="e-s3", Body=data)["ETag"] == md5
    assert s3.head_object(Bucket=bucket, Key="e-s3")["ETag"] == md5
    kw = sse_c()
    put_c = s3.put_object(Bucket=bucket, Key="e-c", Body=data, **kw)["ETag"]
    put_kms = s3.put_object(Bucket=bucket, Key="e-kms", Body=data, ServerSideEncryption="aws:kms")["ETag"]
    for etag in (put_c, put_kms):
        assert etag != md5 and len(etag) == 34, etag
    assert s3.head_object(Bucket=bucket, Key="e-c", **kw)["ETag"] == put_c
    # A copy in the same mode keeps the ETag (same data key, same plaintext).
    s3.copy_object(Bucket=bucket, Key="e-s3-copy", CopySource={"Bucket": bucket, "Key": "e-s3"})
    assert s3.head_object(Bucket=bucket, Key="e-s3-copy")["ETag"] == md5


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7, 3 * 1024 * 1024 + 1])
def test_sizes(s3, bucket, size):
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key=f"s{size}", Body=data)
    assert s3.get_object(Bucket=bucket, Key=f"s{size}")["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key=f"s{size}")["ContentLength"] == size


def test_stored_body_is_ciphertext_of_the_right_length(gw, s3, bucket):
    data = os.urandom(3 * CHUNK + 5)
    s3.put_object(Bucket=bucket, Key="len", Body=data)
    body, _, record = split_file(gw.object_file(bucket, "len"))
    # s3crypt's layout: 56-byte header, then every chunk with its 16-byte tag (a final empty chunk
    # when the length is a multiple of the chunk size).
    chunks = len(data) // CHUNK + 1
    assert len(body) == 56 + len(data) + 16 * chunks
    assert record["envelope"] and record["key"] == "len"
    assert data[:64] not in body


@pytest.mark.parametrize(
    "spec",
    ["bytes=0-0", "LAST", "bytes=16380-16390", "bytes=16384-16384", "bytes=16383-32768", "bytes=100-",
     "bytes=-1", "bytes=-100", "bytes=-40000", "bytes=-999999", "bytes=0-999999", "bytes=32768-"],
)
@pytest.mark.parametrize("mode", ["sse-s3", "sse-c", "sse-kms"])
def test_ranges(s3, bucket, spec, mode):
    size = 2 * CHUNK + 1000
    data = os.urandom(size)
    extra = {"sse-s3": {}, "sse-c": sse_c(), "sse-kms": {"ServerSideEncryption": "aws:kms"}}[mode]
    s3.put_object(Bucket=bucket, Key="r", Body=data, **extra)
    get_extra = extra if mode == "sse-c" else {}
    if spec == "LAST":
        spec = f"bytes={size - 1}-{size - 1}"
    r = s3.get_object(Bucket=bucket, Key="r", Range=spec, **get_extra)
    lo, _, hi = spec[len("bytes="):].partition("-")
    if lo == "":
        start, end = max(0, size - int(hi)), size
    else:
        start, end = int(lo), (min(int(hi) + 1, size) if hi else size)
    assert r["Body"].read() == data[start:end]
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes {start}-{end - 1}/{size}"


def test_range_not_satisfiable(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert error_of(e) == (416, "InvalidRange")


def test_list_objects_v2(s3, bucket):
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    r = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in r["Contents"]] == keys
    assert [o["Size"] for o in r["Contents"]] == [len(k) for k in keys]
    r = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
        seen += [o["Key"] for o in page.get("Contents", [])]
    assert seen == keys
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}):
        seen += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert seen == ["a/", "b/", "c"]
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_get_object_attributes(s3, bucket):
    data = os.urandom(5000)
    put = s3.put_object(Bucket=bucket, Key="attrs", Body=data)
    r = s3.get_object_attributes(Bucket=bucket, Key="attrs", ObjectAttributes=["ETag", "ObjectSize", "StorageClass"])
    assert r["ObjectSize"] == 5000
    assert r["ETag"].strip('"') == put["ETag"].strip('"')  # s3s quotes it in the XML; S3 does not
    key = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="attrs-c", Body=data, **sse_c(key))
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="attrs-c", ObjectAttributes=["ObjectSize"])
    assert error_of(e)[0] == 400
    # boto3 does not encode the SSE-C key for GetObjectAttributes: send the header values as such.
    raw = {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }
    r = s3.get_object_attributes(Bucket=bucket, Key="attrs-c", ObjectAttributes=["ObjectSize"], **raw)
    assert r["ObjectSize"] == 5000


# ---------------------------------------------------------------------------------------------
# SSE-C


def test_sse_c_round_trip_and_refusals(s3, bucket):
    key = os.urandom(32)
    data = os.urandom(40_000)
    put = s3.put_object(Bucket=bucket, Key="c", Body=data, **sse_c(key))
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == md5
    got = s3.get_object(Bucket=bucket, Key="c", **sse_c(key))
    assert got["Body"].read() == data
    assert got["SSECustomerKeyMD5"] == md5
    assert s3.head_object(Bucket=bucket, Key="c", **sse_c(key))["ContentLength"] == len(data)
    # Wrong key: 403 on GET and HEAD.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", **sse_c())
    assert error_of(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c", **sse_c())
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # No key for an SSE-C object: 400 InvalidRequest.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c")
    assert error_of(e) == (400, "InvalidRequest")
    # A key for an object that is not SSE-C: 400 InvalidRequest.
    s3.put_object(Bucket=bucket, Key="s3", Body=b"plain mode")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="s3", **sse_c(key))
    assert error_of(e) == (400, "InvalidRequest")


def test_sse_c_refused_over_plain_http(s3, s3_http, bucket):
    key = os.urandom(32)
    with pytest.raises(ClientError) as e:
        s3_http.put_object(Bucket=bucket, Key="c", Body=b"secret", **sse_c(key))
    assert error_of(e) == (400, "InvalidRequest")
    s3.put_object(Bucket=bucket, Key="c", Body=b"secret", **sse_c(key))
    with pytest.raises(ClientError) as e:
        s3_http.get_object(Bucket=bucket, Key="c", **sse_c(key))
    assert error_of(e) == (400, "InvalidRequest")
    # Other modes work over plain HTTP.
    s3_http.put_object(Bucket=bucket, Key="p", Body=b"fine")
    assert s3_http.get_object(Bucket=bucket, Key="p")["Body"].read() == b"fine"


def test_sse_headers_refused_on_get(gw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"x")
    client = gw.client()

    def add_header(request, **_):
        request.headers["x-amz-server-side-encryption"] = "AES256"

    client.meta.events.register("before-sign.s3.GetObject", add_header)
    with pytest.raises(ClientError) as e:
        client.get_object(Bucket=bucket, Key="x")
    assert error_of(e) == (400, "InvalidArgument")


def test_invalid_sse_request_headers(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId="k")
    assert error_of(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="aws:kms:dsse")
    assert error_of(e) == (400, "InvalidArgument")


# ---------------------------------------------------------------------------------------------
# SSE-KMS


def test_sse_kms_with_context_and_bucket_key(gw, s3, bucket):
    context = base64.b64encode(json.dumps({"project": "s3crypt", "team": "storage"}).encode()).decode()
    data = os.urandom(70_000)
    put = s3.put_object(
        Bucket=bucket, Key="k1", Body=data, ServerSideEncryption="aws:kms",
        SSEKMSEncryptionContext=context, BucketKeyEnabled=True,
    )
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == "gateway-default"
    assert put["BucketKeyEnabled"] is True
    returned = json.loads(base64.b64decode(put["SSEKMSEncryptionContext"]))
    assert returned["project"] == "s3crypt" and returned["aws:s3:arn"] == f"arn:aws:s3:::{bucket}"
    s3.put_object(
        Bucket=bucket, Key="k2", Body=data, ServerSideEncryption="aws:kms",
        SSEKMSEncryptionContext=context, BucketKeyEnabled=True,
    )
    for k in ("k1", "k2"):
        got = s3.get_object(Bucket=bucket, Key=k)
        assert got["Body"].read() == data
        assert got["ServerSideEncryption"] == "aws:kms" and got["BucketKeyEnabled"] is True
    assert s3.get_object(Bucket=bucket, Key="k1", Range="bytes=100-20000")["Body"].read() == data[100:20001]
    events = [e for e in gw.log_lines() if e["bucket"] == bucket]
    seals = [e for e in events if e["operation"] == "PutObject" and e["use"] == "seal"]
    assert [(e["key"], e["mode"], e["outcome"], e["key_id"]) for e in seals] == [
        ("k1", "SSE-KMS", "success", "gateway-default"), ("k2", "SSE-KMS", "success", "gateway-default")]
    # The second write reused the bucket key: one GenerateDataKey for two objects.
    generates = [e for e in events if e["use"] == "kms-generate"]
    assert len(generates) == 1 and generates[0]["outcome"] == "success"
    # The bucket key the write generated serves the reads from the cache: no KMS Decrypt at all.
    decrypts = [e for e in events if e["use"] == "kms-decrypt"]
    assert len(decrypts) == 0
    opens = [e for e in events if e["use"] == "open"]
    assert len(opens) == 3 and all(e["outcome"] == "success" for e in opens)
    # No secret in the log: neither the data nor any key material field.
    text = gw.log.read_text()
    assert "secret" not in text.lower() and gw.info["secret_key"] not in text
    # Per-object keys without the bucket key: the context names the object.
    put = s3.put_object(Bucket=bucket, Key="k3", Body=b"x", ServerSideEncryption="aws:kms")
    assert "BucketKeyEnabled" not in put or put["BucketKeyEnabled"] is False
    ctx = json.loads(base64.b64decode(put["SSEKMSEncryptionContext"]))
    assert ctx["aws:s3:arn"] == f"arn:aws:s3:::{bucket}/k3"


def test_sse_kms_unknown_key_refused(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="no-such-key")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


def test_bucket_default_encryption(s3, bucket):
    default = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert default["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "gateway-default"},
            "BucketKeyEnabled": True,
        }]},
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "gateway-default"}
    assert rule["BucketKeyEnabled"] is True
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"default")
    assert put["ServerSideEncryption"] == "aws:kms" and put["BucketKeyEnabled"] is True
    head = s3.head_object(Bucket=bucket, Key="d")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "gateway-default"
    # An explicit mode overrides the default.
    assert s3.put_object(Bucket=bucket, Key="e", Body=b"x", ServerSideEncryption="AES256")["ServerSideEncryption"] == "AES256"
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.put_object(Bucket=bucket, Key="f", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"default"


# ---------------------------------------------------------------------------------------------
# Copy


def test_copy_between_modes(gw, s3, bucket):
    data = os.urandom(3 * CHUNK + 123)
    ck1, ck2 = os.urandom(32), os.urandom(32)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    chain = [
        ("to-c", sse_c(ck1), {}),
        ("to-c2", sse_c(ck2), copy_src_sse_c(ck1)),
        ("to-kms", {"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": True}, copy_src_sse_c(ck2)),
        ("to-s3", {"ServerSideEncryption": "AES256"}, {}),
    ]
    src = "src"
    src_body, _, _ = split_file(gw.object_file(bucket, "src"))
    for dst, dst_sse, src_sse in chain:
        r = s3.copy_object(Bucket=bucket, Key=dst, CopySource={"Bucket": bucket, "Key": src}, **dst_sse, **src_sse)
        assert "CopyObjectResult" in r
        get_extra = dst_sse if "SSECustomerKey" in dst_sse else {}
        assert s3.get_object(Bucket=bucket, Key=dst, **get_extra)["Body"].read() == data
        # Envelope re-sealed; the body was copied untouched.
        body, _, _ = split_file(gw.object_file(bucket, dst))
        assert body == src_body
        src = dst
    # The source key is required to copy an SSE-C object.
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="nokey", CopySource={"Bucket": bucket, "Key": "to-c"})
    assert error_of(e)[0] == 400
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="badkey", CopySource={"Bucket": bucket, "Key": "to-c"}, **copy_src_sse_c(ck2))
    assert error_of(e)[0] == 403


def test_copy_replaces_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="m", Body=b"meta", Metadata={"a": "1"})
    s3.copy_object(Bucket=bucket, Key="m", CopySource={"Bucket": bucket, "Key": "m"}, Metadata={"b": "2"},
                   MetadataDirective="REPLACE", ServerSideEncryption="aws:kms")
    got = s3.get_object(Bucket=bucket, Key="m")
    assert got["Metadata"] == {"b": "2"} and got["ServerSideEncryption"] == "aws:kms"
    assert got["Body"].read() == b"meta"


# ---------------------------------------------------------------------------------------------
# Multipart


MIB = 1024 * 1024


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(20 * MIB))
    return path


@pytest.mark.parametrize("mode", ["sse-s3", "sse-kms", "sse-c"])
def test_upload_download_file_20mib(s3, bucket, big, tmp_path, mode):
    from boto3.s3.transfer import TransferConfig

    extra = {"sse-s3": {}, "sse-kms": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "gateway-default"},
             "sse-c": sse_c()}[mode]
    # 5 MiB parts: 4 parts of 20 MiB, uploaded and downloaded concurrently.
    cfg = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(big), bucket, "big", ExtraArgs=extra, Config=cfg)
    get_extra = extra if mode == "sse-c" else {}
    head = s3.head_object(Bucket=bucket, Key="big", **get_extra)
    assert head["ContentLength"] == 20 * MIB
    assert head["ETag"].strip('"').endswith("-4")
    dst = tmp_path / "back.bin"
    s3.download_file(bucket, "big", str(dst), ExtraArgs=get_extra, Config=cfg)
    assert dst.read_bytes() == big.read_bytes()
    # Ranges across part boundaries and inside parts, then whole parts by number.
    data = big.read_bytes()
    for lo, hi in [(5 * MIB - 10, 5 * MIB + 10), (0, 0), (20 * MIB - 1, 20 * MIB - 1), (MIB, 16 * MIB), (10 * MIB, 10 * MIB + 16383)]:
        r = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={lo}-{hi}", **get_extra)
        assert r["Body"].read() == data[lo : hi + 1], (lo, hi)
    r = s3.get_object(Bucket=bucket, Key="big", Range="bytes=-100", **get_extra)
    assert r["Body"].read() == data[-100:]
    for n in (1, 4):
        r = s3.get_object(Bucket=bucket, Key="big", PartNumber=n, **get_extra)
        assert r["PartsCount"] == 4
        assert r["Body"].read() == data[(n - 1) * 5 * MIB : n * 5 * MIB]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="big", PartNumber=5, **get_extra)
    assert error_of(e)[0] in (400, 416)


def test_multipart_sse_c_part_with_another_key_refused(s3, bucket):
    key = os.urandom(32)
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", **sse_c(key))
    uid = up["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"x" * 100, **sse_c())
    assert error_of(e)[0] == 400
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"x" * 100)
    assert error_of(e)[0] == 400
    p1 = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"y" * 100, **sse_c(key))
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]}, **sse_c(key))
    assert s3.get_object(Bucket=bucket, Key="m", **sse_c(key))["Body"].read() == b"y" * 100
    # Every part but the last must be at least 5 MiB (S3's EntityTooSmall); ListParts lists them.
    small = s3.create_multipart_upload(Bucket=bucket, Key="s")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="s", UploadId=small, PartNumber=1, Body=b"a" * 1000)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="s", UploadId=small, PartNumber=2, Body=b"b" * 1000)["ETag"]
    assert [(p["PartNumber"], p["Size"]) for p in s3.list_parts(Bucket=bucket, Key="s", UploadId=small)["Parts"]] == [(1, 1000), (2, 1000)]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="s", UploadId=small, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert error_of(e) == (400, "EntityTooSmall")
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="n")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="n", UploadId=aborted, PartNumber=1, Body=b"z")
    s3.abort_multipart_upload(Bucket=bucket, Key="n", UploadId=aborted)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="n", UploadId=aborted, PartNumber=2, Body=b"z")
    assert error_of(e) == (404, "NoSuchUpload")


def test_upload_part_copy(s3, bucket):
    src = os.urandom(6 * MIB)
    ck = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="src", Body=src, **sse_c(ck))
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst", ServerSideEncryption="aws:kms")
    uid = up["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes=0-{5 * MIB - 1}", **copy_src_sse_c(ck))
    p2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2, CopySource={"Bucket": bucket, "Key": "src"},
                             **copy_src_sse_c(ck))
    parts = [{"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": parts})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["ServerSideEncryption"] == "aws:kms"
    assert got["Body"].read() == src[: 5 * MIB] + src
    # A copy of a multipart object (envelope re-sealed, part table carried) reads back too.
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "dst"}, **sse_c(ck))
    assert s3.get_object(Bucket=bucket, Key="dst2", **sse_c(ck))["Body"].read() == src[: 5 * MIB] + src


def multipart_object(s3, bucket, key, sizes):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)
    uid = up["UploadId"]
    datas, parts = [], []
    for n, size in enumerate(sizes, 1):
        d = os.urandom(size)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n, Body=d)
        datas.append(d)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
    return datas


def stored_len(size):
    return 56 + size + 16 * (size // CHUNK + 1)


@pytest.mark.parametrize("damage", ["drop-last", "drop-middle", "swap-parts", "truncate-part", "flip-in-part-2", "swap-tables"])
def test_multipart_tampering_fails(gw, s3, bucket, damage):
    sizes = [5 * MIB, 5 * MIB, 5 * MIB, 1000]
    datas = multipart_object(s3, bucket, "mp", sizes)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"".join(datas)
    path = gw.object_file(bucket, "mp")
    body, _, record = split_file(path)
    lens = [stored_len(x) for x in sizes]
    offs = [sum(lens[:i]) for i in range(len(lens) + 1)]
    pieces = [body[offs[i] : offs[i + 1]] for i in range(len(sizes))]
    if damage == "drop-last":
        body = b"".join(pieces[:-1])
    elif damage == "drop-middle":
        body = pieces[0] + pieces[2] + pieces[3]
    elif damage == "swap-parts":
        body = pieces[1] + pieces[0] + pieces[2] + pieces[3]
    elif damage == "truncate-part":
        body = pieces[0] + pieces[1][:-100] + pieces[2] + pieces[3]
    elif damage == "flip-in-part-2":
        p = bytearray(pieces[1])
        p[len(p) // 2] ^= 0x80
        body = pieces[0] + bytes(p) + pieces[2] + pieces[3]
    elif damage == "swap-tables":
        other = multipart_object(s3, bucket, "mp2", sizes)
        assert other
        _, _, rec2 = split_file(gw.object_file(bucket, "mp2"))
        record["parts"] = rec2["parts"]
    path.write_bytes(join_file(body, record))
    assert_get_fails(s3, bucket, "mp")
    for spec in [f"bytes={5 * MIB - 5}-{5 * MIB + 5}", "bytes=-10"]:
        try:
            got = s3.get_object(Bucket=bucket, Key="mp", Range=spec)["Body"].read()
        except Exception:  # noqa: BLE001 - failing is the expected outcome
            continue
        whole = b"".join(datas)
        lo, hi = (5 * MIB - 5, 5 * MIB + 6) if "-5" not in spec[6:7] and not spec.startswith("bytes=-") else (len(whole) - 10, len(whole))
        assert got == whole[lo:hi], f"{damage}: {spec} returned wrong bytes"


# ---------------------------------------------------------------------------------------------
# On disk: no plaintext, and tampering never yields a 200 with wrong bytes


def test_no_plaintext_on_disk(gw, s3, bucket):
    marker = os.urandom(64)
    body = os.urandom(10_000) + marker + os.urandom(50_000) + marker
    ck = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="p-s3", Body=body)
    s3.put_object(Bucket=bucket, Key="p-c", Body=body, **sse_c(ck))
    s3.put_object(Bucket=bucket, Key="p-kms", Body=body, ServerSideEncryption="aws:kms", BucketKeyEnabled=True)
    s3.put_object(Bucket=bucket, Key="small", Body=marker)
    s3.copy_object(Bucket=bucket, Key="p-copy", CopySource={"Bucket": bucket, "Key": "p-c"}, **copy_src_sse_c(ck))
    # A completed multipart object, and an upload still in progress (its parts on disk).
    for key, complete in [("p-mp", True), ("p-mp-open", False)]:
        uid = s3.create_multipart_upload(Bucket=bucket, Key=key, ServerSideEncryption="aws:kms")["UploadId"]
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=body)["ETag"]
        if complete:
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="p-mp")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="p-copy")["Body"].read() == body
    scanned = 0
    for path in gw.data.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert marker not in content, f"plaintext found in {path}"
            assert marker[:32] not in content and marker[32:] not in content, f"plaintext found in {path}"
            scanned += 1
    assert scanned >= 5


@pytest.fixture
def victim(gw, s3, bucket):
    data = os.urandom(5 * CHUNK + 100)
    s3.put_object(Bucket=bucket, Key="v", Body=data)
    return bucket, "v", gw.object_file(bucket, "v"), data


@pytest.mark.parametrize("where", ["header", "first-chunk", "middle-chunk", "last-tag"])
def test_flipped_byte_fails(s3, victim, where):
    bucket, key, path, data = victim
    body, record, _ = split_file(path)
    pos = {"header": 10, "first-chunk": 56 + 5, "middle-chunk": 56 + 3 * (CHUNK + 16) + 7, "last-tag": len(body) - 1}[where]
    body = bytearray(body)
    body[pos] ^= 0x01
    path.write_bytes(join_file(bytes(body), record))
    assert_get_fails(s3, bucket, key)
    # Ranges over the damaged chunk fail too; a range elsewhere may succeed, but only with right bytes.
    for spec, (lo, hi) in [("bytes=0-10", (0, 11)), ("bytes=50000-50100", (50000, 50101)), ("bytes=-5", (len(data) - 5, len(data)))]:
        try:
            r = s3.get_object(Bucket=bucket, Key=key, Range=spec)
            got = r["Body"].read()
        except Exception:  # noqa: BLE001 - a failed read is the expected outcome for damaged chunks
            continue
        assert got == data[lo:hi], f"{spec} returned wrong bytes"


@pytest.mark.parametrize("cut", [1, 16, CHUNK + 16, "to-header"])
def test_truncated_body_fails(s3, victim, cut):
    bucket, key, path, _ = victim
    body, record, _ = split_file(path)
    body = body[:56] if cut == "to-header" else body[:-cut]
    path.write_bytes(join_file(body, record))
    assert_get_fails(s3, bucket, key)
    assert_get_fails(s3, bucket, key, Range="bytes=0-100")


def test_truncated_file_fails(s3, victim):
    bucket, key, path, _ = victim
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    assert_get_fails(s3, bucket, key)


def test_appended_body_fails(s3, victim):
    bucket, key, path, _ = victim
    body, record, _ = split_file(path)
    path.write_bytes(join_file(body + os.urandom(CHUNK + 16), record))
    assert_get_fails(s3, bucket, key)


@pytest.mark.parametrize("mode", ["sse-s3", "sse-kms"])
def test_swapped_envelopes_fail(gw, s3, bucket, mode):
    extra = {"ServerSideEncryption": "aws:kms"} if mode == "sse-kms" else {}
    a, b = os.urandom(30_000), os.urandom(30_000)
    s3.put_object(Bucket=bucket, Key="a", Body=a, **extra)
    s3.put_object(Bucket=bucket, Key="b", Body=b, **extra)
    pa, pb = gw.object_file(bucket, "a"), gw.object_file(bucket, "b")
    body_a, _, rec_a = split_file(pa)
    body_b, _, rec_b = split_file(pb)
    # Swap only the envelopes (each record still names its own key).
    rec_a["envelope"], rec_b["envelope"] = rec_b["envelope"], rec_a["envelope"]
    pa.write_bytes(join_file(body_a, rec_a))
    pb.write_bytes(join_file(body_b, rec_b))
    assert_get_fails(s3, bucket, "a")
    assert_get_fails(s3, bucket, "b")
    # Swapping the bodies back under their own envelopes would work; moving a whole file fails.
    pa.write_bytes(join_file(body_b, rec_a))  # b's body under (a's name, b's envelope): wrong object
    assert_get_fails(s3, bucket, "a")


def test_swapped_bodies_fail(gw, s3, bucket):
    a, b = os.urandom(30_000), os.urandom(30_000)
    s3.put_object(Bucket=bucket, Key="a", Body=a)
    s3.put_object(Bucket=bucket, Key="b", Body=b)
    pa, pb = gw.object_file(bucket, "a"), gw.object_file(bucket, "b")
    body_a, rec_a, _ = split_file(pa)
    body_b, rec_b, _ = split_file(pb)
    pa.write_bytes(join_file(body_b, rec_a))
    assert_get_fails(s3, bucket, "a")
    assert_get_fails(s3, bucket, "a", Range="bytes=20000-20010")


# ---------------------------------------------------------------------------------------------
# Concurrency and crashes


def test_concurrent_put_get_never_mixes(s3, bucket):
    versions = [os.urandom(300_000) for _ in range(2)]
    s3.put_object(Bucket=bucket, Key="hot", Body=versions[0])
    stop = time.time() + 4
    errors = []

    def writer(i):
        while time.time() < stop:
            s3.put_object(Bucket=bucket, Key="hot", Body=versions[i % 2])
            i += 1

    def reader():
        n = 0
        while time.time() < stop:
            got = s3.get_object(Bucket=bucket, Key="hot")["Body"].read()
            if got not in versions:
                errors.append(len(got))
            n += 1
        assert n > 0

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], "a GET returned a mix of two versions"


def test_kill_9_mid_put_keeps_previous_object(tmp_path):
    g = Gateway(tmp_path / "data")
    try:
        s3 = g.client()
        s3.create_bucket(Bucket="crash")
        old = os.urandom(200_000)
        s3.put_object(Bucket="crash", Key="obj", Body=old)

        # Send a PUT of 8 MiB by hand, stop half-way and kill the gateway with SIGKILL.
        new = os.urandom(8 * 1024 * 1024)
        req = s3.generate_presigned_url("put_object", Params={"Bucket": "crash", "Key": "obj"}, ExpiresIn=60)
        import ssl
        import urllib.parse

        url = urllib.parse.urlparse(req)
        ctx = ssl.create_default_context(cafile=g.info["certificate"])
        sock = ctx.wrap_socket(socket.create_connection((url.hostname, url.port)), server_hostname=url.hostname)
        head = (
            f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Length: {len(new)}\r\n\r\n"
        ).encode()
        sock.sendall(head + new[: len(new) // 2])
        deadline = time.time() + 10
        while not list((g.data / "tmp").iterdir()) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert list((g.data / "tmp").iterdir()), "the PUT in flight should have a temporary file"
        g.stop(signal.SIGKILL)
        sock.close()
    finally:
        g.stop()
    g2 = Gateway(tmp_path / "data")
    try:
        s3 = g2.client()
        assert s3.get_object(Bucket="crash", Key="obj")["Body"].read() == old
        assert list((g2.data / "tmp").iterdir()) == []
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="crash")["Contents"]] == ["obj"]
    finally:
        g2.stop()
