#!/usr/bin/env python3
"""Generates tests/s3ec/vectors/: objects written by AWS's Python S3 Encryption Client, offline.

Run it in a virtualenv with the pinned client (what .ci/run does for check_decrypt.py):

    python3 -m venv /tmp/s3ec-venv
    /tmp/s3ec-venv/bin/pip install -r tests/s3ec/requirements.txt
    /tmp/s3ec-venv/bin/python tests/s3ec/make_vectors.py tests/s3ec/vectors

For V2 and V3, both wraps (kms+context through a Stubber-answered KMS; AES/GCM, see harness.py) and
every size in SIZES, AWS's client encrypts a seeded plaintext through the real boto3 S3 client into an
in-memory store; the stored metadata and body are written out with the KMS's answers. Every object is
then decrypted again with AWS's client before it is kept. Variants:

* `*-instr`: the same object with its envelope moved into `<key>.instruction` the way AWS's clients
  split it (V2: every mapkey; V3: x-amz-3, x-amz-w, x-amz-m/x-amz-t, while x-amz-c/d/i stay on the
  object). AWS's client reads these back too.
* `*-rfc2047`: the context stored as raw UTF-8 JSON and returned by S3 as an RFC 2047 encoded word
  (`=?UTF-8?B?...?=`), which is how S3 answers a GET for non-ASCII user metadata (Java writes raw
  UTF-8). AWS's Python client cannot read these (it does not decode RFC 2047), so they are marked
  `python_decrypts: false`.
"""

import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    BUCKET,
    KMS_KEY_ID,
    AesGcmKeyring,
    Stubber,
    check,
    client_for,
    kms_client,
    plaintext,
    relabel_aes,
)
from botocore.stub import ANY  # noqa: E402
from s3_encryption.materials.kms_keyring import KmsKeyring  # noqa: E402

SIZES = [0, 1, 15, 16, 17, (1 << 20) + 3]
CONTEXTS = {
    "ascii": {"tenant": "t1", "purpose": "s3crypt vectors"},
    "utf8": {"projet": "chiffré", "名前": "値", "emoji": "🔐"},
}
AES_KEY = bytes(range(0x40, 0x60))


def encrypt(version, wrap, size, context, seed):
    data = plaintext(seed, size)
    kms_answer = None
    if wrap == "AES/GCM":
        keyring = AesGcmKeyring(AES_KEY)
    else:
        kms = kms_client()
        stub = Stubber(kms)
        data_key = os.urandom(32)
        blob = b"offline-kms-blob:" + os.urandom(48)
        stub.add_response(
            "generate_data_key",
            {"CiphertextBlob": blob, "Plaintext": data_key, "KeyId": KMS_KEY_ID},
            expected_params={"KeyId": KMS_KEY_ID, "KeySpec": "AES_256", "EncryptionContext": ANY},
        )
        stub.activate()
        keyring = KmsKeyring(kms_client=kms, kms_key_id=KMS_KEY_ID)
        kms_answer = (data_key, blob)
    client, store = client_for(keyring, version)
    # put_object refuses non-ASCII contexts before encrypting; the plugin's pipeline does not (and
    # stores JSON with \u escapes), so the non-ASCII vectors set the context as put_object would.
    client._plugin._context.encryption_context = dict(context)
    try:
        client.wrapped_s3_client.put_object(Bucket=BUCKET, Key="obj", Body=data)
    finally:
        del client._plugin._context.encryption_context
    meta, body = store.objects["obj"]
    if wrap == "AES/GCM":
        meta = relabel_aes(meta, version)
    kms = None
    if kms_answer is not None:
        slot = "x-amz-matdesc" if version == 2 else "x-amz-t"
        kms = {
            "key_id": KMS_KEY_ID,
            "ciphertext_blob": base64.b64encode(kms_answer[1]).decode(),
            "plaintext": base64.b64encode(kms_answer[0]).decode(),
            "context": json.loads(meta[slot]),
        }
    return meta, body, kms, data


V3_OBJECT_KEYS = ("x-amz-c", "x-amz-d", "x-amz-i")


def split_instruction(meta, version):
    """Moves the envelope into an instruction file the way AWS's clients do."""
    if version == 2:
        return {}, json.dumps(meta)
    on_object = {k: v for k, v in meta.items() if k in V3_OBJECT_KEYS}
    in_file = {k: v for k, v in meta.items() if k not in V3_OBJECT_KEYS}
    return on_object, json.dumps(in_file)


def rfc2047(meta, version, wrap):
    slot = {
        (2, "kms+context"): "x-amz-matdesc",
        (2, "AES/GCM"): "x-amz-matdesc",
        (3, "kms+context"): "x-amz-t",
        (3, "AES/GCM"): "x-amz-m",
    }[(version, wrap)]
    meta = dict(meta)
    raw = json.dumps(json.loads(meta[slot]), ensure_ascii=False, separators=(",", ":"))
    meta[slot] = "=?UTF-8?B?" + base64.b64encode(raw.encode()).decode() + "?="
    return meta


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, old))
    written = 0
    for version in (2, 3):
        for wrap in ("kms+context", "AES/GCM"):
            tag = "kms" if wrap == "kms+context" else "aes"
            for size in SIZES:
                for ctx_name, context in CONTEXTS.items():
                    if size > 17 and ctx_name != "ascii":
                        continue
                    name = f"v{version}-{tag}-{size}-{ctx_name}"
                    seed = name
                    meta, body, kms, data = encrypt(version, wrap, size, context, seed)
                    variants = [(name, meta, None, True)]
                    if size == 17:
                        on_object, instruction = split_instruction(meta, version)
                        variants.append((name + "-instr", on_object, instruction, True))
                    if size == 17 and ctx_name == "utf8":
                        variants.append((name + "-rfc2047", rfc2047(meta, version, wrap), None, False))
                    for vname, vmeta, instruction, python_decrypts in variants:
                        body_file = vname + ".bin"
                        with open(os.path.join(out_dir, body_file), "wb") as f:
                            f.write(body)
                        desc = {
                            "name": vname,
                            "version": version,
                            "wrap": wrap,
                            "metadata": vmeta,
                            "instruction": instruction,
                            "body": body_file,
                            "plaintext": {
                                "len": size,
                                "seed": seed,
                                "sha256": hashlib.sha256(data).hexdigest(),
                            },
                            "context": dict(context) if wrap == "kms+context" else None,
                            "kms": kms,
                            "aes_key": AES_KEY.hex() if wrap == "AES/GCM" else None,
                            "python_decrypts": python_decrypts,
                        }
                        if python_decrypts:
                            check(desc, out_dir)
                        with open(os.path.join(out_dir, vname + ".json"), "w", encoding="utf-8") as f:
                            json.dump(desc, f, indent=1, ensure_ascii=False, sort_keys=True)
                            f.write("\n")
                        written += 1
    print(f"wrote {written} objects to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "vectors"))
