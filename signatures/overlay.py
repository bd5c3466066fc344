"""Whether something drawn after a signature covers what the signer saw ("sneaky signatures").

A later signature, comment or filled field may be legitimate, and still be placed over the signed
text: its appearance then shows something else where the signer read an amount. The verifier asks
this of the additions made after the signature of the person who must have signed, by rendering
the signed revision and the final one with PDFium (pypdfium2):

- an added signature or annotation whose rectangle holds text of the signed page, or overlaps an
  annotation (an earlier signature's stamp) that was visible when he signed, covers it;
- any addition that takes away the contrast of what the signer saw (text turned white, black on
  black, grey on grey, a digit whited out and redrawn) hides it. For a filled field or a signed
  placeholder, what it covered is the page itself (its own former appearance, an empty box now
  ticked, does not count); for anything else, the page with the annotations it had.

A comment placed on text (a note, a highlight) keeps the text visible: only hiding counts for
comments and filled fields. Only the rectangles are rendered, one page of one revision at a time,
and the signed revision is read in place: a 20 MB scan is decoded once at a time, never copied.
"""

import ctypes
import io
import logging

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .changes import Kind

logger = logging.getLogger(__name__)

SCALE = 2.0  # 144 dpi: one digit of 10-point text is some 40 dots
INK = 128  # grey level under which a pixel is ink...
PAPER = 170  # ...and over which it is background
TILE = 12  # dots: contrast is judged tile by tile, about the size of a character
MIN_INK = 6  # ink and background dots a tile needs for its contrast to mean something
MIN_CONTRAST = 80  # background minus ink, in grey levels, for a tile to count as readable...
LOST_CONTRAST = 40  # ...and under which it no longer is
LIGHTER = 100  # an ink dot lightened by this much is whited out
TEXT_KINDS = {Kind.SIGNATURE_ADDED, Kind.DOCUMENT_TIMESTAMP, Kind.ANNOTATION_CHANGED}
OWN_PLACE_KINDS = {Kind.FORM_FILLED}  # drawn where the field itself was: judged against the page alone


def covering(data: bytes, signed_end: int, additions, old_annotations) -> list[str]:
    """What the visible ``additions`` (``Change`` objects with page and rect) made after the revision
    ending at ``signed_end`` cover; ``old_annotations`` maps a page to the (key, rectangle) of the
    annotations visible in that revision. Empty when nothing is covered."""
    by_page = {}
    for change in additions:
        if change.rect is not None and change.page is not None:
            by_page.setdefault(change.page, []).append(change)
    problems = []
    try:
        for index, changes in sorted(by_page.items()):
            problems += _page_problems(data, signed_end, index, changes, old_annotations.get(index, []))
    except Exception as exc:  # noqa: BLE001 - cannot render: cannot show that nothing is covered
        logger.info("Overlay check failed: %r", exc)
        return [f"the pages could not be rendered to check what later additions cover ({exc})"]
    return problems


def _page_problems(data, signed_end, index, changes, old_rects) -> list[str]:
    problems, pending = [], []
    with _Page(data, signed_end, index) as old_page:
        if old_page is None:
            return []
        textpage = old_page.get_textpage()
        try:
            for change in changes:
                if change.kind in TEXT_KINDS:
                    x1, y1, x2, y2 = change.rect
                    text = textpage.get_text_bounded(left=x1, bottom=y1, right=x2, top=y2)
                    if text and text.strip():
                        problems.append(f"{change.where} is drawn over the signed text “{_short(text)}”")
                        continue
                    # An empty signature field signed in place draws over its own placeholder only.
                    if any(_overlap(change.rect, r) for key, r in old_rects if r and key != change.widget):
                        problems.append(f"{change.where} is drawn over an annotation visible when signed")
                        continue
                pending.append(change)
        finally:
            textpage.close()
        before = [_render(old_page, change.rect, annotations=not (change.kind in OWN_PLACE_KINDS
                                                                 or change.widget is not None))
                  for change in pending]
    # Where the signer saw nothing (the usual place of a later stamp), nothing can be hidden: the final
    # revision need not even be opened.
    inked = [(change, rows) for change, rows in zip(pending, before, strict=True) if _has_ink(rows)]
    if not inked:
        return problems
    pending, before = [c for c, _ in inked], [r for _, r in inked]
    with _Page(data, len(data), index) as new_page:
        if new_page is None:
            return problems
        for change, old_rows in zip(pending, before, strict=True):
            hidden = _hidden_ink(old_rows, _render(new_page, change.rect))
            if hidden:
                problems.append(f"{change.where} hides what was drawn under it ({hidden} areas)")
    return problems


