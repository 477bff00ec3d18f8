"""Offline harness around AWS's Python S3 Encryption Client (amazon-s3-encryption-client-python 4.0.0).

Shared by make_vectors.py (AWS's client writes objects s3crypt must read) and check_decrypt.py (AWS's
client reads objects s3crypt wrote). Nothing here touches a network:

* S3 is an in-memory store behind botocore's own `before-send` event: the real boto3 S3 client
  serialises each request (headers, `x-amz-meta-*` user metadata, body) and the store answers with a
  real HTTP-shaped response, so AWS's client runs exactly as it would against S3.
* KMS is a real boto3 KMS client answered by botocore's `Stubber`, which also checks the parameters of
  every call (key id, blob and encryption context on Decrypt).
* AWS's Python client 4.0.0 ships only a KMS keyring. For the `AES/GCM` wrap this harness adds a raw
  AES keyring written from AWS's Java `AesKeyring` (v4): EDK = nonce(12) || AES-256-GCM(dataKey) ||
  tag(16), AAD = "AES/GCM/NoPadding" (V2) or "115" (V3). The content encryption, key derivation,
  commitment, metadata and instruction-file handling are AWS's code; only the wrap is ours.

Object description (one JSON file per object, the format both directions share):

    {"name", "version": 2|3, "wrap": "kms+context"|"AES/GCM",
     "metadata": {mapkey: value},        # user metadata as S3 returns it, without "x-amz-meta-"
     "instruction": str | null,          # body of "<key>.instruction" when the envelope is there
     "body": "<file>",                   # ciphertext, relative to the JSON file
     "plaintext": {"len", "seed", "sha256"},
     "context": {..} | null,             # encryption context the reader presents
     "kms": {"key_id", "ciphertext_blob", "plaintext", "context"} | null,   # base64 blobs
     "aes_key": "<hex>" | null,
     "python_decrypts": bool}
"""

import base64
import hashlib
import io
import json
import os

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import ANY, Stubber
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.encrypted_data_key import EncryptedDataKey
from s3_encryption.materials.keyring import S3Keyring
from s3_encryption.materials.kms_keyring import KmsKeyring
from s3_encryption.materials.materials import AlgorithmSuite, CommitmentPolicy

REGION = "us-east-1"
BUCKET = "vectors"
KMS_KEY_ID = "arn:aws:kms:us-east-1:111122223333:key/0e3c1d2f-s3crypt-vectors"
META = "x-amz-meta-"


def plaintext(seed: str, length: int) -> bytes:
    """The deterministic plaintext of a vector: SHA-256(seed || BE32(i)) blocks, truncated."""
    out = bytearray()
    i = 0
    while len(out) < length:
        out += hashlib.sha256(seed.encode() + i.to_bytes(4, "big")).digest()
        i += 1
    return bytes(out[:length])


class _Raw(io.BytesIO):
    """What botocore expects as a urllib3 response body."""

    def stream(self, **_kwargs):
        data = self.read()
        if data:
            yield data


class FakeS3:
    """An in-memory bucket answering the real boto3 S3 client through its before-send event."""

    def __init__(self):
        self.objects = {}  # key -> (metadata dict without prefix, body bytes)

    def attach(self, client):
        client.meta.events.register("before-send.s3", self._send)

    def _send(self, request, **_kwargs):
        from urllib.parse import unquote, urlsplit

        path = unquote(urlsplit(request.url).path)
        # Virtual-hosted (bucket in the host) or path-style addressing.
        key = path.lstrip("/")
        if urlsplit(request.url).hostname.split(".")[0] != BUCKET and key.startswith(BUCKET + "/"):
            key = key[len(BUCKET) + 1 :]
        if request.method == "PUT":
            body = request.body
            if hasattr(body, "read"):
                body = body.read()
            body = body or b""
            meta = {
                k[len(META):].lower(): (v.decode() if isinstance(v, bytes) else v)
                for k, v in request.headers.items()
                if k.lower().startswith(META)
            }
            self.objects[key] = (meta, bytes(body))
            return AWSResponse(request.url, 200, {"ETag": '"x"'}, _Raw(b""))
        if request.method == "GET":
            if key not in self.objects:
                err = b"<Error><Code>NoSuchKey</Code><Message>none</Message></Error>"
                return AWSResponse(request.url, 404, {"Content-Type": "application/xml"}, _Raw(err))
            meta, body = self.objects[key]
            headers = {META + k: v for k, v in meta.items()}
            headers["Content-Length"] = str(len(body))
            return AWSResponse(request.url, 200, headers, _Raw(body))
        raise AssertionError(f"unexpected S3 call {request.method} {request.url}")


def s3_client():
    # Plain bodies: no aws-chunked trailing checksums, which a real S3 would strip.
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        config=config,
        region_name=REGION,
        aws_access_key_id="AKIDOFFLINE",
        aws_secret_access_key="offline",
    )


def kms_client():
    return boto3.client(
        "kms",
        region_name=REGION,
        aws_access_key_id="AKIDOFFLINE",
        aws_secret_access_key="offline",
    )


def stubbed_kms(k: dict):
    """A KMS client whose one Decrypt call botocore's Stubber answers from a description's `kms`
    object, checking key id, blob and the stored context; returns (client, active stub)."""
    kms = kms_client()
    stub = Stubber(kms)
    stub.add_response(
        "decrypt",
        {"Plaintext": base64.b64decode(k["plaintext"]), "KeyId": k["key_id"]},
        expected_params={
            "KeyId": k["key_id"],
            "CiphertextBlob": base64.b64decode(k["ciphertext_blob"]),
            "EncryptionContext": k["context"],
        },
    )
    stub.activate()
    return kms, stub


