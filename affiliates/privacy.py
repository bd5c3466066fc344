"""The privacy officer's pages (law 09-08): the trail of who saw which personal data, filtered by
period, account, person and action, exported to XLSX; and one person's report: who saw his record,
and when. Reading the trail is itself in the trail. Thin: accounts.reads answers."""

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import audit_actions
from accounts.permissions import Capability, requires
from accounts.reads import record_read, trail, trail_workbook

from . import selectors

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TrailFilter(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.CharField(label=_("Account"), required=False, max_length=100)
    person = forms.CharField(label=_("Person (affiliation number, PPR or CIN)"), required=False, max_length=40)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=())
    reads_only = forms.BooleanField(label=_("Reads of personal data only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = sorted(audit_actions.LABELS.items(), key=lambda item: str(item[1]))
        self.fields["action"].choices = [("", _("every action")), *labels]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end of the period is before its start."))
        return data


def _filtered(request):
    form = TrailFilter(request.GET or None)
    person, events = None, None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        if data.get("person"):
            person = selectors.person_for_privacy_report(request.user, data["person"])
            if person is None:
                form.add_error("person", _("No affiliate has this number."))
        if not form.errors:
            events = trail(since=data.get("since"), until=data.get("until"), account=data.get("account", ""),
                           affiliate_id=person.pk if person else None, action=data.get("action", ""),
                           reads_only=data.get("reads_only", False))
    return form, person, events


def _filters(form):
    return {k: str(v) for k, v in (getattr(form, "cleaned_data", None) or {}).items() if v not in (None, "", False)}


@requires(Capability.AUDIT_READS)
def trail_page(request):
    form, person, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page")) if events is not None else None
    if page is not None:
        page.object_list = list(page.object_list)  # what is shown: before this reading is added to it
        record_read(request, "audit.viewed", affiliates=[person.pk] if person else [], data={"filters": _filters(form)})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "affiliates/privacy_trail.html", {
        "form": form, "page": page, "person": person, "query": query.urlencode()})


@requires(Capability.AUDIT_READS)
def trail_export(request):
    form, person, events = _filtered(request)
    if events is None:
        return render(request, "affiliates/privacy_trail.html", {"form": form, "page": None, "person": person,
                                                                 "query": ""}, status=400)
    record_read(request, "audit.exported", affiliates=[person.pk] if person else [], data={"filters": _filters(form)})
    return _workbook(events, f"audit-{timezone.localdate():%Y%m%d}.xlsx")


def _workbook(events, filename):
    response = HttpResponse(trail_workbook(events), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@requires(Capability.AUDIT_READS)
def person_report(request, pk):
    from django.http import Http404

    person = selectors.person_for_privacy_report(request.user, pk=pk)
    if person is None:
        raise Http404
    events = trail(affiliate_id=person.pk).exclude(action__in=("audit.viewed", "audit.exported"))
    if request.GET.get("format") == "xlsx":
        record_read(request, "audit.exported", affiliates=[person.pk], data={"report": person.pk})
        return _workbook(events, f"acces-{person.affiliation_number}.xlsx")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    record_read(request, "audit.viewed", affiliates=[person.pk], data={"report": person.pk})
    return render(request, "affiliates/privacy_person.html", {"person": person, "page": page})


app_name = "privacy"
urlpatterns = [
    path("", trail_page, name="trail"),
    path("export.xlsx", trail_export, name="export"),
    path("people/<int:pk>/", person_report, name="person"),
]
