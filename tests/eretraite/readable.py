"""What a reader sees of a page, and what in it is not in his language: the checks of the
untranslated-string test (tests/eretraite/test_every_page_translated.py).

A page's visible text is its text nodes (not scripts, styles or what the officer types in) and the
attributes a reader meets: titles, placeholders, labels for screen readers, images' alternatives,
buttons' captions. What the page marks ``translate="no"`` (HTML's own mark for identifiers and
technical text, e.g. the raw answer of the CMR's server under "technical detail") is left out. In it we look for:
- English (a list of words no French or Arabic sentence uses) on any page;
- on an Arabic page, any Latin word that is not an acronym, an identifier or data (a person's name
  in French, a file name, an e-mail address), since the registry shows names in both scripts;
- raw codes: snake_case or dotted identifiers (``reference_salary_months``, ``designation.refused``),
  an ISO date in a sentence, a bare HTTP status, "UTC", Python's None/True/False;
- on an Arabic page, a Latin comma, semicolon or question mark right after an Arabic word.
"""

import re
from html.parser import HTMLParser

ENGLISH = frozenset([
    "the", "and", "with", "your", "this", "that", "from", "has", "have", "was", "were", "will", "been",
    "which", "who", "what", "when", "should", "please", "must", "may", "can", "not", "are", "is", "it",
    "its", "to", "of", "for", "by", "none", "true", "false", "null", "yes", "no", "save", "delete", "add",
    "change", "history", "view", "search", "filter", "home", "logout", "password", "username", "select",
    "show", "hide", "clear", "all", "unknown", "required", "optional", "submit", "cancel", "next",
    "previous", "results", "found", "error", "errors", "failed", "pending", "done", "open", "closed",
    "draft", "state", "status", "kind", "name", "here", "there", "only", "more", "less", "than", "other",
    "others", "each", "every", "new", "old", "first", "last", "before", "after", "over", "under", "upload",
    "uploaded", "download", "file", "files", "document", "documents", "signed", "signature", "certify",
    "certified", "dossier", "dossiers", "affiliate", "affiliates", "agent", "agents", "manager", "officer",
    "officers", "account", "accounts", "request", "requests", "answer",
]) - {"document", "documents", "dossier", "dossiers", "agent", "agents", "manager", "signature", "file"}
# Latin words an Arabic page may show as they are: acronyms, names of standards and products, and
# the languages' own names in the switcher.
ACRONYMS = frozenset([
    "CMR", "DGCT", "CIN", "PPR", "RIB", "PDF", "PAdES", "API", "SHA", "XLSX", "CSV", "TOTP", "OTP", "JSON",
    "URL", "DH", "PKCS", "QR", "ID", "CNIE", "RCAR", "CNSS", "PKI", "SVG", "IBAN", "HTTPS", "OpenAPI",
    "ReDoc", "Swagger", "SMTP", "XML", "UUID", "INDIMAJ", "GIPE", "DSN",
    "Français", "FreeOTP", "Aegis", "Google", "Authenticator", "Microsoft", "Barid", "eSign", "Excel",
])

_SKIPPED = {"script", "style", "textarea", "template", "noscript"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_READ_ATTRS = ("title", "placeholder", "aria-label", "alt")
_LATIN = "A-Za-zÀ-ÖØ-öø-ɏ"  # Basic Latin, Latin-1 and Latin Extended A/B letters
_LATIN_WORD = re.compile(rf"(?<![\w@./-])[{_LATIN}][{_LATIN}'’]+(?![\w@/-])")
# A word is a whole run of letters of any script: "Noël" is one word, not "No" followed by "ël".
_WORD = re.compile(r"[^\W\d_]+")
_CODES = [
    ("snake_case code", re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")),
    ("dotted code", re.compile(r"\b[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\.[a-z]+_[a-z_]+\b"
                               r"|\b(?:designation|provincial_office|dossier|account|affiliate|correction|"
                               r"transmission|token|privacy|second_factor)\.[a-z_]+\b")),
    ("ISO date", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("bare HTTP status", re.compile(r"\bHTTP \d{3}\b|\b(?:GET|POST|PUT|PATCH|DELETE) /")),
    ("UTC time", re.compile(r"\bUTC\b")),
    ("Python value", re.compile(r"\b(?:None|True|False)\b")),
]
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?::\d+)?\b")
_URLS = re.compile(r"https?://\S+|\S+@\S+|\b(?:www\.)?[\w-]+(?:\.[\w-]+)*\.(?:ma|com|org|net|gov|fr)\b")
_LATIN_PUNCT_IN_ARABIC = re.compile(r"[\u0600-\u06ff][,;?]")


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip, self._skip_depth = [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._skip_depth:  # inside translate="no": count nested tags to find its end
            self._skip_depth += tag not in _VOID
            return
        if attrs.get("translate") == "no" and tag not in _VOID:
            self._skip_depth = 1
            return
        if tag in _SKIPPED:
            self._skip += 1
        for name in _READ_ATTRS:
            if name == "alt" and (attrs.get("src") or "").startswith("/static/admin/"):
                continue  # Django admin's own icons ("True", "Search"): Django writes them in English
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self._skip_depth:
            self._skip_depth -= 1
            return
        if tag in _SKIPPED and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and not self._skip_depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.parts


def problems(html: str, language: str, data_words: frozenset) -> list[tuple[str, str]]:
    """(what, the text it was found in) for each piece of the page not in ``language``."""
    found = []
    for text in visible_text(html):
        bare = _UUID.sub(" ", _URLS.sub(" ", text))
        for word in _WORD.findall(bare):
            if (word.lower() in ENGLISH and not word.isupper()  # an upper-case word is a code (DELETE)
                    and word not in data_words and word.lower() not in data_words):
                found.append((f"English word “{word}”", text))
                break
        if language == "ar":
            for word in _LATIN_WORD.findall(bare):
                if (word in ACRONYMS or word.upper() == word or word in data_words
                        or word.lower() in data_words):
                    continue
                found.append((f"Latin word “{word}” on an Arabic page", text))
                break
            if _LATIN_PUNCT_IN_ARABIC.search(bare):
                found.append(("Latin punctuation in an Arabic sentence", text))
        for what, pattern in _CODES:
            match = pattern.search(bare)
            if match and match.group(0) not in data_words:
                found.append((f"{what} “{match.group(0)}”", text))
    return found
