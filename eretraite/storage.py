"""Where stored files live: the local disk by default, S3-compatible object storage (django-storages) when
a bucket is named (``AWS_STORAGE_BUCKET_NAME``). Either way every read and write goes through Django's
storage API (``FieldFile.open``, ``storage.open``, ``storage.save``, ``storage.delete``): no code asks a
file for its ``.path``, and nothing is served from the bucket directly. The portal's scoped views stream
each file from storage (``eretraite.files.download``); the bucket stays private.

Pure settings logic (no Django import): ``eretraite/settings.py`` and the tests build the same backend.
"""


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    location: str = "",
    acl: str = "private",
    checksum: str = "SHA256",
    encryption: str = "",
    addressing_style: str = "",
    access_key: str = "",
    secret_key: str = "",
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    max_memory_bytes: int = 2 * 1024 * 1024,
) -> dict:
    """The ``STORAGES["default"]`` entry of a private S3 bucket:

    - objects written with a private ACL (``acl=""`` sends none, for buckets whose ACLs are disabled);
    - ``url()`` only ever gives a signed address valid one minute (nothing links to the bucket: the views
      stream files), never a public one;
    - a name already taken is never overwritten (as on the disk: ``eretraite.files`` relies on it);
    - ``checksum``: the algorithm the server verifies each upload with and keeps (``""``: none asked);
    - ``encryption``: server-side encryption (``AES256``, ``aws:kms``), when the service offers it;
    - a file read is held in memory up to ``max_memory_bytes``, on the local disk beyond;
    - the connection times out and retries a few times (a slow store fails the request, not the worker).
    """
    object_parameters = {}
    if checksum:
        object_parameters["ChecksumAlgorithm"] = checksum
    if encryption:
        object_parameters["ServerSideEncryption"] = encryption
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "location": location,
        "default_acl": acl or None,
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        "object_parameters": object_parameters,
        "max_memory_size": max_memory_bytes,
        "client_config": _client_config(connect_timeout, read_timeout, addressing_style),
    }
    if access_key:  # otherwise boto3's own chain: AWS_ACCESS_KEY_ID..., an instance role
        options["access_key"], options["secret_key"] = access_key, secret_key
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def _client_config(connect_timeout, read_timeout, addressing_style):
    """botocore's configuration (it carries the addressing style: ``path`` for MinIO and most self-hosted
    services, ``virtual`` for AWS)."""
    from botocore.config import Config

    s3 = {"addressing_style": addressing_style} if addressing_style else None
    return Config(
        signature_version="s3v4",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": 3, "mode": "standard"},
        s3=s3,
    )