class _Window(io.RawIOBase):
    """The first ``end`` bytes of ``data`` as a file PDFium reads from, without a copy."""

    def __init__(self, data: bytes, end: int):
        super().__init__()
        self.view, self.end, self.position = memoryview(data)[:end], end, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.end}[whence]
        self.position = max(0, min(self.end, base + offset))
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        chunk = self.view[self.position:self.position + len(buffer)]
        buffer[:len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


class _Page:
    """One page of the revision ending at ``end``, open for a ``with`` block (PDFium keeps a page's
    decoded images while it is open)."""

    def __init__(self, data, end, index):
        self.data, self.end, self.index = data, end, index
        self.doc = self.page = None

    def __enter__(self):
        self.doc = pdfium.PdfDocument(_Window(self.data, self.end))
        self.doc.init_forms()  # without a form environment PDFium draws no field widget
        self.page = self.doc[self.index] if self.index < len(self.doc) else None
        return self.page

    def __exit__(self, *exc):
        if self.page is not None:
            self.page.close()
        self.doc.close()


def _short(text) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _render(page, rect, annotations=True):
    """The page's pixels under ``rect`` (grey levels), as rows of bytes; with ``annotations`` False,
    what the page itself draws."""
    rotated = page.get_rotation() != 0
    crop = (0, 0, 0, 0)
    if not rotated:  # render only the rectangle: cheap even on a scanned page
        left, bottom, right, top = page.get_cropbox()
        x1, y1 = max(rect[0], left), max(rect[1], bottom)
        x2, y2 = min(rect[2], right), min(rect[3], top)
        if x2 <= x1 or y2 <= y1:
            return []
        crop = (x1 - left, y1 - bottom, right - x2, top - y2)
    bitmap = page.render(scale=SCALE, crop=crop, grayscale=True, draw_annots=annotations,
                         may_draw_forms=annotations, limit_image_cache=True)
    try:
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        pixels = bytes(bitmap.buffer)
    finally:
        bitmap.close()
    if not rotated:
        return [pixels[row * stride:row * stride + width] for row in range(height)]
    (dx1, dy1), (dx2, dy2) = (_to_device(page, width, height, x, y) for x, y in
                              ((rect[0], rect[1]), (rect[2], rect[3])))
    left, right = max(0, min(dx1, dx2)), min(width, max(dx1, dx2) + 1)
    top, bottom = max(0, min(dy1, dy2)), min(height, max(dy1, dy2) + 1)
    return [pixels[row * stride + left:row * stride + right] for row in range(top, bottom)]


_INK_DOTS = bytes(1 if value < INK else 0 for value in range(256))
_PAPER_DOTS = bytes(1 if value > PAPER else 0 for value in range(256))


def _has_ink(rows) -> bool:
    return any(row.translate(_INK_DOTS).count(1) for row in rows)


def _hidden_ink(old_rows, new_rows) -> int:
    """How many tiles of the rectangle that were readable (ink on background) no longer read the same:
    the ink and its background now alike, whatever the colour they were made, or a third of the ink
    whited out, or a third of the background inked (a digit redrawn over another)."""
    if [len(r) for r in old_rows] != [len(r) for r in new_rows]:
        return 0  # a changed page size is a page change, reported by the difference analysis
    if old_rows == new_rows or not _has_ink(old_rows):
        return 0  # nothing drawn over, or nothing was there to cover (the usual case, kept cheap)
    height = len(old_rows)
    width = len(old_rows[0]) if height else 0
    lost = 0
    for top in range(0, height, TILE):
        bottom = min(top + TILE, height)
        for left in range(0, width, TILE):
            right = min(left + TILE, width)
            tiles = [old_rows[row][left:right] for row in range(top, bottom)]
            if sum(t.translate(_INK_DOTS).count(1) for t in tiles) < MIN_INK or \
                    sum(t.translate(_PAPER_DOTS).count(1) for t in tiles) < MIN_INK:
                continue  # nothing readable here: a blank, a solid or a photographic area
            if all(old_rows[row][left:right] == new_rows[row][left:right] for row in range(top, bottom)):
                continue
            lost += _tile_lost(old_rows, new_rows, top, bottom, left, right)
    return lost


def _tile_lost(old_rows, new_rows, top, bottom, left, right) -> int:
    ink_before = ink_after = paper_before = paper_after = ink = paper = lightened = darkened = 0
    for row in range(top, bottom):
        old_row, new_row = old_rows[row], new_rows[row]
        for column in range(left, right):
            before, after = old_row[column], new_row[column]
            if before < INK:
                ink += 1
                ink_before += before
                ink_after += after
                lightened += after - before > LIGHTER
            elif before > PAPER:
                paper += 1
                paper_before += before
                paper_after += after
                darkened += after < INK
    readable = paper_before / paper - ink_before / ink >= MIN_CONTRAST
    # its contrast gone, its strokes whited out, or other strokes drawn in among them
    return int(readable and (paper_after / paper - ink_after / ink < LOST_CONTRAST or lightened >= 0.3 * ink
                             or darkened >= 0.3 * paper))


def _to_device(page, width, height, x, y):
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, ctypes.c_double(x), ctypes.c_double(y),
                               ctypes.byref(device_x), ctypes.byref(device_y))
    return device_x.value, device_y.value
