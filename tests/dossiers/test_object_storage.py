"""Documents and issued PDFs in S3-compatible object storage (AWS_STORAGE_BUCKET_NAME): the same pages and
services as on the local disk, against a real S3-protocol server (moto's server mode, tests/s3.py). An
upload lands in the private bucket and is streamed back byte for byte by the scoped view only; files
follow their transaction there too; the transmittal slip is stored, served and sent from the bucket."""

import base64
import hashlib
import urllib.error
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from cmr.models import Transmission
from cmr.sender import build_delivery
from dossiers import services
from dossiers.models import Certification, Document, Dossier, PendingCertification
from eretraite.files import written_at_commit
from tests import s3
from tests.factories import ManagerFactory, other_commune

from .conftest import BASIC, fill

s3_server, bucket = s3.s3_server, s3.bucket  # the fixtures: moto's S3 server, a fresh bucket for each test

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def open_(user, affiliate):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code="age_limit")


def add(agent, dossier, signed_pdf, text, item="rib"):
    document, report = services.add_document(
        agent, dossier.pk, item_code=item, filename=f"{item}.pdf", data=signed_pdf(cin="CD789012", text=text)
    )
    assert document is not None, report.detail
    return document


def streamed(answer) -> bytes:
    assert answer.status_code == 200, answer.status_code
    return b"".join(answer.streaming_content)


def test_an_upload_lands_in_the_bucket_and_the_scoped_view_streams_it_back(
    client, officers, affiliate, signed_pdf, bucket, settings
):
    agent = officers[1]
    dossier = open_(agent, affiliate)
    data = signed_pdf(cin="CD789012", text="RIB de Mme Alaoui")
    client.force_login(agent)
    answer = client.post(
        reverse("dossiers:upload", args=[dossier.pk]),
        {"item": "rib", "files": [SimpleUploadedFile("RIB Alaoui.pdf", data, "application/pdf")]},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 200 and answer.json()["results"][0]["accepted"], answer.content
    document = Document.objects.get()
    assert bucket.names() == [document.file.name]
    assert document.file.name.startswith(f"dossiers/{dossier.reference}/") and "Alaoui" not in document.file.name
    assert bucket.body(document.file.name) == data
    assert not (settings.MEDIA_ROOT.exists() and any(settings.MEDIA_ROOT.rglob("*.pdf")))  # nothing on the disk

    download = client.get(reverse("dossiers:document", args=[dossier.pk, document.pk]))
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert streamed(download) == data
    # Another collectivity's officer: the same 404 as for a dossier that does not exist.
    client.force_login(ManagerFactory(collectivity=other_commune()))
    assert client.get(reverse("dossiers:document", args=[dossier.pk, document.pk])).status_code == 404


def test_the_bucket_is_private_its_objects_checksummed(officers, affiliate, signed_pdf, bucket):
    agent = officers[1]
    document = add(agent, open_(agent, affiliate), signed_pdf, "RIB")
    key = document.file.name
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner alone, no public grant
    assert all(g["Grantee"].get("URI") is None for g in grants)
    # No address without a signature: a url() is signed and expires in a minute; the bare one answers 403.
    url = default_storage.url(key)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{bucket.endpoint}/{bucket.name}/{key}", timeout=10)  # noqa: S310
    assert refused.value.code == 403
    # The server checked the upload against its SHA-256 and keeps it: the same digest as the document's.
    head = bucket.client.head_object(Bucket=bucket.name, Key=key, ChecksumMode="ENABLED")
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == document.sha256
    assert head["ContentType"] == "application/pdf"


def test_files_follow_their_transaction_in_the_bucket(client, officers, affiliate, signed_pdf, bucket, monkeypatch):
    agent = officers[1]
    dossier = open_(agent, affiliate)
    # An upload whose transaction fails after its file was written leaves no object behind.
    with monkeypatch.context() as patched:
        patched.setattr("dossiers.timeline.write_event", _broken)
        with pytest.raises(RuntimeError):
            add(agent, dossier, signed_pdf, "RIB v0")
    assert not Document.objects.exists() and bucket.names() == []

    first = add(agent, dossier, signed_pdf, "RIB v1")
    # A replacement rolled back: the first file is still there and still served.
    with pytest.raises(Rollback), transaction.atomic():
        add(agent, dossier, signed_pdf, "RIB v2")
        raise Rollback
    assert first.file.name in bucket.names() and list(Document.objects.all()) == [first]
    client.force_login(agent)
    assert streamed(client.get(reverse("dossiers:document", args=[dossier.pk, first.pk]))).startswith(b"%PDF")
    # A committed replacement deletes the replaced object once committed.
    second = add(agent, dossier, signed_pdf, "RIB v3")
    assert second.file.name in bucket.names() and first.file.name not in bucket.names()
    # A removal rolled back keeps the object; committed, the object goes.
    with pytest.raises(Rollback), transaction.atomic():
        services.remove_document(agent, second.pk)
        raise Rollback
    assert second.file.name in bucket.names()
    services.remove_document(agent, second.pk)
    assert second.file.name not in bucket.names() and not Document.objects.exists()


def _broken(*args, **kwargs):
    raise RuntimeError("the timeline cannot be written")


def test_a_failed_certification_or_commit_leaves_no_slip_in_the_bucket(
    officers, affiliate, signed_pdf, bucket, monkeypatch
):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC)
    services.submit(agent, dossier.pk)
    documents = bucket.names()
    assert len(documents) == len(BASIC)

    def broken(*args, **kwargs):  # after the slip was made and its row saved naming it
        raise RuntimeError("the outbox cannot be written")

    with monkeypatch.context() as patched:
        patched.setattr("dossiers.services.enqueue_transmission", broken)
        with pytest.raises(RuntimeError):
            services.certify(manager, dossier.pk)
    assert Dossier.objects.get(pk=dossier.pk).state == "awaiting_certification"
    assert bucket.names() == documents
    # The COMMIT itself fails (a foreign key checked at commit): the slip written just before goes too.
    with pytest.raises(IntegrityError), written_at_commit() as files:
        certification = Certification(dossier=dossier, round=1, certified_by_id=2**31 - 1)  # no such user
        files.add(certification.slip, "slip.pdf", ContentFile(b"%PDF-1.7\n%%EOF\n"))
        certification.save()
    assert not Certification.objects.exists() and bucket.names() == documents


