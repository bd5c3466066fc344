"""Sorting an uploaded file to its checklist line by its PDF title or its file name
(``dossiers.checklists.sort_file``): pure, on the seeded checklists, in French and Arabic; what cannot
be told is left to the officer (None), never guessed."""

import pytest

from dossiers.checklists import ITEMS, line_words, sort_file, words


def lines(kind):
    return [(code, line_words(code, fr, ar)) for code, fr, ar, *_rest in ITEMS[kind]]


@pytest.mark.parametrize("text, expected", [
    ("acte_de_naissance.pdf", "children_births"),  # the only birth certificate of this kind
    ("Extraits d'acte de naissance des enfants", "children_births"),
    ("ACTE-DE-MARIAGE_Alaoui_2024.pdf", "marriage"),  # a name and a year say nothing
    ("Acte de mariage / عقد الزواج", "marriage"),
    ("عقد الزواج", "marriage"),
    ("شهادة التعريف البنكي.pdf", "rib"),
    ("Attestation de RIB", "rib"),
    ("rib.pdf", "rib"),
    ("Copie de la CIN", "cin"),
    ("نسخة من البطاقة الوطنية للتعريف", "cin"),
    ("bayan_alkhidmat état des services.pdf", "service_statement"),
    ("بيان الخدمات", "service_statement"),
    ("Décision de radiation des cadres", "removal_decision"),
    ("قرار الحذف من الأسلاك", "removal_decision"),
    ("Demande de pension", "application"),
    ("طلب المعاش", "application"),
    ("certificat_cessation_paiement.PDF", "cessation"),
])
def test_french_and_arabic_titles_and_names_find_their_line(text, expected):
    assert sort_file([text], lines("age_limit")) == expected


@pytest.mark.parametrize("text", [
    "scan0001.pdf",  # nothing in it names a document
    "IMG_20240312.pdf",
    "Attestation de travail",  # a document of no line of this dossier
    "Extrait d'acte de décès",  # names another document, although "extrait" and "acte" are the children's
    "مستخرج من رسم الوفاة",
    "",
])
def test_what_names_no_line_is_left_to_the_officer(text):
    assert sort_file([text], lines("age_limit")) is None


def test_two_lines_that_fit_equally_decide_nothing():
    # In a death dossier the spouse's and the children's birth certificates both fit "acte de naissance".
    assert sort_file(["acte_de_naissance.pdf"], lines("death")) is None
    assert sort_file(["Extrait d'acte de naissance du conjoint"], lines("death")) == "spouse_birth"
    assert sort_file(["مستخرج من رسم ولادة الزوج(ة)"], lines("death")) == "spouse_birth"
    # two children's lines of one item (the school certificate of each child aged 16 to 21)
    school = line_words("school_certificate", "Certificat de scolarité", "شهادة مدرسية")
    assert sort_file(["certificat de scolarité"], [("school_certificate:1", school),
                                                   ("school_certificate:2", school)]) is None


def test_the_title_first_then_the_file_name():
    rib = sort_file(["Attestation de RIB", "acte_de_mariage.pdf"], lines("age_limit"))
    assert rib == "rib"
    # a title that says nothing (a scanner's) leaves the decision to the file name
    assert sort_file(["Microsoft Word - Document1", "acte_de_mariage.pdf"], lines("age_limit")) == "marriage"


def test_a_label_edited_in_the_admin_counts():
    custom = [("rib", line_words("rib", "Relevé d'identité bancaire", "شهادة الحساب البنكي")),
              ("cin", line_words("cin", "Copie de la CIN", "نسخة من البطاقة الوطنية"))]
    assert sort_file(["releve_identite_bancaire.pdf"], custom) == "rib"


def test_words_are_read_however_written():
    assert words("Extraits_d'acte-de-NAISSANCE des Enfants.pdf") == ["naissance", "enfant"]
    assert words("الوفاة") == words("الوفاه") == words("وفاة") == ["وفاه"]
    assert words("إقرار") == words("اقرار")  # hamza forms of alef
    assert words("الزَّوَاج") == words("الزواج") == ["زواج"]  # vowel marks
    assert words("2024 - 03") == []
