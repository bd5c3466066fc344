"""Read back what ``signatures.rendering`` drew, with pyHanko's reader (the project has no text extractor).

Each text object (``BT ... ET``: one line of a cell) gives one line of text: its glyph codes mapped to Unicode
through the font's ToUnicode CMap. HarfBuzz draws a right-to-left run in visual order (its last letter
leftmost), so a line whose first letter is Arabic is read glyph by glyph from the end; a lam-alef ligature
maps to its two letters in logical order. Good enough for lines in one script, which is what tests compare.
"""

import io
import re
from dataclasses import dataclass

from pyhanko.pdf_utils.reader import PdfFileReader

from signatures.rendering import right_to_left

TOKEN = re.compile(rb"\((?:\\.|[^\\()])*\)|<[0-9A-Fa-f\s]*>|\[|\]|/?[^\s/\[\]()<>]+", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


@dataclass
class Font:
    name: str
    embedded: bool
    to_unicode: dict[int, str]


def _literal(token: bytes) -> bytes:
    def unescape(match):
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8) & 0xFF])
        return ESCAPES.get(escaped, escaped)
    return re.sub(rb"\\([0-7]{1,3}|.)", unescape, token[1:-1], flags=re.S)


def _cmap(data: bytes) -> dict[int, str]:
    """bfchar and bfrange entries of a ToUnicode CMap."""
    def text(hexa):
        return bytes.fromhex(hexa.decode()).decode("utf-16-be")
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        pairs = HEX.findall(block)
        for code, uni in zip(pairs[::2], pairs[1::2], strict=True):
            mapping[int(code, 16)] = text(uni)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in re.findall(rb"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            first = ord(text(start))
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping


def _reader(data: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(data), strict=False)


def pages(data: bytes) -> list:
    def walk(node):
        node = node.get_object()
        if node.get("/Type") == "/Pages":
            for kid in node["/Kids"]:
                yield from walk(kid)
        else:
            yield node
    return list(walk(_reader(data).root["/Pages"]))


def fonts(page) -> dict[str, Font]:
    found = {}
    resources = page["/Resources"]["/Font"]
    for key in resources:
        font = resources[key]
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor")
        embedded = descriptor is not None and any(
            key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))
        to_unicode = _cmap(font["/ToUnicode"].data) if "/ToUnicode" in font else {}
        found[key] = Font(str(font["/BaseFont"]), embedded, to_unicode)
    return found


def _contents(page) -> bytes:
    contents = page["/Contents"]
    if isinstance(contents, list):
        return b"\n".join(part.get_object().data for part in contents)
    return contents.data


def page_text_objects(page) -> list[list[tuple[float, str]]]:
    """The text objects of a page, in drawing order: each one's glyphs as (x where drawn, Unicode text)."""
    out = []
    page_fonts, font, glyphs, operands, x = fonts(page), None, None, [], 0.0
    for token in TOKEN.findall(_contents(page)):
        if token == b"BT":
            glyphs, x = [], 0.0
        elif token == b"ET" and glyphs is not None:
            if glyphs:
                out.append(glyphs)
            glyphs = None
        elif token in (b"Td", b"Tm") and len(operands) >= 2:
            x = float(operands[-2])
        elif token.startswith(b"/") and token.decode() in page_fonts:
            font = page_fonts[token.decode()]
        elif glyphs is not None and font and token[:1] in (b"(", b"<"):
            raw = _literal(token) if token[:1] == b"(" else bytes.fromhex(token[1:-1].decode())
            glyphs += [(x, font.to_unicode.get(int.from_bytes(raw[i:i + 2]), "\ufffd"))
                       for i in range(0, len(raw), 2)]
        operands = [*operands[-5:], token] if re.fullmatch(rb"-?[\d.]+", token) else []
    return out


def text_objects(data: bytes) -> list[list[tuple[float, str]]]:
    return [glyphs for page in pages(data) for glyphs in page_text_objects(page)]


def _line(glyphs) -> str:
    drawn = [text for _x, text in glyphs]
    return "".join(reversed(drawn)) if right_to_left("".join(drawn)) else "".join(drawn)


def page_lines(data: bytes) -> list[list[str]]:
    """Each page's lines (``lines``)."""
    return [[_line(glyphs) for glyphs in page_text_objects(page)] for page in pages(data)]


def lines(data: bytes) -> list[str]:
    """The text of every text object of every page, in drawing order; right-to-left lines in reading order."""
    return [_line(glyphs) for glyphs in text_objects(data)]
