"""An S3-protocol server for the tests (moto's server mode, on a free port of this machine), and a fixture
that points the default storage at a fresh private bucket of it, the way production's settings do
(``eretraite.storage.s3_storage``): the code under test talks S3 over HTTP with boto3, as it would to AWS
or MinIO.

    from tests import s3

    s3_server, bucket = s3.s3_server, s3.bucket
"""

import uuid
from dataclasses import dataclass

import boto3
import pytest

from eretraite.storage import s3_storage

REGION = "us-east-1"
KEY, SECRET = "test-access-key", "test-secret-key"


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server in a thread of this test process; its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request in the tests' output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    name: str
    endpoint: str
    client: object

    def names(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def body(self, key) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def client_for(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )


@pytest.fixture
def bucket(s3_server, settings):
    """A new bucket, and the default storage on it for this test (local files stay the default otherwise)."""
    name = f"eretraite-{uuid.uuid4().hex[:12]}"
    client = client_for(s3_server)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=name,
            endpoint_url=s3_server,
            region=REGION,
            access_key=KEY,
            secret_key=SECRET,
            addressing_style="path",
        ),
    }
    return Bucket(name, s3_server, client)
