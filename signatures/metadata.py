"""What a PDF says of itself, read without trusting it: its title (the document information's
``/Title``, in its last revision), used to sort an uploaded file to its checklist line. Never raises:
a file that cannot be read has no title (the verifier says what is wrong with it)."""

import io
import logging

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

log = logging.getLogger(__name__)

MAX_TITLE = 500


def pdf_title(data: bytes) -> str:
    """The PDF's title, or "" when it has none or cannot be read."""
    try:
        reader = PdfFileReader(io.BytesIO(bytes(data)), strict=False)
        if reader.security_handler is not None or "/Info" not in reader.trailer:
            return ""
        info = reader.trailer["/Info"]
        title = info["/Title"] if isinstance(info, generic.DictionaryObject) and "/Title" in info else None
        if isinstance(title, generic.TextStringObject | generic.ByteStringObject):
            return str(title).strip()[:MAX_TITLE]
    except Exception:  # noqa: BLE001 - unreadable or hostile: no title
        log.debug("no title read", exc_info=True)
    return ""
