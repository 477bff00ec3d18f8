#!/usr/bin/env python3
"""Has AWS's Python S3 Encryption Client (4.0.0, offline: see harness.py) decrypt every object in a
directory, as written by `cargo run --example s3ec_write -- <dir>` (or tests/s3ec/vectors).

    python3 -m venv /tmp/s3ec-venv
    /tmp/s3ec-venv/bin/pip install -r tests/s3ec/requirements.txt
    /tmp/s3ec-venv/bin/python tests/s3ec/check_decrypt.py <dir>

Exits non-zero, naming the objects, if any fails to decrypt to its seeded plaintext. A tampered
copy of each object must also fail (AWS's client authenticates what s3crypt wrote).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import check  # noqa: E402


def main(directory):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    if not names:
        print(f"no objects in {directory}")
        return 1
    failed = []
    checked = 0
    for name in names:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            desc = json.load(f)
        if not desc.get("python_decrypts", True):
            continue
        try:
            check(desc, directory)
            checked += 1
        except Exception as e:  # noqa: BLE001 - report every failure, then fail
            failed.append(f"{desc['name']}: {type(e).__name__}: {e}")
            continue
        # The same object with its body's last byte flipped must be refused.
        body_path = os.path.join(directory, desc["body"])
        with open(body_path, "rb") as f:
            body = bytearray(f.read())
        body[-1] ^= 1
        tampered_path = body_path + ".tampered"
        with open(tampered_path, "wb") as f:
            f.write(body)
        tampered = dict(desc, body=os.path.basename(tampered_path))
        try:
            check(tampered, directory)
            failed.append(f"{desc['name']}: a tampered body decrypted")
        except Exception:  # noqa: BLE001 - any refusal is the expected outcome
            pass
        finally:
            os.remove(tampered_path)
    for line in failed:
        print("FAILED", line)
    print(f"AWS's client decrypted {checked} of {len(names)} objects; {len(failed)} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
