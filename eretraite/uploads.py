"""Uploads stream to a temporary file, never whole into memory, and stop counting toward the disk at
the size limit: a file larger than ``UPLOAD_MAX_BYTES`` is dropped as it arrives and named in
``request.refused_uploads`` so that the page can say which file was too large. A request body over
``REQUEST_MAX_BYTES`` is refused before anything is read (``RequestSizeLimitMiddleware``); the proxy
in front sets the same limit (see docker-compose.yml)."""

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class LimitedUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            self.request.__dict__.setdefault("refused_uploads", []).append(self.file_name)
            self.file.close()
            raise SkipFile
        return super().receive_data_chunk(raw_data, start)


def refused_uploads(request) -> list[str]:
    """The names of the files of this request that were too large to be received."""
    request = getattr(request, "_request", request)  # a DRF request wraps Django's
    return list(request.__dict__.get("refused_uploads", []))


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            message = _("The files sent are too large together (at most %(mb)d MB at once). Send them in "
                        "several times.") % {"mb": settings.REQUEST_MAX_BYTES // (1024 * 1024)}
            if request.path.startswith("/api/"):
                from .api import refusal

                return JsonResponse(refusal("request_too_large", [message]), status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
