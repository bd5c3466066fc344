"""Tables of the CMR gateway. The outbox (``Transmission``) joins them with the dossier workflow."""

from django.db import models
from django.utils import timezone
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


class Transmission(models.Model):
    """The outbox: one certified round of one dossier to deliver to the back office, exactly once.

    Written in the certification's transaction; sent by a Celery task queued on commit, and by the
    periodic ``send_due_transmissions`` for any that are due or stuck. The idempotency key
    (``<dossier reference>:<round>``) makes a resend safe: the back office answers a replay with the
    first answer.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.CASCADE, related_name="transmissions",
                                verbose_name=_("dossier"))
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    cmr_reference = models.CharField(_("CMR reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transmission to the CMR")
        verbose_name_plural = _("transmissions to the CMR")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["dossier", "round"], name="one_transmission_per_round")]
        # The rows still to send, only: the claim's index stays small however many were delivered.
        indexes = [models.Index(fields=["next_attempt_at"], name="cmr_transmission_open",
                                condition=models.Q(status__in=["pending", "sending"]))]

    def __str__(self):
        return f"{self.idempotency_key} ({self.status})"
