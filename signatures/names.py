"""Does a certificate's name belong to an account's holder? Pure functions, no I/O.

The CIN in the certificate's serialNumber decides who signed; the name is checked as well, so that
an account provisioned with someone else's CIN by mistake never makes his signature count. The
comparison forgives what differs between a certification authority's records and the designation
spreadsheet: order (surname first or last), case, accents, hyphens, the article (El, Al, ال), doubled
letters, one slip in a long name, and script: an Arabic name is compared with a Latin one through
their consonant skeletons ("أمينة الإدريسي" and "Amina El Idrissi" both read m-n d-r-s).
"""

import re
import unicodedata

_ARTICLES = {"el", "al", "ال", "ben", "bin", "ibn", "بن", "ould", "ولد", "ait", "ايت", "ou", "u"}
_ARTICLE_PREFIX = re.compile(r"^ال(?=\w{2,})")  # glued in Arabic script only: Alaoui is not al-aoui
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_SEPARATORS = re.compile(r"[\s'’`\-_.,]+")

# Arabic letters to the Latin consonant they are written with in French transliteration; long
# vowels, hamza and the ta marbuta carry no consonant.
_ARABIC_SKELETON = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d", "ر": "r", "ز": "z",
    "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "غ": "g", "ف": "f", "ق": "k", "ك": "k",
    "گ": "g", "ڭ": "g", "ل": "l", "م": "m", "ن": "n", "ه": "h", "پ": "b", "ڤ": "f",
}
_LATIN_DIGRAPHS = [("ch", "s"), ("sh", "s"), ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"),
                   ("ph", "f"), ("ck", "k"), ("q", "k"), ("c", "k"), ("x", "ks"), ("p", "b"), ("v", "f")]
_LATIN_DROPPED = set("aeiouyw")


def fold(name) -> str:
    """Lower case, no accents or Arabic diacritics or tatweel, one form of alef, ya and ta marbuta."""
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(c for c in text if not unicodedata.combining(c) and c != "\u0640")
    for forms, one in (("أإآٱ", "ا"), ("ى", "ي"), ("ة", "ه"), ("ؤ", "و"), ("ئ", "ي")):
        for form in forms:
            text = text.replace(form, one)
    return " ".join(_SEPARATORS.sub(" ", text).lower().split())


def _tokens(name) -> list[str]:
    words = []
    for word in fold(name).split():
        if word in _ARTICLES:
            continue
        stripped = _ARTICLE_PREFIX.sub("", word)
        words.append(stripped or word)
    return words


def _skeleton(word: str) -> str:
    if _ARABIC.search(word):
        letters = [_ARABIC_SKELETON.get(c, "") for c in word]
    else:
        for digraph, letter in _LATIN_DIGRAPHS:
            word = word.replace(digraph, letter)
        letters = [c for c in word if c.isalpha() and c not in _LATIN_DROPPED]
    skeleton = re.sub(r"(.)\1+", r"\1", "".join(letters))  # doubled letters: Bennani, Idrissi
    # A final h is often only a vowel's ending: the ta marbuta (folded to ha), Taha/طه, Fatimah.
    return skeleton[:-1] if len(skeleton) > 1 and skeleton.endswith("h") else skeleton


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    return _edit_distance_at_most_one(a, b)


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
            continue
        edits += 1
        if edits > 1:
            return False
        if len(a) == len(b):
            i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def _matches(short: list[str], long: list[str], key) -> bool:
    """Every word of ``short`` matches a distinct word of ``long`` (order-insensitive)."""
    remaining = list(long)
    for word in short:
        found = next((other for other in remaining if _close(key(word), key(other))), None)
        if found is None:
            return False
        remaining.remove(found)
    return True


def names_match(certificate_name: str, account_name: str) -> bool:
    """Whether a certificate's name and an account holder's name are the same person's.

    Both names must have words; the shorter must have at least two (one word matches nothing but
    itself), and each of its words must match a word of the other by spelling or, across scripts
    or transliterations, by consonant skeleton.
    """
    a, b = _tokens(certificate_name), _tokens(account_name)
    if not a or not b:
        return False
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 2 and len(long) >= 2:
        return False
    if _matches(short, long, key=lambda w: w):
        return True
    skeletons = [_skeleton(w) for w in short]
    if any(not s for s in skeletons):
        return False
    return _matches(short, long, key=_skeleton)
