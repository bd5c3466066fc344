"""Whether something drawn after a signature covers what the signer saw ("sneaky signatures").

A later signature, comment or filled field may be legitimate, and still be placed over the signed
text: its appearance then shows something else where the signer read an amount. The verifier asks
this of the additions made after the signature of the person who must have signed, by rendering
the signed revision and the final one with PDFium (pypdfium2):

- an added signature or annotation whose rectangle holds text of the signed page, or overlaps an
  annotation (an earlier signature's stamp) that was visible when he signed, covers it;
- any addition that paints over the signed page's ink (what was dark is now light) hides it.

A comment placed on text (a note, a highlight) keeps the text visible: only hiding counts for
comments and filled fields.
"""

import ctypes
import logging

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .changes import Kind

logger = logging.getLogger(__name__)

SCALE = 1.0  # 72 dpi: enough to see a covered line of text, cheap on a scanned page
INK = 128  # grey level under which a pixel is ink
LIGHTER = 100  # by how much an ink pixel must lighten to count as hidden
MIN_HIDDEN = 12  # pixels; and at least HIDDEN_SHARE of the ink under the rectangle
HIDDEN_SHARE = 0.05
TEXT_KINDS = {Kind.SIGNATURE_ADDED, Kind.DOCUMENT_TIMESTAMP, Kind.ANNOTATION_CHANGED}


def covering(data: bytes, signed_end: int, additions, old_annotations) -> list[str]:
    """What the visible ``additions`` (``Change`` objects with page and rect) made after the revision
    ending at ``signed_end`` cover; ``old_annotations`` maps a page to the rectangles of the
    annotations visible in that revision. Empty when nothing is covered."""
    additions = [a for a in additions if a.rect is not None and a.page is not None]
    if not additions:
        return []
    problems = []
    old_doc = new_doc = None
    try:
        old_doc, new_doc = pdfium.PdfDocument(data[:signed_end]), pdfium.PdfDocument(data)
        for doc in (old_doc, new_doc):
            doc.init_forms()  # without a form environment PDFium draws no field widget
        by_page = {}
        for change in additions:
            by_page.setdefault(change.page, []).append(change)
        for index, changes in sorted(by_page.items()):
            if index >= len(old_doc) or index >= len(new_doc):
                continue
            problems += _page_problems(old_doc[index], new_doc[index], changes, old_annotations.get(index, []))
    except Exception as exc:  # noqa: BLE001 - cannot render: cannot show that nothing is covered
        logger.info("Overlay check failed: %r", exc)
        return [f"the pages could not be rendered to check what later additions cover ({exc})"]
    finally:
        for doc in (old_doc, new_doc):
            if doc is not None:
                doc.close()
    return problems


def _page_problems(old_page, new_page, changes, old_rects) -> list[str]:
    problems = []
    textpage = old_page.get_textpage()
    try:
        for change in changes:
            if change.kind in TEXT_KINDS:
                x1, y1, x2, y2 = change.rect
                text = textpage.get_text_bounded(left=x1, bottom=y1, right=x2, top=y2)
                if text and text.strip():
                    problems.append(f"{change.where} is drawn over the signed text “{_short(text)}”")
                    continue
                if any(_overlap(change.rect, r) for r in old_rects):
                    problems.append(f"{change.where} is drawn over an annotation visible when signed")
                    continue
            hidden = _hidden_ink(old_page, new_page, change.rect)
            if hidden:
                problems.append(f"{change.where} hides {hidden} dots of the signed page")
    finally:
        textpage.close()
    return problems


def _short(text) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _render(page, rect):
    """The page's pixels under ``rect`` (grey levels), as rows of bytes."""
    crop = (0, 0, 0, 0)
    if page.get_rotation() == 0:  # render only the rectangle: cheap even on a scanned page
        left, bottom, right, top = page.get_cropbox()
        x1, y1 = max(rect[0], left), max(rect[1], bottom)
        x2, y2 = min(rect[2], right), min(rect[3], top)
        if x2 <= x1 or y2 <= y1:
            return []
        crop = (x1 - left, y1 - bottom, right - x2, top - y2)
    bitmap = page.render(scale=SCALE, crop=crop, grayscale=True, draw_annots=True, may_draw_forms=True)
    try:
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        pixels = bytes(bitmap.buffer)
    finally:
        bitmap.close()
    if crop != (0, 0, 0, 0) or page.get_rotation() == 0:
        return [pixels[row * stride:row * stride + width] for row in range(height)]
    (dx1, dy1), (dx2, dy2) = (_to_device(page, width, height, x, y) for x, y in
                              ((rect[0], rect[1]), (rect[2], rect[3])))
    left, right = max(0, min(dx1, dx2)), min(width, max(dx1, dx2) + 1)
    top, bottom = max(0, min(dy1, dy2)), min(height, max(dy1, dy2) + 1)
    return [pixels[row * stride + left:row * stride + right] for row in range(top, bottom)]


def _hidden_ink(old_page, new_page, rect) -> int:
    old_rows, new_rows = _render(old_page, rect), _render(new_page, rect)
    if [len(r) for r in old_rows] != [len(r) for r in new_rows]:
        return 0  # a changed page size is a page change, reported by the difference analysis
    ink = hidden = 0
    for old_row, new_row in zip(old_rows, new_rows, strict=True):
        for before, after in zip(old_row, new_row, strict=True):
            if before < INK:
                ink += 1
                if after - before > LIGHTER:
                    hidden += 1
    return hidden if hidden >= MIN_HIDDEN and hidden >= HIDDEN_SHARE * ink else 0


def _to_device(page, width, height, x, y):
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, ctypes.c_double(x), ctypes.c_double(y),
                               ctypes.byref(device_x), ctypes.byref(device_y))
    return device_x.value, device_y.value
