"""The name search's lexicon and tiers (issue 16): each person stores a few name forms; the keys that
forgive slips live once per form in the lexicon (``NameWord``); a common name's exact matches are
fetched before its neighbours, so that a crowd of near namesakes never pushes the person out."""

from datetime import date

import pytest

from affiliates import selectors, services
from affiliates.identifiers import MAX_QUERY_WORDS, form_keys, name_forms
from affiliates.models import Affiliate, NameKey, NameWord
from affiliates.selectors import search_affiliates
from tests.affiliates.factories import AffiliateFactory
from tests.factories import CmrAgentFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def names(result):
    return [f"{a.last_name_fr} {a.first_name_fr}" for a in result.results]


def test_a_person_stores_a_few_forms_and_the_lexicon_their_keys():
    person = AffiliateFactory(last_name_fr="El Fassi", first_name_fr="Mohammed",
                              last_name_ar="الفاسي", first_name_ar="محمد")
    stored = person.search_words.split()
    forms = [w for w in stored if "+" not in w]
    assert forms == name_forms(person.search_fr, person.search_ar)
    assert {"fasi", "muhamad", "محمد"} <= set(forms) and len(forms) <= 10
    # and the pairs of forms of one name (not across the scripts): a two-word query's short lists
    assert {"fasi+muhamad", "فاسي+محمد"} <= set(stored) and "fasi+محمد" not in stored
    assert set(NameWord.objects.filter(form__in=forms).values_list("form", flat=True)) == set(forms)
    keys = NameKey.objects.filter(form_id="muhamad").order_by("key").values_list("key", flat=True)
    assert list(keys) == form_keys("muhamad")


def test_a_renamed_person_is_found_by_his_new_name_only():
    person = AffiliateFactory(last_name_fr="Zemmouri", first_name_fr="Hind")
    manager = ManagerFactory()
    person.last_name_fr = "Kettani"
    person.save()
    assert [a.pk for a in search_affiliates(manager, "kettani hind").results] == [person.pk]
    assert search_affiliates(manager, "zemmouri hind").results == []


def test_a_bulk_loaded_registry_is_searchable_with_its_slips():
    """A generated load goes around ``save()`` (COPY on PostgreSQL): its forms reach the lexicon."""
    from accounts.models import Collectivity

    commune = Collectivity.objects.get(code="01.511.01.0")
    services.load_generated(40, seed=7, collectivity_code=commune.code)
    someone = Affiliate.objects.filter(collectivity=commune).order_by("id").last()
    word = max(someone.last_name_fr.split(), key=len)
    slip = word[:2] + word[3:]  # a letter missing
    query = f"{someone.last_name_fr.replace(word, slip)} {someone.first_name_fr}"
    assert someone.pk in [a.pk for a in search_affiliates(CmrAgentFactory(), query).results]
    forms = {w for w in someone.search_words.split() if "+" not in w}
    assert forms and not forms - set(NameWord.objects.values_list("form", flat=True))


def test_the_exact_full_name_comes_first_however_many_neighbours(monkeypatch):
    monkeypatch.setattr(selectors, "MAX_NAME_RESULTS", 4)
    crowd = [AffiliateFactory(last_name_fr="Bemnani", first_name_fr="Fatima") for _ in range(6)]
    exact = AffiliateFactory(last_name_fr="Bennani", first_name_fr="Fatima", birth_date=date(1970, 1, 1))
    result = search_affiliates(CmrAgentFactory(), "Bennani Fatima")
    assert result.results[0].pk == exact.pk
    assert result.truncated and len(result.results) == 4
    assert {a.pk for a in result.results[1:]} <= {a.pk for a in crowd}


def test_the_same_name_spelled_otherwise_comes_before_a_slip_of_another(monkeypatch):
    monkeypatch.setattr(selectors, "MAX_NAME_RESULTS", 3)
    for _ in range(4):
        AffiliateFactory(last_name_fr="Bemnani", first_name_fr="Fatima")  # one slip from the query
    same = [AffiliateFactory(last_name_fr="Bennani", first_name_fr="Fatima") for _ in range(2)]
    result = search_affiliates(ManagerFactory(), "benani fatima")  # Bennani's spelling, one n
    assert [a.pk for a in result.results[:2]] == sorted(a.pk for a in same)
    assert names(result)[2] == "Bemnani Fatima"


@pytest.mark.parametrize("query, expected", [
    ("benn", "Bennani Fatima"),          # the beginning of a French name
    ("بنا", "Bennani Fatima"),           # the beginning of an Arabic name
    ("الفاس", "El Fassi Mohamed"),       # the article and the beginning of the name
    ("fass moh", "El Fassi Mohamed"),    # the beginning of each word
])
def test_a_partial_name_finds_the_names_it_begins(query, expected):
    AffiliateFactory()  # Bennani Fatima, بناني فاطمة
    AffiliateFactory(last_name_fr="El Fassi", first_name_fr="Mohamed", last_name_ar="الفاسي",
                     first_name_ar="محمد", sex="M")
    AffiliateFactory(last_name_fr="Tazi", first_name_fr="Hassan", last_name_ar="التازي",
                     first_name_ar="حسن", sex="M")
    assert names(search_affiliates(CmrAgentFactory(), query))[:1] == [expected]


def test_a_word_nobody_bears_finds_nobody_and_stops_early(django_assert_max_num_queries):
    AffiliateFactory()
    agent = CmrAgentFactory()
    # the full name, the words' own forms, the lexicon for "bennani" then for "qwxzv" (nothing, and
    # nothing like it: its trigrams asked too): no third people query
    with django_assert_max_num_queries(5):
        assert search_affiliates(agent, "bennani qwxzv").results == []


def test_a_query_of_many_words_costs_a_bounded_number_of_queries(django_assert_max_num_queries):
    """The box takes 100 characters: a name typed over and over (19 words, each one the lexicon knows)
    is read as its first six words, not as 19 lexicon lookups; the person is still found."""
    person = AffiliateFactory(last_name_fr="Ben Ali", first_name_fr="Said Ahmed")
    agent = CmrAgentFactory()
    query = "ben ali said ahmed " + "ali said ahmed " * 5
    assert len(query) <= 100 and len(query.split()) == 19
    # the full name, the own forms, for each of six words at most two lexicon lookups (keys and prefix,
    # then trigrams), the neighbours, the page's people: 19 words would be 40 and more
    bound = 2 + 2 * MAX_QUERY_WORDS + 2
    with django_assert_max_num_queries(bound):
        result = search_affiliates(agent, query)
    assert [a.pk for a in result.results] == [person.pk]
    with django_assert_max_num_queries(bound):  # the same with a slip in every word: the lexicon is asked
        result = search_affiliates(agent, "bem alli saiid ahmmed " + "alli saiid ahmmed " * 4)
    assert [a.pk for a in result.results] == [person.pk]
