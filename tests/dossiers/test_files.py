"""Stored files follow their transaction: a rollback after a replacement or a removal keeps the file
(and the document downloads as before), a failure after a file was written leaves no orphan, slips
are stored under names nobody can guess, and nothing is served under MEDIA_URL."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import IntegrityError, transaction
from django.urls import reverse

from dossiers import services
from dossiers.models import Certification, Document, Dossier
from eretraite.files import written_at_commit

from .conftest import BASIC, fill

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def open_(user, affiliate):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code="age_limit")


def stored(field_file) -> bool:
    return field_file.storage.exists(field_file.name)


def add(agent, dossier, signed_pdf, text, item="rib"):
    document, report = services.add_document(agent, dossier.pk, item_code=item, filename=f"{item}.pdf",
                                             data=signed_pdf(cin="CD789012", text=text))
    assert document is not None, report.detail
    return document


def test_a_rolled_back_replacement_keeps_the_file(client, officers, affiliate, signed_pdf):
    agent = officers[1]
    dossier = open_(agent, affiliate)
    first = add(agent, dossier, signed_pdf, "RIB v1")
    with pytest.raises(Rollback), transaction.atomic():
        add(agent, dossier, signed_pdf, "RIB v2")  # replaces v1...
        raise Rollback  # ...and the transaction is rolled back
    first = Document.objects.get(pk=first.pk)
    assert stored(first.file)
    client.force_login(agent)
    answer = client.get(reverse("dossiers:document", args=[dossier.pk, first.pk]))
    assert answer.status_code == 200 and b"".join(answer.streaming_content).startswith(b"%PDF")


def test_a_committed_replacement_deletes_the_old_file(officers, affiliate, signed_pdf):
    agent = officers[1]
    dossier = open_(agent, affiliate)
    first = add(agent, dossier, signed_pdf, "RIB v1")
    second = add(agent, dossier, signed_pdf, "RIB v2")
    assert not stored(first.file) and stored(second.file)


def test_a_rolled_back_removal_keeps_the_file(officers, affiliate, signed_pdf):
    agent = officers[1]
    dossier = open_(agent, affiliate)
    document = add(agent, dossier, signed_pdf, "RIB")
    with pytest.raises(Rollback), transaction.atomic():
        services.remove_document(agent, document.pk)
        raise Rollback
    assert Document.objects.filter(pk=document.pk).exists() and stored(document.file)
    services.remove_document(agent, document.pk)
    assert not stored(document.file)


def test_a_failed_upload_leaves_no_orphan_file(officers, affiliate, signed_pdf, monkeypatch, settings):
    agent = officers[1]
    dossier = open_(agent, affiliate)

    def broken(*args, **kwargs):
        raise RuntimeError("the timeline cannot be written")

    monkeypatch.setattr("dossiers.timeline.write_event", broken)
    with pytest.raises(RuntimeError):
        add(agent, dossier, signed_pdf, "RIB")
    assert not Document.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not list(media.rglob("*.pdf"))


def slip_files(settings) -> list:
    return sorted((settings.MEDIA_ROOT / "slips").rglob("*")) if (settings.MEDIA_ROOT / "slips").exists() else []


def test_a_failed_certification_leaves_no_slip_a_committed_one_exactly_its_own(
        officers, affiliate, signed_pdf, monkeypatch, settings):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC)
    services.submit(agent, dossier.pk)
    enqueue = services.enqueue_transmission

    def broken(*args, **kwargs):  # after the slip was made and its row saved naming it
        raise RuntimeError("the outbox cannot be written")

    monkeypatch.setattr("dossiers.services.enqueue_transmission", broken)
    with pytest.raises(RuntimeError):
        services.certify(manager, dossier.pk)
    assert Dossier.objects.get(pk=dossier.pk).state == "awaiting_certification"
    assert not Certification.objects.exists()
    assert [p for p in slip_files(settings) if p.is_file()] == []

    seen = []

    def watching(dossier, certification):  # in the transaction: the row names its slip, not yet written
        seen.append(certification.slip.storage.exists(certification.slip.name))
        return enqueue(dossier, certification)

    monkeypatch.setattr("dossiers.services.enqueue_transmission", watching)
    services.certify(manager, dossier.pk)
    certification = Certification.objects.get()
    assert seen == [False]  # written as the transaction's last act
    assert [p for p in slip_files(settings) if p.is_file()] == [settings.MEDIA_ROOT / certification.slip.name]
    assert certification.slip.read().startswith(b"%PDF")


def test_a_slip_that_cannot_be_written_refuses_the_certification(officers, affiliate, signed_pdf, monkeypatch,
                                                                  settings):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC)
    services.submit(agent, dossier.pk)
    save = FileSystemStorage.save

    def disk_full(storage, name, *args, **kwargs):
        if name.startswith("slips/"):
            raise OSError(28, "No space left on device")
        return save(storage, name, *args, **kwargs)

    monkeypatch.setattr(FileSystemStorage, "save", disk_full)
    with pytest.raises(OSError):
        services.certify(manager, dossier.pk)
    assert Dossier.objects.get(pk=dossier.pk).state == "awaiting_certification"
    assert not Certification.objects.exists() and not dossier.transmissions.exists()
    assert [p for p in slip_files(settings) if p.is_file()] == []


def test_a_commit_that_fails_removes_the_file_written_for_it(officers, affiliate, settings):
    """The slip is written just before the COMMIT; if the COMMIT itself fails (here a foreign key,
    checked at commit), the file goes with the rows."""
    dossier = open_(officers[1], affiliate)
    with pytest.raises(IntegrityError), written_at_commit() as files:
        certification = Certification(dossier=dossier, round=1, certified_by_id=2**31 - 1)  # no such user
        files.add(certification.slip, "slip.pdf", ContentFile(b"%PDF-1.7\n%%EOF\n"))
        certification.save()
    assert not Certification.objects.exists()
    assert [p for p in slip_files(settings) if p.is_file()] == []


def test_slips_have_unguessable_names_and_media_is_not_served(client, officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC)
    services.submit(agent, dossier.pk)
    services.certify(manager, dossier.pk)
    certification = Certification.objects.get()
    assert dossier.short_reference not in certification.slip.name and "bordereau" not in certification.slip.name
    client.force_login(manager)
    download = client.get(reverse("dossiers:slip", args=[dossier.pk, 1]))
    disposition = download["Content-Disposition"]
    assert download.status_code == 200 and f"bordereau-{dossier.short_reference}-1.pdf" in disposition
    assert disposition.startswith("attachment") and download["X-Content-Type-Options"] == "nosniff"
    from django.conf import settings

    document = Document.objects.first()
    for name in (certification.slip.name, document.file.name):
        assert client.get(f"/{settings.MEDIA_URL.strip('/')}/{name}").status_code == 404


def test_an_upload_over_the_limit_is_dropped_as_it_streams(client, officers, affiliate, settings):
    """Counted while it arrives, the file never reaches the verifier; the page names it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.UPLOAD_MAX_BYTES = 200_000
    agent = officers[1]
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    answer = client.post(reverse("dossiers:upload", args=[dossier.pk]),
                         {"item": "rib", "files": [SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 300_000)]},
                         HTTP_ACCEPT="application/json")
    assert answer.status_code == 400
    (result,) = answer.json()["results"]
    assert result == {"file": "big.pdf", "accepted": False, "code": "TOO_LARGE", "message": result["message"]}
    assert "200 dpi" in result["message"] or "résolution" in result["message"]
    assert not Document.objects.exists()


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(client, officers, affiliate, settings):
    settings.REQUEST_MAX_BYTES = 1000
    agent = officers[1]
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = client.post(reverse("dossiers:upload", args=[dossier.pk]),
                         {"item": "rib", "files": [SimpleUploadedFile("x.pdf", b"0" * 5000)]})
    assert answer.status_code == 413 and "Mo" in answer.content.decode()  # in the site's French
    assert not Document.objects.exists()
