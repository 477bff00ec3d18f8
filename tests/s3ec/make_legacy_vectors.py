#!/usr/bin/env python3
"""Generates tests/s3ec/legacy-vectors/: legacy S3EC objects (V1, CBC content, AESWrap, kms), and has
AWS's Python S3 Encryption Client decrypt each one. Offline, in the virtualenv of make_vectors.py:

    /tmp/s3ec-venv/bin/python tests/s3ec/make_legacy_vectors.py tests/s3ec/legacy-vectors
    /tmp/s3ec-venv/bin/python tests/s3ec/make_legacy_vectors.py --check tests/s3ec/legacy-vectors

AWS's clients no longer write these formats (AWS's v1 Java and Go clients did), and AWS's Python client
4.0.0 only decrypts them. So the objects are composed here from their published layout with the
`cryptography` package (an implementation independent of s3crypt: AES-CBC + PKCS#7, RFC 3394 AES key
wrap, AES-ECB, AES-GCM), then each one is decrypted by AWS's Python client (its pipeline: metadata
parsing, V1/V2 detection, the legacy opt-ins, CBC with PKCS#7 unpadding, GCM) before it is kept:

* `kms` wraps go through AWS's own `KmsKeyring(enable_legacy_wrapping_algorithms=True)` against a
  botocore `Stubber` that checks the Decrypt call (key id, blob, the stored context as
  EncryptionContext).
* AWS's Python client ships no raw-AES keyring; for `AESWrap` and V1 `AES` (ECB) the check uses a
  small keyring below that unwraps with `cryptography` (as AWS's Java `AesKeyring` does with JCE's
  `AESWrap` and `AES` ciphers). Everything after the data key is AWS's code.

Families (V1 = `x-amz-key`; V2 = `x-amz-key-v2`):

    v1-aes-*         V1 EncryptionOnly, symmetric master key: no x-amz-wrap-alg, the data key as
                     AES-256/ECB/PKCS5Padding (48 bytes), AES/CBC/PKCS5Padding content, 16-byte IV,
                     x-amz-unencrypted-content-length (Java v1 EncryptionOnly)
    v2-aeswrap-cbc-* AESWrap (RFC 3394) + AES/CBC/PKCS5Padding (Java v1 EncryptionOnly)
    v2-aeswrap-gcm-* AESWrap + AES/GCM/NoPadding, x-amz-tag-len 128 (Java v1 AuthenticatedEncryption)
    v2-kms-cbc-*     kms + AES/CBC/PKCS5Padding, matdesc {"kms_cmk_id": key} (Java/Go v1 with KMS)
    v2-kms-gcm-*     kms + AES/GCM/NoPadding (Java v1 AuthenticatedEncryption with KMS, Go v1 V2)
"""

import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives import padding  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap  # noqa: E402

from harness import BUCKET, FakeS3, KMS_KEY_ID, expect_plaintext, plaintext, s3_client, stubbed_kms  # noqa: E402
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig  # noqa: E402
from s3_encryption.materials.keyring import S3Keyring  # noqa: E402
from s3_encryption.materials.kms_keyring import KmsKeyring  # noqa: E402
from s3_encryption.materials.materials import CommitmentPolicy  # noqa: E402

