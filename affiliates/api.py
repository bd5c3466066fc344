"""REST API of the registry, through the same selectors and services as the pages."""

from datetime import date

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.permissions import Capability
from eretraite.api import JSONBodyParser
from eretraite.network import client_ip

from . import rules, selectors, services
from .serializers import (
    AffiliateDetailSerializer,
    AffiliateListSerializer,
    CorrectionCreateSerializer,
    CorrectionSerializer,
    DecisionSerializer,
    affiliate_summary,
    eligibility_payload,
)


def _page_url(request, number):
    if number is None:
        return None
    query = request.query_params.copy()
    query["page"] = number
    return request.build_absolute_uri(request.path) + "?" + query.urlencode()


class AffiliateViewSet(viewsets.ViewSet):
    """Search the registry, read an affiliate, check his rights. Only the account's scope."""

    lookup_value_regex = "[0-9]+"
    required_capabilities = {"*": Capability.CONSULT_AFFILIATES}

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True), OpenApiParameter("page", int)],
        responses=AffiliateListSerializer(many=True),
    )
    def list(self, request):
        result = selectors.search_affiliates(
            request.user,
            request.query_params.get("q", ""),
            page=request.query_params.get("page") or 1,
        )
        if result.error:
            raise ValidationError({"q": [result.error]})
        page = result.page
        services.record_search(request, request.query_params.get("q", ""), result)
        return Response(
            {
                "count": page.paginator.count,
                "truncated": result.truncated,
                "next": _page_url(request, page.next_page_number() if page.has_next() else None),
                "previous": _page_url(
                    request, page.previous_page_number() if page.has_previous() else None
                ),
                "results": [affiliate_summary(a) for a in page.object_list],
            }
        )

    @extend_schema(responses=AffiliateDetailSerializer)
    def retrieve(self, request, pk=None):
        affiliate = selectors.get_affiliate(request.user, pk)
        services.record_consultation(request, affiliate)
        return Response(AffiliateDetailSerializer(affiliate).data)

    @extend_schema(
        parameters=[OpenApiParameter("on", date), OpenApiParameter("invalidity", bool)],
        responses=dict,
    )
    @action(detail=True, methods=["get"])
    def eligibility(self, request, pk=None):
        try:
            on = rules.assessment_date(request.query_params.get("on"))
        except rules.InvalidAssessmentDate as refusal:
            raise ValidationError({"on": [str(refusal)]}) from None
        invalidity = request.query_params.get("invalidity") in ("1", "true", "yes")
        affiliate = selectors.get_affiliate(request.user, pk)
        services.record_consultation(request, affiliate)
        payload = eligibility_payload(selectors.situation(affiliate, on=on, invalidity=invalidity))
        return Response({"affiliate": affiliate.pk, **payload})


class CorrectionViewSet(viewsets.ViewSet):
    """Correction requests: officers propose, CMR agents accept or refuse; both read the same."""

    lookup_value_regex = "[0-9]+"

    parser_classes = [MultiPartParser, FormParser, JSONBodyParser]

    @extend_schema(
        parameters=[OpenApiParameter("status", str)], responses=CorrectionSerializer(many=True)
    )
    def list(self, request):
        wanted = request.query_params.get("status") or None
        qs = selectors.correction_queue(request.user, status=wanted)
        from rest_framework.pagination import PageNumberPagination

        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        services.record_corrections_listed(request, page, data={"status": wanted or ""})
        return paginator.get_paginated_response(CorrectionSerializer(page, many=True).data)

    @extend_schema(responses=CorrectionSerializer)
    def retrieve(self, request, pk=None):
        item = selectors.get_correction(request.user, pk)
        services.record_correction_viewed(request, item)
        return Response(CorrectionSerializer(item).data)

    @extend_schema(request=CorrectionCreateSerializer, responses=CorrectionSerializer)
    def create(self, request):
        data = CorrectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            correction = services.request_correction(
                request.user,
                d["affiliate"],
                field=d["field"],
                record=d.get("record"),
                proposed_value=d["proposed_value"],
                reason=d["reason"],
                document=d.get("document"),
                ip=client_ip(request),
            )
        except services.CorrectionError as exc:
            raise ValidationError({k: [str(v)] for k, v in exc.errors.items()}) from None
        return Response(CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses=CorrectionSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            correction = services.accept_correction(
                request.user, pk, note=body.validated_data.get("reason", ""), ip=client_ip(request)
            )
        except services.CorrectionError as exc:
            raise ValidationError({k: [str(v)] for k, v in exc.errors.items()}) from None
        return Response(CorrectionSerializer(correction).data)

    @extend_schema(request=DecisionSerializer, responses=CorrectionSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            correction = services.refuse_correction(
                request.user, pk, reason=body.validated_data.get("reason", ""), ip=client_ip(request)
            )
        except services.CorrectionError as exc:
            raise ValidationError({k: [str(v)] for k, v in exc.errors.items()}) from None
        return Response(CorrectionSerializer(correction).data)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("affiliates", AffiliateViewSet, basename="affiliate")
router.register("correction-requests", CorrectionViewSet, basename="correction-request")
