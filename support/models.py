"""Support requests: an officer writes to the support from the help page (about the page he was on,
and the dossier if he came from one); the CMR's and the DGCT's staff answer; he reads the answer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SUBJECT_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 4000  # an officer's text, as everywhere: refused whole beyond it, never cut
PAGE_MAX_LENGTH = 500


class SupportRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("asked by"))
    # The asker's collectivity when he wrote (his colleagues see the request too); none for the CMR or the DGCT.
    collectivity = models.ForeignKey("accounts.Collectivity", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("collectivity"))
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    message = models.TextField(_("message"), max_length=TEXT_MAX_LENGTH)
    # The page of this site it was written from: a path ("/dossiers/12/"), never another site's address.
    page = models.CharField(_("page"), max_length=PAGE_MAX_LENGTH, blank=True)
    dossier = models.ForeignKey("dossiers.Dossier", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("dossier"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN,
                              db_index=True)
    answer = models.TextField(_("answer"), max_length=TEXT_MAX_LENGTH, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("answered by"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(page="") | (Q(page__startswith="/") & ~Q(page__startswith="//")),
                name="support_page_is_a_local_path"),
            models.CheckConstraint(
                condition=~Q(status="answered") | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="support_answered_has_an_answer"),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="support_closed_has_a_date"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject[:60]} ({self.status})"
