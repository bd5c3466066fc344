"""API representations of the registry. Thin: data only, no rules."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Affiliate, CorrectionRequest, FamilyMember, SalaryRecord, ServicePeriod


class CollectivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.CharField()
    name_fr = serializers.CharField()
    name_ar = serializers.CharField()


class AffiliateListSerializer(serializers.ModelSerializer):
    collectivity = CollectivitySerializer()

    class Meta:
        model = Affiliate
        fields = [
            "id",
            "affiliation_number",
            "ppr",
            "cin",
            "last_name_fr",
            "first_name_fr",
            "last_name_ar",
            "first_name_ar",
            "sex",
            "birth_date",
            "status",
            "collectivity",
        ]


def affiliate_summary(a) -> dict:
    """One search result, as ``AffiliateListSerializer`` documents it (built by hand: a search
    answers in a few milliseconds, and a ModelSerializer costs more than the query)."""
    c = a.collectivity
    return {
        "id": a.id,
        "affiliation_number": a.affiliation_number,
        "ppr": a.ppr,
        "cin": a.cin,
        "last_name_fr": a.last_name_fr,
        "first_name_fr": a.first_name_fr,
        "last_name_ar": a.last_name_ar,
        "first_name_ar": a.first_name_ar,
        "sex": a.sex,
        "birth_date": a.birth_date.isoformat(),
        "status": a.status,
        "collectivity": {
            "id": c.id,
            "code": c.code,
            "kind": c.kind,
            "name_fr": c.name_fr,
            "name_ar": c.name_ar,
        },
    }


class PeriodSerializer(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField()

    class Meta:
        model = ServicePeriod
        fields = ["start", "end", "kind", "counts"]

    def get_counts(self, obj) -> bool:
        from .rules import period_counts

        return period_counts(obj.kind)


class SalarySerializer(serializers.ModelSerializer):
    class Meta:
        model = SalaryRecord
        fields = ["start", "monthly_salary", "scale", "step"]


class FamilySerializer(serializers.ModelSerializer):
    class Meta:
        model = FamilyMember
        fields = ["relation", "full_name_fr", "full_name_ar", "sex", "birth_date", "event_date"]


class AffiliateDetailSerializer(AffiliateListSerializer):
    periods = PeriodSerializer(many=True)
    salaries = SalarySerializer(many=True)
    family = FamilySerializer(many=True)

    class Meta(AffiliateListSerializer.Meta):
        fields = AffiliateListSerializer.Meta.fields + [
            "recruitment_date",
            "tenure_date",
            "grade",
            "scale",
            "step",
            "research_professor",
            "age_limit_extended_until",
            "service_ended_on",
            "periods",
            "salaries",
            "family",
        ]


def ymd(value) -> dict:
    return value.as_dict()


def parameter(p) -> dict:
    return {
        "key": p.key,
        "value": str(p.value),
        "effective_from": p.effective_from,
        "source": str(p.source),
        "certainty": p.certainty,
        "note": str(p.note),
        "unverified": p.unverified,
    }


def convention(p) -> dict:
    """A counting convention (``rules.CONVENTIONS``): what it means, its source, whether verified."""
    return {
        "key": p.key,
        "value": str(p.value),
        "description": str(p.note),
        "effective_from": p.effective_from,
        "source": str(p.source),
        "certainty": p.certainty,
        "verified": not p.unverified,
    }


def eligibility_payload(s) -> dict:
    """The situation's computed part (``selectors.Situation``) as plain data."""
    e, limit, est = s.eligibility, s.age_limit, s.estimate_at_age_limit
    return {
        "on": s.on,
        "age_limit": {
            "years": limit.age_years,
            "months": limit.age_months,
            "reached_on": limit.reached_on,
            "extended_until": limit.extended_until,
            "retirement_on": limit.retirement_on,
            "parameter": parameter(limit.parameter),
        },
        "counting_stop": {
            "until": s.stop.until,
            "cause": s.stop.cause,
            "service_ended_on": s.stop.service_ended_on,
            "end_unknown": s.stop.end_unknown,
        },
        "effective_service": {
            "total": ymd(s.service.total),
            "not_counted": ymd(s.service.not_counted),
            "periods": [
                {
                    "start": line.start,
                    "end": line.end,
                    "kind": line.kind,
                    "counts": line.counts,
                    "length": ymd(line.length),
                    "counted": ymd(line.counted),
                    "cumulative": ymd(line.cumulative),
                    "counted_until": line.counted_until,
                    "reason": str(line.reason),
                }
                for line in s.service.lines
            ],
        },
        "article_4": {
            "eligible": e.eligible,
            "invalidity": e.invalidity,
            "required": ymd(e.required),
            "shortfall": ymd(e.shortfall),
            "threshold_reached_on": e.reached_on,
            "threshold_date_projected": e.reached_projected,
            "reasoning": list(e.reasoning),
            "parameter": parameter(e.parameter),
        },
        "estimate": {
            "is_estimate": True,
            "retirement_on": est.retirement_on,
            "gross_monthly": est.gross_monthly,
            "reference_salary": est.reference_salary,
            "reference_months": est.reference_months,
            "service_before_2017": ymd(est.service_before_2017),
            "service_from_2017": ymd(est.service_from_2017),
            "capped": est.capped,
            "minimum_applied": est.minimum_applied,
            "warnings": list(est.warnings),
            "parameters": [parameter(p) for p in est.parameters],
        },
        "conventions": [convention(p) for p in s.conventions],
    }


class CorrectionSerializer(serializers.ModelSerializer):
    affiliate = AffiliateListSerializer()
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField()

    class Meta:
        model = CorrectionRequest
        fields = [
            "id",
            "affiliate",
            "field",
            "record_id",
            "current_value",
            "proposed_value",
            "reason",
            "document_name",
            "document_sha256",
            "document_size",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]})
class ProposedValueField(serializers.Field):
    """The proposed value: text for a field of the affiliate; for a service period or a salary record,
    an object (or its JSON text)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            return data
        if isinstance(data, (str, int, float)) and not isinstance(data, bool):
            text = str(data)
            if len(text) > 200:
                raise serializers.ValidationError(_("At most %(n)d characters.") % {"n": 200})
            return text
        raise serializers.ValidationError(_("A text, or an object for a service period or a salary record."))

    def to_representation(self, value):
        return value


class CorrectionCreateSerializer(serializers.Serializer):
    affiliate = serializers.IntegerField()
    field = serializers.CharField(max_length=32, help_text=(
        "A field of the affiliate (last_name_fr, birth_date, sex, ...), or service_period, or salary."))
    record = serializers.IntegerField(required=False, allow_null=True, help_text=(
        "For service_period or salary: the id of the record to correct; absent for a missing one."))
    proposed_value = ProposedValueField(help_text=(
        "The correct value (dates as YYYY-MM-DD, sex M or F); for service_period an object {start, end, kind},"
        " for salary {start, monthly_salary, scale, step}."))
    reason = serializers.CharField(max_length=2000)
    document = serializers.FileField(required=False, help_text=(
        "The supporting PDF (required; 10 MB at most), signed electronically (PAdES) by an active officer "
        "of the affiliate's collectivity, as every document a collectivity uploads."))


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
