"""REST API of the dossiers, through the same services and selectors as the pages.

Refusals: a DossierError answers 400 with its reasons, PermissionDenied 403, out of scope 404.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.permissions import Capability
from accounts.selectors import on_behalf_of
from eretraite.api import JSONBodyParser, refusal
from eretraite.paging import IdsFirstPaginator
from eretraite.uploads import refused_uploads
from signatures.services import MESSAGES, Code

from . import selectors, services, transitions
from .errors import DossierError
from .serializers import (
    DocumentSerializer,
    DocumentUploadSerializer,
    DossierDetailSerializer,
    DossierSummarySerializer,
    OpenDossierSerializer,
    ReasonSerializer,
    SignedSlipSerializer,
)

PAGE_SIZE = 50

Refusal = inline_serializer("Refusal", {"code": drf.CharField(), "detail": drf.CharField(),
                                       "reasons": drf.ListField(child=drf.CharField())})


def _refusal(exc: DossierError):
    return Response(refusal(exc.code, exc.reasons), status=status.HTTP_400_BAD_REQUEST)


def _call(fn, *args, **kw):
    try:
        return fn(*args, **kw), None
    except DossierError as exc:
        return None, _refusal(exc)
    except PermissionDenied as exc:
        raise ApiPermissionDenied(str(exc) or None) from None


class DossierViewSet(viewsets.ViewSet):
    lookup_value_regex = "[0-9]+"
    # Reads need the right to see dossiers (a sub-account with no dossier right gets 404); each act
    # is then checked by its service.
    required_capabilities = {"*": Capability.SEE_DOSSIERS}
    hides = True
    parser_classes = [JSONBodyParser, MultiPartParser, FormParser]

    def _detail(self, request, pk, code=status.HTTP_200_OK, dossier=None):
        dossier = dossier or selectors.get_dossier(request.user, pk)
        dossier.checklist = selectors.checklist(dossier)
        dossier.timeline = list(dossier.events.all())
        dossier.next_step = transitions.next_step(request.user, dossier, lines=dossier.checklist)
        return Response(DossierDetailSerializer(dossier).data, status=code)

    @extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("kind", str),
                               OpenApiParameter("page", int)],
                   responses=DossierSummarySerializer(many=True))
    def list(self, request):
        qs = selectors.filtered_dossiers(request.user, state=request.query_params.get("status", ""),
                                         kind=request.query_params.get("kind", ""))
        page = IdsFirstPaginator(qs, PAGE_SIZE).get_page(request.query_params.get("page"))
        page.object_list = list(page.object_list)
        services.record_list(request, page, {"status": request.query_params.get("status", ""),
                                             "kind": request.query_params.get("kind", "")})
        return Response({"count": page.paginator.count, "page": page.number, "pages": page.paginator.num_pages,
                         "results": DossierSummarySerializer(page.object_list, many=True).data})

    @extend_schema(responses=DossierDetailSerializer)
    def retrieve(self, request, pk=None):
        dossier = selectors.get_dossier(request.user, pk)
        services.record_view(request, dossier)
        return self._detail(request, pk, dossier=dossier)

    @extend_schema(request=OpenDossierSerializer, responses={201: DossierDetailSerializer, 400: Refusal})
    def create(self, request):
        body = OpenDossierSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        dossier, refused = _call(services.open_dossier, request.user, affiliate_id=d["affiliate"], kind_code=d["kind"],
                                 parent_id=d.get("parent"), on_behalf_of=on_behalf_of(request.user, request.session))
        return refused or self._detail(request, dossier.pk, status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": DocumentUploadSerializer},
                   responses={201: DocumentSerializer, 400: Refusal})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        selectors.get_dossier(request.user, pk)  # 404 before anything is said of the upload
        request.data  # noqa: B018 - parse the body now: a file too large is dropped while it streams
        too_large = refused_uploads(request)
        if too_large:
            return Response({**refusal(Code.TOO_LARGE, [MESSAGES[Code.TOO_LARGE]]), "files": too_large},
                            status=status.HTTP_400_BAD_REQUEST)
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        result, refused = _call(services.add_document, request.user, pk, item_code=d["item"], data=d["file"].read(),
                                filename=d["file"].name, member_id=d.get("member"),
                                on_behalf_of=on_behalf_of(request.user, request.session))
        if refused:
            return refused
        document, report = result
        if document is None:
            return Response({**refusal(report.code, [report.message]), "report": report.as_dict()},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: DossierDetailSerializer, 400: Refusal})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _d, refused = _call(services.submit, request.user, pk, reason=body.validated_data.get("reason", ""),
                            on_behalf_of=on_behalf_of(request.user, request.session))
        return refused or self._detail(request, pk)

    @extend_schema(request=None, responses={200: DossierDetailSerializer, 400: Refusal})
    @action(detail=True, methods=["post"])
    def certify(self, request, pk=None):
        _d, refused = _call(services.certify, request.user, pk,
                            on_behalf_of=on_behalf_of(request.user, request.session))
        return refused or self._detail(request, pk)

    @extend_schema(request=None, responses={(200, "application/pdf"): OpenApiTypes.BINARY, 400: Refusal},
                   description="CERTIFICATION_SIGNED_BY_TOKEN: the transmittal slip of this sending, unsigned, "
                               "for the certifier to sign with his token (then certify-signed).")
    @action(detail=True, methods=["post"], url_path="slip-to-sign")
    def slip_to_sign(self, request, pk=None):
        pending, refused = _call(services.slip_to_sign, request.user, pk,
                                 on_behalf_of=on_behalf_of(request.user, request.session))
        if refused:
            return refused
        with pending.slip.open("rb") as handle:
            response = HttpResponse(handle.read(), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="bordereau-{pending.round}-a-signer.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(request={"multipart/form-data": SignedSlipSerializer},
                   responses={200: DossierDetailSerializer, 400: Refusal})
    @action(detail=True, methods=["post"], url_path="certify-signed", parser_classes=[MultiPartParser, FormParser])
    def certify_signed(self, request, pk=None):
        selectors.get_dossier(request.user, pk)
        request.data  # noqa: B018 - parse the body now: a file too large is dropped while it streams
        if refused_uploads(request):
            return Response(refusal(Code.TOO_LARGE, [MESSAGES[Code.TOO_LARGE]]), status=status.HTTP_400_BAD_REQUEST)
        body = SignedSlipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result, refused = _call(services.certify_signed, request.user, pk, body.validated_data["file"].read(),
                                on_behalf_of=on_behalf_of(request.user, request.session))
        if refused:
            return refused
        dossier, report = result
        if dossier is None:
            return Response({**refusal(report.code, [report.message]), "report": report.as_dict()},
                            status=status.HTTP_400_BAD_REQUEST)
        return self._detail(request, pk)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("dossiers", DossierViewSet, basename="dossier")
