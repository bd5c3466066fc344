"""Identifiers and search queries: normalise, fold, classify. Pure functions, no ORM.

Canonical forms, used both when the registry is written and when it is searched:
- affiliation number and PPR: digits only, without leading zeros ('0012 345' -> '12345');
- CIN: one or two upper-case letters then digits without leading zeros ('ab 012345' -> 'AB12345');
- names: folded (no accents, no Arabic diacritics or tatweel, alef and ta marbuta forms unified,
  lower case, single spaces).
"""

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from accounts.rules import fold as _accounts_fold

MAX_QUERY_LENGTH = 100
MIN_NAME_LETTERS = 2

_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SEPARATORS = re.compile(r"[\s\u00a0\u200e\u200f._/\-]+")
_CIN = re.compile(r"^([A-Z]{1,2})([0-9]{1,6})$")
_LETTERS_THEN_DIGITS = re.compile(r"^[A-Z]+[0-9]+$")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_NOT_A_NAME_CHAR = re.compile(r"[^\w\s]|[\d_]")


class InvalidQuery(ValueError):
    """A query the search cannot run; ``message`` tells the officer what to type."""

    def __init__(self, code, message):
        super().__init__(str(message))
        self.code = code
        self.message = message


def _text(value) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).translate(_EASTERN_DIGITS).strip()


def fold(value) -> str:
    """The search key of a name (French or Arabic)."""
    return _accounts_fold(value)


# --- name forms and keys: what makes the name search forgive ---
#
# A name is stored with its *forms* (``name_forms``), and the registry's distinct forms make a
# lexicon, each form with its *keys* (``form_keys``). A query word matches a stored form when their
# key sets meet. Three layers of tolerance, each a pure function below:
# 1. the *skeleton* of a word absorbs the spelling variants of one name: in French transliteration
#    ou/o/w/u, e/a, y/i, q/k, ph/f, dj/j, sh/ch, a silent final e, doubled letters (Bennani/Benani,
#    Mohammed/Mohamad, Youssef/Yousef/Yusuf, Ouazzani/Wazzani); in Arabic script, what ``fold``
#    already unifies (hamza forms, ى/ي, ة/ه, tatweel, diacritics) and the Persian kaf and yeh;
# 2. the article and the particles: "El Fassi", "Elfassi" and "Fassi" are one name, so are
#    "Ben Souda" and "Bensouda", "Abdel Aziz" and "Abdelaziz", "الفاسي" and "فاسي";
# 3. typing slips on the skeleton: a form's keys hold its one-letter deletions, and its two-letter
#    ones for a long word (seven letters; six on the query's side, for letters added), so that a word
#    one slip away (a letter missing, added or changed) shares a key, and a long word two slips
#    away too (two missing, added, changed or swapped).
# A partial word (the beginning of a name) meets the forms it begins (``prefix_form``); what the keys
# still miss (two slips in a short word) the lexicon's trigrams find, on PostgreSQL.
#
# The keys live in the lexicon, not on each person: a registry of a million people holds some
# thousands of distinct forms, so a query word is first matched against the lexicon (a small table)
# and the people are then found by their forms (a few per person, one GIN index).

ARTICLES = frozenset({"el", "al", "ال"})
# Particles that begin a compound name, joined or not: folded forms, the longest first.
PARTICLES = (
    "abdel", "abdal", "abou", "abu", "abd", "ben", "bin", "ibn", "bou", "ait", "ould", "sidi", "moulay",
    "lalla", "el", "al",
    "عبد", "ابو", "بن", "بو", "ايت", "ولد", "سيدي", "مولاي", "ال",
)
_FR_SPELLINGS = (("ou", "u"), ("oo", "u"), ("w", "u"), ("o", "u"), ("ph", "f"), ("dj", "j"), ("sh", "ch"),
                 ("ck", "k"), ("q", "k"), ("y", "i"), ("e", "a"))
_AR_SPELLINGS = (("ک", "ك"), ("ی", "ي"), ("ء", ""))
_DOUBLED = re.compile(r"(.)\1+")
LONGEST_NAME_WORD = 20  # beyond, a "word" is no name: its keys stay linear in its length, not quadratic
LONG_WORD = 7  # letters of a skeleton from which two slips of any kind are forgiven
MIN_PART = 3  # a particle is split off only when what remains is a name (three letters or more)


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """The spelling-independent form of one folded word."""
    if _ARABIC.search(word):
        for old, new in _AR_SPELLINGS:
            word = word.replace(old, new)
        return word
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    for old, new in _FR_SPELLINGS:
        word = word.replace(old, new)
    return _DOUBLED.sub(r"\1", word)


def _deletions(word: str, depth: int) -> set[str]:
    found, layer = {word}, {word}
    for _step in range(depth):
        layer = {w[:i] + w[i + 1 :] for w in layer if len(w) >= 4 for i in range(len(w))}
        found |= layer
    return found


