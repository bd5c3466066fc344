"""The help page's short guide for each role: what its accounts do on the platform, in order. Each step
may name the circular's addresses (``%(dgct_email)s``, ``%(signature_portal)s``), filled in by the page."""

from django.utils.translation import gettext_lazy as _

from accounts.models import User

Role = User.Role

SIGN = _("Sign each PDF with your class-3 electronic signature token before uploading it; a token is "
         "ordered on %(signature_portal)s.")

GUIDES = [
    (Role.MANAGER, [
        _("The DGCT sends your designation to the CMR; you then receive an e-mail with a link to choose your "
          "password (the designation form is sent to the DGCT at %(dgct_email)s)."),
        _("On the Team page, create the accounts of the agents who prepare dossiers and choose what each may do."),
        _("Find an employee in Affiliates by affiliation number, payroll number or CIN: his situation shows his "
          "career, his eligibility and his dossiers."),
        SIGN,
        _("Certify a complete dossier: only then is it sent to the CMR. Its page then shows each liquidation "
          "stage and any document the CMR asks for."),
    ]),
    (Role.AGENT, [
        _("Your manager created your account and chose what you may do: ask him for a right you lack."),
        _("Find an employee in Affiliates by affiliation number, payroll number or CIN: his situation shows his "
          "career, his eligibility and his dossiers."),
        _("Open the dossier from the affiliate's situation, upload each document of its checklist, then submit "
          "it for certification."),
        SIGN,
    ]),
    (Role.PROVINCIAL_OFFICE, [
        _("Choose the commune you act for before anything else: each act is recorded on its behalf."),
        _("Officers of communes without internet copy and sign their documents in your office, then upload them "
          "from there (circular D-6266)."),
        _("A commune may delegate a dossier to you: check it, complete it if needed and return it with your "
          "observations. Certification stays with the commune."),
    ]),
    (Role.CMR_AGENT, [
        _("Your Queue lists the dossiers that reached the CMR, those to process first, by waiting time."),
        _("Each stage you take (review, documents requested, liquidation, payment, rejection) is sent to the back "
          "office; the dossier moves when the back office confirms it."),
        _("Answer the registry's correction requests on the Corrections page and the collectivities' questions "
          "on the Support requests page."),
    ]),
    (Role.DGCT_ADMIN, [
        _("In the Administration: the collectivities, the import of the designation spreadsheet of HR officers "
          "and its export for the CMR, the audit log."),
        _("Follow the transmissions to the CMR on the Transmissions page and send the failed ones again."),
        _("Answer the collectivities' questions on the Support requests page."),
    ]),
]
