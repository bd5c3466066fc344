"""The corpus (tests/signatures/corpus): every genuine file accepted, every attack refused, each with
the verdict and the report expected; the confusion table is printed at the end of the run."""

import pytest

from signatures.services import verify_pdf

from .corpus import cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pki_settings")]

RESULTS: dict[str, tuple] = {}  # name -> (class, genuine, accepted, code): read by conftest's summary


@pytest.mark.parametrize("name", [c.name for c in cases.CASES])
def test_corpus_file(pki, name):
    case = cases.by_name(name)
    sample = case.sample(pki)
    report = verify_pdf(sample.data, signer_must_be=sample.signer)
    RESULTS[name] = (sample.klass, sample.genuine, report.accepted, str(report.code))
    context = f"{name}: {report.code} {report.reason} {report.detail}"
    if sample.expect is None:
        assert not report.accepted, context
    else:
        assert report.code == sample.expect, context
    assert report.accepted == sample.genuine, context
    assert str(report.message)
    for index, level in (sample.pades or {}).items():
        assert report.signatures[index].pades_level == level, (context, index, report.signatures[index])
        assert report.signatures[index].timestamped
    if sample.intact is not None:
        assert all(s.intact == sample.intact for s in report.signatures), context
    if sample.reason is not None:
        assert report.reason == sample.reason, context
    listed = {c["kind"] for s in report.signatures for c in s.changes_after if c["permitted"]}
    refused = {c["kind"] for s in report.signatures for c in s.changes_after if not c["permitted"]}
    assert sample.changes <= listed, (context, listed)
    assert sample.refused <= refused, (context, refused)
    if sample.genuine:
        assert all(not s.modified_after_signing for s in report.signatures), context
