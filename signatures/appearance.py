"""What a form field's appearance shows, as text: enough to tell whether the value it stores is the
value it draws (a "shadow" form stores one amount and draws another, and waits for a viewer to be
told to redraw every field from its value).

The appearance stream is read as a reader would: text-showing operators with the font set by
``Tf``, each string decoded through the font's /ToUnicode map when it has one (Identity-H fonts, as
used for Arabic, hold glyph numbers, not characters), else as single bytes.
"""

import re
import unicodedata

from pyhanko.pdf_utils import generic, misc

_DELIMITERS = b"()<>[]{}/%"
_WHITESPACE = b" \t\r\n\f\x00"
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
_ARABIC = re.compile(r"[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")
MAX_TOKENS = 200_000


def _get(dictionary, key):
    try:
        value = dictionary.raw_get(key)
    except (KeyError, AttributeError):
        return None
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _literal(data: bytes, start: int) -> tuple[bytes, int]:
    """A literal string from ``data[start] == '('``: its bytes and the index after it."""
    out, depth, i = bytearray(), 1, start + 1
    while i < len(data):
        c = data[i]
        if c == 0x5C and i + 1 < len(data):  # backslash
            n = data[i + 1]
            if n in _ESCAPES:
                out += _ESCAPES[n]
                i += 2
            elif 0x30 <= n <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4]).group()
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
            elif n in b"\r\n":
                i += 3 if data[i + 1:i + 3] == b"\r\n" else 2
            else:
                out.append(n)
                i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1
    return bytes(out), i


def _tokens(data: bytes):
    """(kind, value) tokens of a content stream: 'str', 'name', 'num', 'op', '[' and ']'."""
    i, count = 0, 0
    while i < len(data):
        count += 1
        if count > MAX_TOKENS:
            return
        c = data[i]
        if c in _WHITESPACE:
            i += 1
        elif c == 0x25:  # comment
            end = data.find(b"\n", i)
            i = len(data) if end < 0 else end
        elif c == 0x28:
            value, i = _literal(data, i)
            yield "str", value
        elif c == 0x3C and data[i:i + 2] != b"<<":
            end = data.find(b">", i)
            end = len(data) if end < 0 else end
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", data[i + 1:end])
            yield "str", bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
            i = end + 1
        elif c in b"[]":
            yield chr(c), None
            i += 1
        elif c == 0x2F:
            match = re.match(rb"/[^\s()<>\[\]{}/%]*", data[i:])
            yield "name", match.group()
            i += len(match.group())
        elif data[i:i + 2] in (b"<<", b">>"):
            i += 2
        else:
            match = re.match(rb"[^\s()<>\[\]{}/%]+", data[i:])
            word = match.group() if match else data[i:i + 1]
            i += len(word)
            yield ("num" if re.fullmatch(rb"[+-]?(\d+\.?\d*|\.\d+)", word) else "op"), word


class _Font:
    def __init__(self, font):
        self.map, self.widths = {}, {1}
        cmap = _get(font, "/ToUnicode") if isinstance(font, generic.DictionaryObject) else None
        if isinstance(cmap, generic.StreamObject):
            try:
                self._read(cmap.data)
            except (misc.PdfError, ValueError, NotImplementedError):
                self.map = {}

    def _read(self, data: bytes):
        for block in re.findall(rb"begincodespacerange(.*?)endcodespacerange", data, re.S):
            self.widths |= {len(h) // 2 for h in re.findall(rb"<([0-9A-Fa-f]+)>", block)}
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
            pairs = re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block)
            for src, dst in pairs:
                self.map[bytes.fromhex(src.decode())] = _utf16(dst)
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
            for lo, hi, rest in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])",
                                           block):
                low, high, width = int(lo, 16), int(hi, 16), len(lo) // 2
                if high - low > 65536:
                    continue
                if rest.startswith(b"["):
                    targets = re.findall(rb"<([0-9A-Fa-f]*)>", rest)
                    for offset, dst in enumerate(targets[:high - low + 1]):
                        self.map[(low + offset).to_bytes(width, "big")] = _utf16(dst)
                else:
                    start = int(rest[1:-1] or b"0", 16)
                    base = len(rest[1:-1]) // 2 or 2
                    for offset in range(high - low + 1):
                        self.map[(low + offset).to_bytes(width, "big")] = _utf16(
                            format(start + offset, f"0{base * 2}x").encode())

    def decode(self, raw: bytes) -> str:
        if not self.map:
            if raw.startswith(b"\xfe\xff"):
                return raw[2:].decode("utf-16-be", "replace")
            return raw.decode("latin-1")
        out, i = [], 0
        widths = sorted(self.widths, reverse=True)
        while i < len(raw):
            for width in widths:
                chunk = raw[i:i + width]
                if chunk in self.map:
                    out.append(self.map[chunk])
                    i += width
                    break
            else:
                i += 1
        return "".join(out)


