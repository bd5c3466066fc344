"""Tables of the CMR gateway. The outbox (``Transmission``) joins them with the dossier workflow."""

import re

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format, time_format
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
        return f"{self.cmr_reference} → {self.get_stage_display()}"


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

    class Kind(models.TextChoices):
        DELIVERY = "delivery", _("certified dossier")
        COMMAND = "command", _("stage command")

    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.CASCADE, related_name="transmissions",
                                verbose_name=_("dossier"))
    # A delivery carries a certified round; a command, a CMR agent's stage act in the portal, which the
    # back office applies and confirms (its answer, its callback) before the portal's state changes.
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DELIVERY)
    stage = models.CharField(_("stage"), max_length=32, blank=True, choices=CmrStage.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    requested_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("requested by"))
    event_id = models.CharField(_("confirming event"), max_length=100, blank=True)
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
        constraints = [models.UniqueConstraint(fields=["dossier", "round"], name="one_transmission_per_round",
                                               condition=models.Q(kind="delivery"))]
        # The rows still to send, only: the claim's index stays small however many were delivered.
        indexes = [models.Index(fields=["next_attempt_at"], name="cmr_transmission_open",
                                condition=models.Q(status__in=["pending", "sending"]))]

    def __str__(self):  # an identifier and the status in the reader's language (the admin's headings)
        return f"{self.idempotency_key} · {self.get_status_display()}"

    def plain_status(self) -> str:
        """Where this sending stands, in plain words for the collectivity (the dossier page, the portfolio)."""
        when = timezone.localtime
        if self.status == self.Status.DELIVERED:
            if self.kind == self.Kind.COMMAND:
                return _("confirmed by the CMR")
            return _("delivered to the CMR on %(date)s") % {
                "date": date_format(when(self.delivered_at), "DATETIME_FORMAT") if self.delivered_at else ""}
        if self.status == self.Status.FAILED:
            return _("failed: the CMR could not be reached or refused it; the CMR and the DGCT have been told and "
                     "will send it again")
        if self.attempts and self.last_error:
            return _("CMR unreachable, next attempt at %(time)s") % {
                "time": time_format(when(self.next_attempt_at), "TIME_FORMAT")}
        return _("being sent to the CMR")

    @property
    def plain_error(self) -> str:
        """What the last failure means, in the reader's language; the technical text stays in
        ``last_error`` (shown apart, for the support)."""
        return plain_error(self.last_error)

    @property
    def in_trouble(self) -> bool:
        return self.status == self.Status.FAILED or bool(self.attempts and self.last_error
                                                          and self.status != self.Status.DELIVERED)


_HTTP_STATUS = re.compile(r": HTTP (\d{3})")


def plain_error(error: str) -> str:
    """A failure recorded by ``cmr.client`` (``"POST /dossiers: HTTP 503"``, ``"...: connection
    failed (...)"``) said plainly."""
    if not error:
        return ""
    if ": connection failed" in error:
        return str(_("the CMR's server could not be reached (no connection)"))
    if ": timed out" in error:
        return str(_("the CMR's server did not answer in time"))
    status = _HTTP_STATUS.search(error)
    if status and status.group(1).startswith("5"):
        return str(_("the CMR's server failed (error %(code)s); it will be tried again") % {"code": status.group(1)})
    if status and status.group(1).startswith("4"):
        return str(_("the CMR's server refused the sending (error %(code)s)") % {"code": status.group(1)})
    if "no outcome was recorded" in error:
        return str(_("no answer was recorded after the last attempt"))
    return str(_("the CMR's server gave an answer the portal could not read"))


class StageConflict(models.Model):
    """A stage report of the back office that the portal could not apply: the two records disagree.

    Kept (the event itself is not recorded, so the back office's retries and the reconciliation can
    still apply it), shown to CMR staff and the DGCT with both sides' stages, and closed when the
    event is applied at last or the reconciliation finds both sides at the same stage.
    """

    dossier = models.ForeignKey("dossiers.Dossier", on_delete=models.CASCADE, related_name="stage_conflicts",
                                verbose_name=_("dossier"))
    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    cmr_reference = models.CharField(_("CMR reference"), max_length=64)
    cmr_stage = models.CharField(_("the CMR's stage"), max_length=32, choices=CmrStage.choices)
    cmr_previous_stage = models.CharField(_("the CMR's previous stage"), max_length=32, blank=True,
                                          choices=CmrStage.choices)
    portal_state = models.CharField(_("the portal's state"), max_length=32)
    details = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.TextField(_("why it was refused"), blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    times = models.PositiveIntegerField(_("reports"), default=1)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("stage conflict with the CMR")
        verbose_name_plural = _("stage conflicts with the CMR")
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["dossier"], name="cmr_conflict_open",
                                condition=models.Q(resolved_at__isnull=True))]

    def __str__(self):
        return f"{self.cmr_reference} · {self.get_cmr_stage_display()}"

    @property
    def portal_state_label(self):
        """The portal's state, named as the dossier page names it (the workflow's states bear the CMR's
        stage names, and the portal's own: draft, certified, transmitted...)."""
        field = self.dossier._meta.get_field("state")
        return dict(field.flatchoices).get(self.portal_state, self.portal_state)