def _stored_depth(form: str) -> int:
    """How many deletions a stored word's keys hold: two for a long word, so that two changed
    letters ("Bemmami" for "Bennani") still meet; one otherwise."""
    return 2 if LONG_WORD <= len(form) <= LONGEST_NAME_WORD else 1


def _split_particle(word: str) -> tuple[str, str] | None:
    for particle in PARTICLES:
        if word.startswith(particle) and len(word) - len(particle) >= MIN_PART:
            return particle, word[len(particle) :]
    return None


def _spellings(word: str) -> set[str]:
    """A stored word's skeleton, and its parts when it begins with a particle."""
    forms = {skeleton(word)}
    split = _split_particle(word)
    if split:
        forms |= {skeleton(part) for part in split}
    return forms


def _forms_of(name: str) -> set[str]:
    words = name.split()
    forms = set()
    for i, word in enumerate(words):
        forms |= _spellings(word)
        if word in PARTICLES and i + 1 < len(words):
            forms |= _spellings(word + words[i + 1])
    return {f for f in forms if f}


def name_forms(*folded_names: str) -> list[str]:
    """The forms of a person's folded names, the lexicon's words: for each word (and each particle
    joined to the next word, "ben souda" as "bensouda"), its skeletons, sorted."""
    return sorted(set().union(*(_forms_of(name) for name in folded_names)))


_ARTICLE_FORMS = frozenset(skeleton(a) for a in ARTICLES)
PAIR = "+"  # joins two forms of one name into a pair token: "banani+fatima"
PAIRED_FORMS = 12  # forms of one name paired with each other; a longer "name" pairs its first ones only


def pair(a: str, b: str) -> str:
    """The token of two forms borne together, whatever their order."""
    return PAIR.join(sorted((a, b)))


def search_words(*folded_names: str) -> list[str]:
    """What a person stores for the search (``Affiliate.search_words``): his forms, and every pair of
    two forms of one of his names. A two-word query is then answered by the pairs' short lists (the
    Bennanis named Fatima), not by intersecting the long list of every Fatima with every Bennani."""
    words = set()
    for name in folded_names:
        forms = sorted(_forms_of(name))
        words.update(forms)
        paired = [f for f in forms if f not in _ARTICLE_FORMS][:PAIRED_FORMS]  # a query drops its articles
        words.update(pair(a, b) for i, a in enumerate(paired) for b in paired[i + 1 :])
    return sorted(words)


def form_keys(form: str) -> list[str]:
    """The keys of one stored form: the form and its one-letter deletions (two for a long form)."""
    return sorted(k for k in _deletions(form, _stored_depth(form)) if k)


def name_keys(*folded_names: str) -> str:
    """Every key of the names' forms, space-separated (what the lexicon holds for them)."""
    return " ".join(sorted({k for form in name_forms(*folded_names) for k in form_keys(form)}))


MAX_QUERY_WORDS = 6  # a full name with its particles; a query of 33 two-letter "words" is not 33 lookups


def query_words(folded_query: str) -> list[str]:
    """The words of a query that must each match: two letters or more, articles left out when
    something else is typed, the first ``MAX_QUERY_WORDS`` of them."""
    words = [w for w in folded_query.split() if len(w) >= 2]
    named = [w for w in words if w not in ARTICLES]
    return (named or words)[:MAX_QUERY_WORDS]


@dataclass(frozen=True)
class QueryWord:
    """What one word of a query looks for: its own forms (a person bearing one of them matches the
    word exactly, spelling aside), the keys that meet its misspellings in the lexicon, and the
    beginning of a form it may be (a partial word), if long enough to mean something."""

    word: str
    forms: tuple[str, ...]
    keys: tuple[str, ...]
    prefix: str


MIN_PREFIX = 3  # letters of a skeleton from which a partial word looks for the forms it begins


def _query_word(word: str) -> QueryWord:
    forms = {skeleton(word)}  # not split at a particle: "bensouda" is not every "ben..."
    article = next((a for a in ARTICLES if word.startswith(a) and len(word) - len(a) >= MIN_PART), None)
    if article:  # "elfassi" is also "fassi"
        forms.add(skeleton(word[len(article) :]))
    keys = set()
    for form in forms:
        # one more than stored (added letters); a hostile 100-letter word gets one-letter deletions only
        keys |= _deletions(form, 2 if 6 <= len(form) <= LONGEST_NAME_WORD else 1)
    bare = skeleton(word[len(article) :]) if article else skeleton(word)
    return QueryWord(
        word,
        tuple(sorted(f for f in forms if f)),
        tuple(sorted(k for k in keys if k)),
        bare if MIN_PREFIX <= len(bare) <= LONGEST_NAME_WORD else "",
    )


def parse_query_words(folded_query: str) -> list[QueryWord]:
    """Each word of the query (``query_words``) with what it looks for."""
    return [_query_word(word) for word in query_words(folded_query)]


