from csp.decorators import csp_update
from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView


def healthz(request):
    """Liveness and database check for the load balancer and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def favicon(request):
    """Browsers ask for /favicon.ico before reading the page's icon link: the same icon (static/favicon.svg)."""
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The API's reference page: Redoc from the project's static files; its web worker is a blob.
    path("api/docs/", csp_update({"worker-src": ["blob:"]})(
        TemplateView.as_view(template_name="api/docs.html")), name="api-docs"),
    path("cmr/", include("cmr.urls")),
    path("affiliates/", include("affiliates.urls")),
    path("privacy/", include("affiliates.privacy")),
    path("api/v1/", include("affiliates.api_urls")),
    path("api/v1/", include("dossiers.api_urls")),
    path("dossiers/", include("dossiers.urls")),
    path("help/", include("support.urls")),
    path("", include("accounts.urls")),
]

handler400 = "eretraite.error_pages.bad_request"
handler403 = "eretraite.error_pages.permission_denied"
handler404 = "eretraite.error_pages.page_not_found"
handler500 = "eretraite.error_pages.server_error"

# django-otp's own device admins would let a staff member give an account a second factor he knows:
# devices are enrolled by their holder only, and reset by the "reset" action (accounts.admin).
for _model in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    from django.apps import apps as _apps

    if admin.site.is_registered(_apps.get_model(_model)):
        admin.site.unregister(_apps.get_model(_model))

admin.site.site_header = "e-retraite — DGCT"
admin.site.site_title = "e-retraite"

# Stored documents are never served under MEDIA_URL, in any mode: only through the views that check
# the account's scope and capability (dossiers.views.document_file, slip; affiliates' proofs).
