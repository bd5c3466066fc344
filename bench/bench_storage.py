"""Stored files: a 5 MB PDF written and read back through Django's storage API, on the local disk and
in an S3 bucket (moto's S3 server on loopback, the one the tests use: the S3 protocol's cost over HTTP,
not a provider's network), with the production settings of ``eretraite.storage.s3_storage`` (private,
SHA-256 checked by the server).

Prints p50 and p95 of the write, the read and the whole round trip for each, and the ratio.
Run: ``python -m bench storage`` (no database needed).
"""

import os
import statistics
import tempfile
import time
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils.module_loading import import_string

ROUNDS = 20
SIZE = 5 * 1024 * 1024


def _percentile(values, p):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def _round_trips(storage, payload):
    writes, reads = [], []
    for i in range(ROUNDS + 2):
        name = f"bench/{uuid.uuid4().hex}.pdf"
        started = time.perf_counter()
        saved = storage.save(name, ContentFile(payload))
        written = time.perf_counter()
        with storage.open(saved, "rb") as handle:
            assert handle.read() == payload
        read = time.perf_counter()
        storage.delete(saved)
        if i >= 2:  # after a warm-up (connections, buckets)
            writes.append((written - started) * 1000)
            reads.append((read - written) * 1000)
    trips = [w + r for w, r in zip(writes, reads, strict=True)]
    return {name: {"p50_ms": round(_percentile(v, 50), 1), "p95_ms": round(_percentile(v, 95), 1),
                   "mean_ms": round(statistics.mean(v), 1)}
            for name, v in (("write", writes), ("read", reads), ("round_trip", trips))}


def run():
    import boto3
    from moto.server import ThreadedMotoServer

    from eretraite.storage import s3_storage

    payload = b"%PDF-1.7\n" + os.urandom(SIZE - 9)
    with tempfile.TemporaryDirectory() as root:
        disk = _round_trips(FileSystemStorage(location=root), payload)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint, bucket = f"http://{host}:{port}", f"bench-{uuid.uuid4().hex[:8]}"
        keys = {"access_key": "bench", "secret_key": "bench-secret"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=keys["access_key"],
                     aws_secret_access_key=keys["secret_key"]).create_bucket(Bucket=bucket)
        config = s3_storage(bucket=bucket, endpoint_url=endpoint, region="us-east-1", addressing_style="path", **keys)
        storage = import_string(config["BACKEND"])(**config.get("OPTIONS", {}))
        s3 = _round_trips(storage, payload)
    finally:
        server.stop()
    figures = {"file_bytes": SIZE, "rounds": ROUNDS, "load_average": os.getloadavg()}
    for where, found in (("disk", disk), ("s3", s3)):
        for step, v in found.items():
            figures[f"{where}_{step}"] = f"p50 {v['p50_ms']} p95 {v['p95_ms']} ms"
    ratio = s3["round_trip"]["p50_ms"] / max(disk["round_trip"]["p50_ms"], 0.01)
    figures["s3_over_disk_round_trip_p50"] = round(ratio, 1)
    figures["detail"] = {"disk": disk, "s3": s3}
    return figures