def query_word_keys(folded_query: str) -> list[list[str]]:
    """For each word of the query, the keys that would match it."""
    return [list(w.keys) for w in parse_query_words(folded_query)]


def canonical_number(value) -> str:
    """An affiliation number or a PPR: digits only, no leading zeros."""
    digits = _SEPARATORS.sub("", _text(value))
    return digits.lstrip("0") if digits.isdigit() else digits


def canonical_cin(value) -> str:
    compact = _SEPARATORS.sub("", _text(value)).upper()
    m = _CIN.match(compact)
    if not m:
        return compact
    return m.group(1) + (m.group(2).lstrip("0") or "0")


def is_valid_cin(value) -> bool:
    return bool(_CIN.match(canonical_cin(value)))


@dataclass(frozen=True)
class Query:
    kind: str  # 'number' (affiliation number or PPR), 'cin' or 'name'
    value: str  # canonical identifier, or the folded name
    script: str = ""  # 'ar' or 'fr' for a name


def parse_query(raw) -> Query:
    """Classify what the officer typed, or raise ``InvalidQuery`` saying what to type instead."""
    text = _text(raw)
    if not text:
        raise InvalidQuery(
            "empty", _("Type a name, an affiliation number, a payroll number (PPR) or a CIN.")
        )
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(
            "too_long",
            _("The search is limited to %(max)d characters: type a name or one identifier.")
            % {"max": MAX_QUERY_LENGTH},
        )
    compact = _SEPARATORS.sub("", text).upper()
    if any(c.isdigit() for c in compact):
        if compact.isdigit():
            value = compact.lstrip("0")
            if not value:
                raise InvalidQuery(
                    "bad_number", _("An affiliation number or a PPR cannot be only zeros.")
                )
            if len(value) > 12:
                raise InvalidQuery(
                    "bad_number",
                    _(
                        "“%(value)s” is too long for an affiliation "
                        "number or a PPR (12 digits at most)."
                    )
                    % {"value": text},
                )
            return Query("number", value)
        if _LETTERS_THEN_DIGITS.match(compact):
            m = _CIN.match(compact)
            if not m:
                raise InvalidQuery(
                    "bad_cin",
                    _(
                        "“%(value)s” is not a CIN: one or two letters "
                        "followed by up to six digits, e.g. AB123456."
                    )
                    % {"value": text},
                )
            return Query("cin", canonical_cin(compact))
        raise InvalidQuery(
            "bad_query",
            _(
                "“%(value)s” is neither a name nor an identifier. Type a "
                "name, or a CIN (e.g. AB123456), or an affiliation number "
                "or PPR (digits only)."
            )
            % {"value": text[:40]},
        )
    name = " ".join(_NOT_A_NAME_CHAR.sub(" ", fold(text)).split())
    letters = sum(1 for c in name if c.isalpha())
    if letters == 0:
        raise InvalidQuery(
            "no_letters", _("Type a name (letters), an affiliation number, a PPR or a CIN.")
        )
    if letters < MIN_NAME_LETTERS:
        raise InvalidQuery(
            "too_short", _("Type at least %(n)d letters of the name.") % {"n": MIN_NAME_LETTERS}
        )
    return Query("name", name, "ar" if _ARABIC.search(name) else "fr")


@lru_cache(maxsize=65536)
def _likeness(word: str, candidate: str) -> float:
    """How close a query word is to one word of a name: 1 for the same word, a little less for the
    same skeleton, then the skeletons' likeness (0 to 1). Cached: names repeat."""
    if word == candidate:
        return 1.0
    target, other = skeleton(word), skeleton(candidate)
    if other == target:
        return 0.95
    if other.startswith(target):  # the beginning of the name typed
        return 0.9
    return 0.85 * SequenceMatcher(None, target, other).ratio()


def closeness_of_word(word: str, form: str) -> float:
    """How close a query word is to a stored form (0 to 1)."""
    return _likeness(word, form)


def _word_closeness(word: str, name_words: list[str]) -> float:
    """How close one query word is to the closest word of a name."""
    return max((_likeness(word, candidate) for candidate in name_words), default=0.0)


def closeness(folded_query: str, folded_name: str) -> tuple:
    """A sort key for a name found by a query, closest first: the exact full name, then how close
    each query word is to the name's closest word, then the shorter name (fewer words unexplained)."""
    words = query_words(folded_query)
    name_words = folded_name.split()
    for i, word in enumerate(name_words[:-1]):  # a particle and its word, also as one word
        if word in PARTICLES:
            name_words.append(word + name_words[i + 1])
    for word in list(name_words):
        split = _split_particle(word)
        if split:
            name_words.extend(split)
    score = sum(_word_closeness(w, name_words) for w in words) / max(len(words), 1)
    return (folded_name != folded_query, -round(score, 3), len(folded_name.split()), folded_name)