def expect_plaintext(desc: dict, out: bytes, differs: str = "plaintext differs") -> None:
    """Raises unless `out` is the described plaintext (length, SHA-256 and the seeded stream)."""
    p = desc["plaintext"]
    if len(out) != p["len"] or hashlib.sha256(out).hexdigest() != p["sha256"]:
        raise AssertionError(f"{desc['name']}: {differs}")
    if out != plaintext(p["seed"], p["len"]):
        raise AssertionError(f"{desc['name']}: plaintext is not the seeded stream")


class AesGcmKeyring(S3Keyring):
    """The raw `AES/GCM` keyring of AWS's Java client (v4), which the Python client does not ship."""

    def __init__(self, key: bytes):
        self.key = key

    def on_encrypt(self, enc_materials):
        enc_materials = super().on_encrypt(enc_materials)
        data_key = os.urandom(32)
        nonce = os.urandom(12)
        aad = _aes_gcm_aad(enc_materials.encryption_algorithm)
        edk = nonce + AESGCM(self.key).encrypt(nonce, data_key, aad)
        enc_materials.encrypted_data_key = EncryptedDataKey(
            key_provider_id=b"S3Keyring", key_provider_info="AES/GCM", encrypted_data_key=edk
        )
        enc_materials.plaintext_data_key = data_key
        return enc_materials

    def on_decrypt(self, dec_materials, encrypted_data_keys=None):
        dec_materials = super().on_decrypt(dec_materials, encrypted_data_keys)
        edk = (encrypted_data_keys or dec_materials.encrypted_data_keys)[0]
        if edk.key_provider_info != "AES/GCM":
            raise ValueError(f"not an AES/GCM key: {edk.key_provider_info}")
        blob = edk.encrypted_data_key
        # The AAD follows the object's format: V3 metadata names the wrap with a two-digit code.
        aad = b"115" if dec_materials.iv is None else b"AES/GCM/NoPadding"
        dec_materials.plaintext_data_key = AESGCM(self.key).decrypt(blob[:12], blob[12:], aad)
        return dec_materials


def _aes_gcm_aad(suite):
    if suite == AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY:
        return str(suite.suite_id).encode()
    return suite.cipher_name.encode()


def relabel_aes(meta: dict, version: int) -> dict:
    """The Python pipeline labels every object it writes `kms+context` and keeps the context in the
    KMS slot; an AES/GCM keyring's object carries the `AES/GCM` label and the material description in
    the matdesc slot, as AWS's Java client writes it."""
    meta = dict(meta)
    if version == 2:
        meta["x-amz-wrap-alg"] = "AES/GCM"
    else:
        meta["x-amz-w"] = "02"
        if "x-amz-t" in meta:
            meta["x-amz-m"] = meta.pop("x-amz-t")
    return meta


def client_for(keyring, version=3, policy=None):
    s3 = s3_client()
    store = FakeS3()
    store.attach(s3)
    suite = (
        AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
        if version == 3
        else AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
    )
    if policy is None:
        policy = (
            CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
            if version == 3
            else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
        )
    config = S3EncryptionClientConfig(
        keyring=keyring, encryption_algorithm=suite, commitment_policy=policy
    )
    return S3EncryptionClient(s3, config), store


def decrypt(desc: dict, directory: str) -> bytes:
    """Decrypts one described object with AWS's client and returns the plaintext."""
    with open(os.path.join(directory, desc["body"]), "rb") as f:
        body = f.read()
    kms = None
    if desc["wrap"] == "AES/GCM":
        keyring = AesGcmKeyring(bytes.fromhex(desc["aes_key"]))
    else:
        k = desc["kms"]
        kms, stub = stubbed_kms(k)
        keyring = KmsKeyring(kms_client=kms, kms_key_id=k["key_id"])
    # V2 objects are read with a policy that allows non-committing suites; V3 with the default.
    policy = (
        CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        if desc["version"] == 3
        else CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    )
    client, store = client_for(keyring, 3, policy)
    key = desc["name"]
    store.objects[key] = (dict(desc["metadata"]), body)
    if desc.get("instruction") is not None:
        store.objects[key + ".instruction"] = (
            {"x-amz-crypto-instr-file": ""},
            desc["instruction"].encode(),
        )
    # put_object/get_object refuse non-ASCII contexts up front (S3 would RFC 2047-encode them);
    # the pipeline underneath handles them, so set the request context the way get_object does.
    context = desc.get("context")
    plugin = client._plugin
    setattr(plugin._context, "encryption_context", context)
    setattr(plugin._context, "instruction_file_suffix", ".instruction")
    setattr(plugin._context, "s3_client", client.wrapped_s3_client)
    setattr(plugin._context, "bucket", BUCKET)
    setattr(plugin._context, "key", key)
    try:
        out = client.wrapped_s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    finally:
        for attr in ("encryption_context", "bucket", "key", "instruction_file_suffix"):
            if hasattr(plugin._context, attr):
                delattr(plugin._context, attr)
    if kms is not None:
        stub.assert_no_pending_responses()
    return out


def check(desc: dict, directory: str) -> None:
    """Decrypts and compares with the described plaintext; raises on any difference."""
    expect_plaintext(desc, decrypt(desc, directory))


__all__ = [
    "ANY",
    "Stubber",
    "AesGcmKeyring",
    "FakeS3",
    "check",
    "client_for",
    "decrypt",
    "expect_plaintext",
    "stubbed_kms",
]
