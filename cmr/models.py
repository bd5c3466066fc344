"""Tables of the CMR gateway. The outbox (``Transmission``) joins them with the dossier workflow."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import rules


class CmrStage(models.TextChoices):
    """The back office's liquidation stages, as its callbacks report them (``cmr.rules.STAGES``)."""

    RECEIVED = rules.RECEIVED, _("Received by the CMR")
    UNDER_REVIEW = rules.UNDER_REVIEW, _("Under review")
    DOCUMENTS_REQUESTED = rules.DOCUMENTS_REQUESTED, _("Documents requested")
    LIQUIDATED = rules.LIQUIDATED, _("Liquidated")
    IN_PAYMENT = rules.IN_PAYMENT, _("In payment")
    REJECTED = rules.REJECTED, _("Rejected")


class CmrEvent(models.Model):
    """A stage event of the back office, recorded in the transaction that applied it.

    Its unique ``event_id`` makes callbacks idempotent: a replayed event finds its row and changes
    nothing. An event that was refused (unknown dossier, stage not allowed) is not recorded, so the
    back office may deliver it again once the portal can apply it.
    """

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    cmr_reference = models.CharField(_("CMR reference"), max_length=64, db_index=True)
    portal_dossier_id = models.CharField(_("portal dossier id"), max_length=64, db_index=True)
    stage = models.CharField(_("stage"), max_length=32, choices=CmrStage.choices)
    previous_stage = models.CharField(_("previous stage"), max_length=32, blank=True,
                                      choices=CmrStage.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)

    class Meta:
        verbose_name = _("CMR stage event")
        verbose_name_plural = _("CMR stage events")
        ordering = ["-applied_at"]

    def __str__(self):
        return f"{self.cmr_reference} → {self.stage} ({self.event_id})"