def _utf16(hex_digits: bytes) -> str:
    try:
        return bytes.fromhex(hex_digits.decode()).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return ""


def _streams(widget):
    ap = _get(widget, "/AP")
    normal = _get(ap, "/N") if isinstance(ap, generic.DictionaryObject) else None
    if isinstance(normal, generic.StreamObject):
        return [normal]
    if isinstance(normal, generic.DictionaryObject):
        state = _get(widget, "/AS")
        chosen = _get(normal, state) if state is not None else None
        streams = [chosen] if chosen is not None else [_get(normal, k) for k in normal]
        return [s for s in streams if isinstance(s, generic.StreamObject)]
    return []


def draws(widget) -> bool:
    """Whether a widget's appearance shows text or an image (a frame or an empty box does not)."""
    for stream in _streams(widget):
        try:
            data = stream.data
        except (misc.PdfError, NotImplementedError, ValueError):
            return True
        if any(kind == "op" and value in (b"Tj", b"TJ", b"'", b'"', b"Do", b"BI", b"sh")
               for kind, value in _tokens(data)):
            return True
    return False


def shown_text(widget, default_resources=None) -> str:
    """The text a widget's normal appearance draws."""
    parts = []
    for stream in _streams(widget):
        resources = _get(stream, "/Resources")
        fonts = _get(resources, "/Font") if isinstance(resources, generic.DictionaryObject) else None
        if not isinstance(fonts, generic.DictionaryObject) and isinstance(default_resources, generic.DictionaryObject):
            fonts = _get(default_resources, "/Font")
        try:
            data = stream.data
        except (misc.PdfError, NotImplementedError, ValueError):
            continue
        font, cache, operands = _Font(None), {}, []
        for kind, value in _tokens(data):
            if kind == "op":
                if value == b"Tf" and len(operands) >= 2 and operands[-2][0] == "name":
                    name = operands[-2][1].decode("latin-1")
                    if name not in cache:
                        entry = _get(fonts, name) if isinstance(fonts, generic.DictionaryObject) else None
                        cache[name] = _Font(entry)
                    font = cache[name]
                elif value in (b"Tj", b"'", b'"', b"TJ"):
                    parts.extend(font.decode(v) for k, v in operands if k == "str")
                operands = []
            elif kind not in ("[", "]"):
                operands.append((kind, value))
    return "".join(parts)


def displayed_value(value, options=None) -> str:
    """What a field's value reads as: a choice's display text when /Opt pairs export and display."""
    values = list(value) if isinstance(value, list) else [value]
    out = []
    for item in values:
        text = str(item)
        for option in options or ():
            option = option.get_object() if isinstance(option, generic.IndirectObject) else option
            if isinstance(option, list) and len(option) == 2 and str(option[0]) == text:
                text = str(option[1])
                break
        out.append(text)
    return " ".join(out)


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def readable(shown: str) -> bool:
    """Whether an appearance's text could be read at all: glyph numbers of a font without a
    /ToUnicode map read as control characters, or as nothing."""
    if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in shown):
        return False
    return any(unicodedata.category(c)[0] in "LN" for c in shown)


def shows(value: str, shown: str) -> bool:
    """Whether ``shown`` (an appearance's text) shows ``value``: in order, in the reverse order that
    right-to-left text is often laid out in, or for Arabic, with every letter present (shaping and
    ligatures reorder what an appearance holds). An appearance whose text cannot be read (glyph
    numbers and no /ToUnicode map) cannot be shown to differ: it passes."""
    want, have = _squash(value), _squash(shown)
    if not want or not readable(have):
        return True
    if want in have or want[::-1] in have:
        return True
    if _ARABIC.search(want):
        pool = list(have)
        for char in want:
            if char not in pool:
                return False
            pool.remove(char)
        return True
    return False
