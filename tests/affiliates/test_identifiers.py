import pytest

from affiliates.identifiers import (
    InvalidQuery,
    canonical_cin,
    canonical_number,
    name_keys,
    parse_query,
)

pytestmark = pytest.mark.django_db  # the session needs the test database (root conftest)


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("ab 123456", "cin", "AB123456"),
        (" Ab-012345 ", "cin", "AB12345"),
        ("k 0009", "cin", "K9"),
        ("00123 4567", "number", "1234567"),
        ("١٢٣٤٥٦٧", "number", "1234567"),  # Eastern Arabic digits
        ("Bennâni  Fatima", "name", "bennani fatima"),
        ("بَنَّانِي", "name", "بناني"),  # diacritics (harakat, shadda) ignored
        ("El-Alaoui", "name", "el alaoui"),
    ],
)
def test_queries_are_normalised(raw, kind, value):
    q = parse_query(raw)
    assert (q.kind, q.value) == (kind, value)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a", "too_short"),
        ("x" * 1000, "too_long"),
        ("?!.,;:*", "no_letters"),
        ("ABC123456", "bad_cin"),
        ("A1234567", "bad_cin"),
        ("12AB34", "bad_query"),
        ("0000", "bad_number"),
        ("1234567890123", "bad_number"),
    ],
)
def test_bad_queries_say_what_to_type(raw, code):
    with pytest.raises(InvalidQuery) as exc:
        parse_query(raw)
    assert exc.value.code == code
    assert str(exc.value.message)


def test_canonical_forms():
    assert canonical_number("000123") == "123"
    assert canonical_cin("bk 000123") == "BK123"


def test_name_keys_tolerate_one_typo_per_word():
    stored = set(name_keys("bennani fatima").split())
    for typo in ("benani", "bennany", "bennaani", "fatma", "fatim"):
        from affiliates.identifiers import query_word_keys

        assert stored & set(query_word_keys(typo)[0]), typo
    assert not stored & {"alaoui"}
