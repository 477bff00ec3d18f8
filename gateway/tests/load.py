"""Load test: 32 concurrent boto3 clients x 200 mixed requests against the gateway, with encryption
on and then the same gateway with --no-encryption, on loopback only. Bounded in time (each phase
stops at --seconds), checks every GET against what was written (no error, no lost object), and
prints requests/s and GB/s for both runs.

    python gateway/tests/load.py [--clients 32] [--requests 200] [--size 8388608] [--seconds 60]

The client is Python (boto3, one thread per client, under the GIL): at large object sizes it is
often the bottleneck rather than the gateway, so the on/off ratio is the number to read.
"""

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_gateway import Gateway  # noqa: E402


def run(extra, args):
    with tempfile.TemporaryDirectory() as tmp:
        g = Gateway(Path(tmp) / "data", extra)
        try:
            return drive(g, args)
        finally:
            g.stop()


def drive(g, args):
    setup = g.client()
    setup.create_bucket(Bucket="load")
    payloads = [os.urandom(args.size) for _ in range(4)]
    stop_at = time.time() + args.seconds
    stats = {"requests": 0, "bytes": 0, "errors": [], "lost": 0}
    lock = threading.Lock()

    def client(n):
        s3 = g.client(max_pool_connections=2)
        rng = random.Random(n)
        written = {}
        done = moved = 0
        try:
            for i in range(args.requests):
                if time.time() > stop_at:
                    break
                op = rng.random()
                key = f"c{n}/o{rng.randrange(8)}"
                if op < 0.45 or key not in written:
                    p = rng.randrange(len(payloads))
                    s3.put_object(Bucket="load", Key=key, Body=payloads[p])
                    written[key] = p
                    moved += args.size
                elif op < 0.9:
                    body = s3.get_object(Bucket="load", Key=key)["Body"].read()
                    if body != payloads[written[key]]:
                        with lock:
                            stats["lost"] += 1
                    moved += len(body)
                elif op < 0.95:
                    s3.head_object(Bucket="load", Key=key)
                else:
                    s3.get_object(Bucket="load", Key=key, Range="bytes=1000-70000")["Body"].read()
                done += 1
            for key, p in written.items():
                if s3.get_object(Bucket="load", Key=key)["Body"].read() != payloads[p]:
                    with lock:
                        stats["lost"] += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported
            with lock:
                stats["errors"].append(repr(e))
        with lock:
            stats["requests"] += done
            stats["bytes"] += moved

    start = time.time()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    stats["elapsed"] = elapsed
    return stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--size", type=int, default=8 * 1024 * 1024)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    print(f"cpu: {cpu_model()}; {os.cpu_count()} cores; {args.clients} clients x {args.requests} requests "
          f"of {args.size} bytes (45% PUT, 45% GET, 5% HEAD, 5% ranged GET), {args.seconds:.0f} s bound")
    rows = []
    for name, extra in [("encryption on", ()), ("encryption off", ("--no-encryption",))]:
        s = run(extra, args)
        rps = s["requests"] / s["elapsed"]
        gbs = s["bytes"] / s["elapsed"] / 1e9
        rows.append((name, s["requests"], s["elapsed"], rps, gbs, len(s["errors"]), s["lost"]))
        if s["errors"]:
            print(f"{name}: errors: {s['errors'][:3]}")
    print("| gateway | requests | seconds | requests/s | GB/s | errors | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.3f} | {r[5]} | {r[6]} |")
    if rows[1][4] > 0:
        print(f"encryption on / off throughput: {rows[0][4] / rows[1][4]:.3f}")
    sys.exit(1 if any(r[5] or r[6] for r in rows) else 0)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
