"""The manifest is built once, at certification, stored with it, and that stored manifest is what is
sent: for a first round and for a supplement, byte for byte on every attempt, with the files it names.
Against a recording back office (the request exactly as it left) and the REAL mock back office."""

import email.parser
import email.policy
import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cmr import outbox, rules, sender, stages
from cmr.models import Transmission
from dossiers import services as dossier_services
from dossiers.models import Certification, Dossier
from tests.cmr.test_outbox import certified  # noqa: F401
from tests.cmr_mock import RecordingServer
from tests.dossiers.conftest import affiliate, fill, officers  # noqa: F401
from tests.factories import CmrAgentFactory
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def back_office(settings):
    """A recording back office answering each delivery with a new CMR reference."""
    server = RecordingServer(default=(201, {"reference": "CMR-2026-0000001"}, "application/json"))
    settings.CMR_BASE_URL = server.url
    yield server
    server.stop()


def delivery(recorded) -> tuple[bytes, dict, dict[str, bytes]]:
    """A recorded POST /dossiers: its manifest part (raw), that manifest, and its files by name."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {recorded.headers['Content-Type']}\r\n\r\n".encode() + recorded.body)
    raw, files = None, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == rules.MANIFEST_FIELD:
            raw = part.get_payload(decode=True)
        else:
            files[part.get_filename()] = part.get_payload(decode=True)
    return raw, json.loads(raw), files


def sent(dossier, round_=1) -> dict:
    return Certification.objects.get(dossier=dossier, round=round_).manifest[outbox.SENT]


def ask_again(dossier, reference, items=("rib",)):
    """The back office reports received, under review, then a request for documents: round 2 opens."""
    for n, (stage, details) in enumerate([
            (rules.RECEIVED, {}), (rules.UNDER_REVIEW, {}),
            (rules.DOCUMENTS_REQUESTED, {rules.REQUESTED_DOCUMENTS: [{"code": code} for code in items],
                                         rules.REQUEST_TEXT: "RIB illisible"})]):
        stages.receive_stage_event(rules.StageEvent(
            event_id=f"evt-{dossier.pk}-{n}-{stage}", cmr_reference=reference,
            portal_dossier_id=str(dossier.reference), stage=stage, occurred_at=timezone.now(), details=details))
    dossier.refresh_from_db()
    assert dossier.state == "documents_requested" and dossier.round == 2


def certify_supplement(dossier, officers, signed_pdf, capture):  # noqa: F811
    manager, agent = officers
    fill(agent, dossier, signed_pdf, ["rib"])
    dossier_services.submit(agent, dossier.pk)
    with capture(execute=True):  # the on-commit send (eager)
        dossier_services.certify(manager, dossier.pk)


def test_the_stored_manifest_is_what_the_back_office_receives_first_round_and_supplement(
        certified, back_office, officers, signed_pdf, django_capture_on_commit_callbacks):  # noqa: F811
    dossier = certified()
    (first,) = back_office.requests
    raw, received, files = delivery(first)
    assert received == sent(dossier)  # what was certified, as it was certified
    assert first.headers["Idempotency-Key"] == f"{dossier.reference}:1"
    assert [d["name"] for d in received["documents"]] == list(files)  # the files it names, in its order
    assert received["documents"][-1]["code"] == "transmittal_slip" and "supplement_to" not in received
    for document in received["documents"]:
        content = files[document["name"]]
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (document["sha256"], document["size"])
    assert dossier.state == "transmitted" and dossier.cmr_reference == "CMR-2026-0000001"

    # a replay under the same key (a worker died after the answer): the very same bytes
    Transmission.objects.update(status="pending", next_attempt_at=timezone.now())
    assert sender.send_transmission(Transmission.objects.get().pk) == sender.SENT
    assert delivery(back_office.requests[1])[0] == raw

    ask_again(dossier, "CMR-2026-0000001")
    back_office.default = (201, {"reference": "CMR-2026-0000002"}, "application/json")
    certify_supplement(dossier, officers, signed_pdf, django_capture_on_commit_callbacks)
    supplement = back_office.requests[2]
    _raw, received, files = delivery(supplement)
    assert supplement.headers["Idempotency-Key"] == f"{dossier.reference}:2"
    assert received == sent(dossier, 2)
    assert received["supplement_to"] == "CMR-2026-0000001" and received["round"] == 2
    assert [d["code"] for d in received["documents"]] == ["rib", "transmittal_slip"]
    assert all(hashlib.sha256(files[d["name"]]).hexdigest() == d["sha256"] for d in received["documents"])
    assert Transmission.objects.get(round=2).status == "delivered"


def test_a_supplement_certified_before_the_first_reference_is_known_waits_then_carries_it(
        certified, back_office, officers, signed_pdf, django_capture_on_commit_callbacks):  # noqa: F811
    dossier = certified()
    ask_again(dossier, "CMR-2026-0000001")
    # as if the portal had not learnt the first round's reference (the only way a supplement can lack it)
    Dossier.objects.filter(pk=dossier.pk).update(cmr_reference="")
    Transmission.objects.filter(round=1).update(cmr_reference="")
    certify_supplement(dossier, officers, signed_pdf, django_capture_on_commit_callbacks)
    stored = sent(dossier, 2)
    assert "supplement_to" not in stored and len(back_office.requests) == 1  # not sent: not ready
    waiting = Transmission.objects.get(round=2)
    assert waiting.status == "pending" and waiting.attempts == 0 and "no CMR reference" in waiting.last_error

    Dossier.objects.filter(pk=dossier.pk).update(cmr_reference="CMR-2026-0000001")
    Transmission.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    back_office.default = (201, {"reference": "CMR-2026-0000002"}, "application/json")
    assert sender.send_transmission(waiting.pk) == sender.SENT
    _raw, received, _files = delivery(back_office.requests[1])
    assert received == {**stored, "supplement_to": "CMR-2026-0000001"}  # the stored manifest, completed once
    assert Certification.objects.get(dossier=dossier, round=2).manifest[outbox.SENT] == stored


def test_the_real_back_office_keeps_what_was_certified(
        certified, cmr_mock, settings, officers, signed_pdf, django_capture_on_commit_callbacks):  # noqa: F811
    settings.CMR_BASE_URL = cmr_mock.base_url
    dossier = certified()
    agent = CmrAgentFactory()
    for name, kw in (("review", {}), ("request_documents", {"reason": "RIB illisible"})):
        with django_capture_on_commit_callbacks(execute=True):  # a command, confirmed by the back office
            dossier_services.take_action(agent, dossier.pk, name, **kw)
    certify_supplement(Dossier.objects.get(pk=dossier.pk), officers, signed_pdf, django_capture_on_commit_callbacks)
    for round_ in (1, 2):
        manifest = sent(dossier, round_)
        reference = Transmission.objects.get(dossier=dossier, round=round_, kind="delivery").cmr_reference
        kept = cmr_mock.get(f"/dossiers/{reference}").json()
        assert {key: kept[key] for key in ("portal_dossier_id", "kind", "collectivity_code", "affiliate")} == {
            key: manifest[key] for key in ("portal_dossier_id", "kind", "collectivity_code", "affiliate")}
        assert kept["supplement_to"] == manifest.get("supplement_to")
        assert kept["documents"] == sorted(manifest["documents"], key=lambda d: d["name"])
    assert sent(dossier, 2)["supplement_to"] == Dossier.objects.get(pk=dossier.pk).cmr_reference
    assert cmr_mock.stats()["duplicate_deliveries"] == 0