def test_the_transmittal_slip_is_stored_served_and_sent_from_the_bucket(
    client, officers, affiliate, signed_pdf, bucket
):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC)
    services.submit(agent, dossier.pk)
    services.certify(manager, dossier.pk)
    certification = Certification.objects.get()
    slip = bucket.body(certification.slip.name)
    assert certification.slip.name.startswith("slips/") and slip.startswith(b"%PDF")
    assert hashlib.sha256(slip).hexdigest() == certification.slip_sha256
    client.force_login(manager)
    download = client.get(reverse("dossiers:slip", args=[dossier.pk, 1]))
    assert f"bordereau-{dossier.short_reference}-1.pdf" in download["Content-Disposition"]
    assert streamed(download) == slip
    # What the outbox sends the CMR is read from the bucket: the documents and the slip, as stored.
    _manifest, pdfs = build_delivery(Transmission.objects.get(dossier=dossier))
    stored = {d.file.name: bucket.body(d.file.name) for d in dossier.documents.all()}
    assert sorted(data for _name, data in pdfs) == sorted([*stored.values(), slip])


def test_the_slip_to_sign_is_stored_and_served_from_the_bucket(
    client, officers, affiliate, signed_pdf, pki, bucket, settings
):
    settings.CERTIFICATION_SIGNED_BY_TOKEN = True
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC)
    services.submit(agent, dossier.pk)
    pending = services.slip_to_sign(manager, dossier.pk)
    issued = bucket.body(pending.slip.name)
    assert pending.slip.name.startswith("slips/pending/") and issued.startswith(b"%PDF")
    client.force_login(manager)
    assert streamed(client.get(reverse("dossiers:pending_slip", args=[dossier.pk]))) == issued
    signed = pki.sign(issued, "AB123456")
    certified, report = services.certify_signed(manager, dossier.pk, signed)
    assert certified is not None, report.detail
    certification = Certification.objects.get()
    assert not PendingCertification.objects.exists()
    assert pending.slip.name not in bucket.names() and certification.slip.name in bucket.names()  # replaced on commit
    assert bucket.body(certification.slip.name).startswith(signed)  # sealed over his signature


def test_a_document_missing_from_the_bucket_is_a_404_not_a_crash(client, officers, affiliate, signed_pdf, bucket):
    agent = officers[1]
    dossier = open_(agent, affiliate)
    document = add(agent, dossier, signed_pdf, "RIB")
    bucket.client.delete_object(Bucket=bucket.name, Key=document.file.name)
    client.force_login(agent)
    assert client.get(reverse("dossiers:document", args=[dossier.pk, document.pk])).status_code == 404
