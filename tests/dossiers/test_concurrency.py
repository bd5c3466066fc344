"""Two certifiers at once produce one certification."""

import threading

import pytest
from django.db import connection

from dossiers import services
from dossiers.models import Certification, Dossier, Event

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_certifiers_at_once_certify_once(officers, affiliate, signed_pdf):
    manager, agent = officers
    deputy = type(agent).objects.create(username="CX000001", cin="CX000001", role="agent",
                                        collectivity=manager.collectivity, can_certify_dossiers=True,
                                        email="deputy@tanger.ma")
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    for code in ["application", "removal_decision", "cessation", "service_statement", "cin", "marriage", "rib"]:
        services.add_document(agent, dossier.pk, item_code=code, filename=f"{code}.pdf",
                              data=signed_pdf(cin="CD789012", text=code))
    services.submit(agent, dossier.pk)

    barrier = threading.Barrier(2)
    outcomes = []

    def certify(user):
        try:
            barrier.wait()
            services.certify(user, dossier.pk)
            outcomes.append("certified")
        except services.DossierError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=certify, args=(u,)) for u in (manager, deputy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["certified", "wrong_state"]
    assert Certification.objects.filter(dossier=dossier).count() == 1
    assert Event.objects.filter(dossier=dossier, action="certify").count() == 1
    assert Dossier.objects.get(pk=dossier.pk).state == "certified"