AES_KEY = bytes(range(0x60, 0x80))
SIZES = [0, 1, 15, 16, 17]
CBC = "AES/CBC/PKCS5Padding"
GCM = "AES/GCM/NoPadding"
FAMILIES = [
    # (name, format version, wrap, content, sizes)
    ("v1-aes", 1, "AES", CBC, SIZES + [(1 << 20) + 3]),
    ("v2-aeswrap-cbc", 2, "AESWrap", CBC, SIZES),
    ("v2-aeswrap-gcm", 2, "AESWrap", GCM, SIZES),
    ("v2-kms-cbc", 2, "kms", CBC, SIZES),
    ("v2-kms-gcm", 2, "kms", GCM, SIZES),
]
MATDESC = {"purpose": "s3crypt legacy vectors"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ecb_encrypt_key(kek: bytes, data_key: bytes) -> bytes:
    """Java's `AES` cipher (AES/ECB/PKCS5Padding), as AWS's v1 clients encrypted a data key."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data_key) + padder.finalize()
    enc = Cipher(algorithms.AES(kek), modes.ECB()).encryptor()
    return enc.update(padded) + enc.finalize()


def ecb_decrypt_key(kek: bytes, edk: bytes) -> bytes:
    dec = Cipher(algorithms.AES(kek), modes.ECB()).decryptor()
    padded = dec.update(edk) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def make(name, version, wrap, content, size):
    seed = name
    data = plaintext(seed, size)
    data_key = os.urandom(32)
    kms = None
    if wrap == "AES":
        edk = ecb_encrypt_key(AES_KEY, data_key)
        matdesc = dict(MATDESC)
    elif wrap == "AESWrap":
        edk = aes_key_wrap(AES_KEY, data_key)
        matdesc = dict(MATDESC)
    else:
        edk = b"offline-kms-blob:" + os.urandom(48)
        matdesc = {"kms_cmk_id": KMS_KEY_ID}
        kms = {"key_id": KMS_KEY_ID, "ciphertext_blob": b64(edk), "plaintext": b64(data_key), "context": matdesc}
    meta = {}
    if content == CBC:
        iv = os.urandom(16)
        body = cbc_encrypt(data_key, iv, data)
    else:
        iv = os.urandom(12)
        body = AESGCM(data_key).encrypt(iv, data, None)
    meta["x-amz-key" if version == 1 else "x-amz-key-v2"] = b64(edk)
    meta["x-amz-iv"] = b64(iv)
    meta["x-amz-matdesc"] = json.dumps(matdesc)
    if wrap != "AES":
        meta["x-amz-wrap-alg"] = wrap
    if version == 2:
        meta["x-amz-cek-alg"] = content
    if content == GCM:
        meta["x-amz-tag-len"] = "128"
    else:
        meta["x-amz-unencrypted-content-length"] = str(size)
    desc = {
        "name": name,
        "version": version,
        "wrap": wrap,
        "content": content,
        "metadata": meta,
        "instruction": None,
        "body": name + ".bin",
        "plaintext": {"len": size, "seed": seed, "sha256": hashlib.sha256(data).hexdigest()},
        "context": None,
        "kms": kms,
        "aes_key": AES_KEY.hex() if kms is None else None,
        "python_decrypts": True,
    }
    return desc, body


class LegacyAesKeyring(S3Keyring):
    """Unwraps `AESWrap` (RFC 3394) and V1 `AES` (ECB) data keys with `cryptography`, decrypt-only,
    as AWS's Java `AesKeyring` does with JCE's `AESWrap` and `AES` ciphers."""

    def __init__(self, key: bytes):
        self.key = key

    def on_encrypt(self, enc_materials):
        raise NotImplementedError("decrypt-only")

    def on_decrypt(self, dec_materials, encrypted_data_keys=None):
        dec_materials = super().on_decrypt(dec_materials, encrypted_data_keys)
        edk = (encrypted_data_keys or dec_materials.encrypted_data_keys)[0]
        blob = edk.encrypted_data_key
        if edk.key_provider_info == "AESWrap":
            dec_materials.plaintext_data_key = aes_key_unwrap(self.key, blob)
        elif edk.key_provider_info in (None, "AES"):
            dec_materials.plaintext_data_key = ecb_decrypt_key(self.key, blob)
        else:
            raise ValueError(f"not a legacy AES wrap: {edk.key_provider_info}")
        return dec_materials


def aws_decrypt(desc: dict, directory: str) -> bytes:
    """Decrypts one legacy object with AWS's Python client, both legacy opt-ins on."""
    with open(os.path.join(directory, desc["body"]), "rb") as f:
        body = f.read()
    stub = None
    if desc["wrap"] == "kms":
        k = desc["kms"]
        kms, stub = stubbed_kms(k)
        keyring = KmsKeyring(kms_client=kms, kms_key_id=k["key_id"], enable_legacy_wrapping_algorithms=True)
    else:
        keyring = LegacyAesKeyring(bytes.fromhex(desc["aes_key"]))
    s3 = s3_client()
    store = FakeS3()
    store.attach(s3)
    config = S3EncryptionClientConfig(
        keyring=keyring,
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
        enable_legacy_unauthenticated_modes=True,
    )
    client = S3EncryptionClient(s3, config)
    store.objects[desc["name"]] = (dict(desc["metadata"]), body)
    out = client.get_object(Bucket=BUCKET, Key=desc["name"])["Body"].read()
    if stub is not None:
        stub.assert_no_pending_responses()
    return out


def check(desc: dict, directory: str) -> None:
    expect_plaintext(desc, aws_decrypt(desc, directory), "AWS's client decrypted something else")


def check_all(directory: str) -> int:
    names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    failed = []
    for name in names:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            desc = json.load(f)
        try:
            check(desc, directory)
        except Exception as e:  # noqa: BLE001 - report every failure, then fail
            failed.append(f"{desc['name']}: {type(e).__name__}: {e}")
    for line in failed:
        print("FAILED", line)
    print(f"AWS's client decrypted {len(names) - len(failed)} of {len(names)} legacy objects")
    return 1 if failed or not names else 0


def main(out_dir: str) -> int:
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, old))
    written = 0
    for family, version, wrap, content, sizes in FAMILIES:
        for size in sizes:
            desc, body = make(f"{family}-{size}", version, wrap, content, size)
            with open(os.path.join(out_dir, desc["body"]), "wb") as f:
                f.write(body)
            check(desc, out_dir)
            with open(os.path.join(out_dir, desc["name"] + ".json"), "w", encoding="utf-8") as f:
                json.dump(desc, f, indent=1, sort_keys=True)
                f.write("\n")
            written += 1
    print(f"wrote {written} legacy objects to {out_dir}, each decrypted by AWS's client")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--check":
        sys.exit(check_all(args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "legacy-vectors")))
    sys.exit(main(args[0] if args else os.path.join(os.path.dirname(__file__), "legacy-vectors")))
