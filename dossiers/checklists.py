"""The documents the CMR asks for, by dossier kind: the seed of the admin-editable checklists.

Source: ``PENSION_RULES.md`` ("Documents the CMR asks for"): survivors' pension from
service-public.ma procedure 6173 (sure: H); revision of a situation, basis of a supplementary dossier
(M); retirement and refund lists (L, to be confirmed with the CMR). The data migration loads this
table once; afterwards the DGCT edits the checklists in the admin.

A condition makes an item required only when it applies to the affiliate:
- ``married``: the affiliate has a spouse in the registry;
- ``children``: the affiliate has children under 21;
- ``child_16_21``: one document for each child aged 16 to 21 (school certificate).

``sort_file(texts, lines)`` tells which checklist line an uploaded file is, from its PDF title and its
file name (pure: the dossier page's script does the same in the browser, with the words and the stop
list this module gives it, and the upload service decides again for any file sent without its line).
"""

import re
import unicodedata
from collections import Counter

KINDS = [
    # code, French, Arabic
    ("age_limit", "Retraite pour limite d'âge", "الإحالة على التقاعد لبلوغ حد السن"),
    ("early", "Retraite anticipée (proportionnelle)", "الإحالة على التقاعد النسبي"),
    ("invalidity", "Retraite pour invalidité", "الإحالة على التقاعد لعدم القدرة البدنية"),
    ("death", "Décès en activité", "الوفاة أثناء مزاولة العمل"),
    ("refund", "Remboursement des retenues", "استرجاع الاقتطاعات"),
    ("supplementary", "Dossier complémentaire", "ملف تكميلي"),
]

_APPLICATION = ("application", "Demande de pension", "طلب المعاش")
_CESSATION = ("cessation", "Certificat de cessation de paiement", "شهادة التوقف عن صرف الأجرة")
_SERVICES = ("service_statement", "État des services", "بيان الخدمات")
_CIN = ("cin", "Copie de la CIN", "نسخة من البطاقة الوطنية للتعريف")
_RIB = ("rib", "Attestation de RIB", "شهادة التعريف البنكي")
_MARRIAGE = ("marriage", "Acte de mariage", "عقد الزواج")
_CHILDREN = ("children_births", "Extraits d'acte de naissance des enfants",
             "مستخرجات من رسوم ولادة الأبناء")

# kind -> [(code, French, Arabic, required, condition)]
ITEMS = {
    "age_limit": [
        (*_APPLICATION, True, ""),
        ("removal_decision", "Décision de radiation des cadres pour limite d'âge",
         "قرار الحذف من الأسلاك لبلوغ حد السن", True, ""),
        (*_CESSATION, True, ""),
        (*_SERVICES, True, ""),
        (*_CIN, True, ""),
        (*_MARRIAGE, True, "married"),
        (*_CHILDREN, True, "children"),
        (*_RIB, True, ""),
    ],
    "early": [
        (*_APPLICATION, True, ""),
        ("removal_decision", "Décision acceptant la demande de retraite anticipée",
         "قرار قبول طلب الإحالة على التقاعد النسبي", True, ""),
        (*_CESSATION, True, ""),
        (*_SERVICES, True, ""),
        (*_CIN, True, ""),
        (*_MARRIAGE, True, "married"),
        (*_CHILDREN, True, "children"),
        (*_RIB, True, ""),
    ],
    "invalidity": [
        (*_APPLICATION, True, ""),
        ("health_board_report", "Procès-verbal du conseil de santé", "محضر المجلس الصحي", True, ""),
        ("removal_decision", "Décision de radiation des cadres pour invalidité",
         "قرار الحذف من الأسلاك لعدم القدرة البدنية", True, ""),
        (*_CESSATION, True, ""),
        (*_SERVICES, True, ""),
        (*_CIN, True, ""),
        (*_MARRIAGE, True, "married"),
        (*_CHILDREN, True, "children"),
        (*_RIB, True, ""),
    ],
    "death": [
        (*_APPLICATION, True, ""),
        ("death_certificate", "Extrait d'acte de décès", "مستخرج من رسم الوفاة", True, ""),
        ("heredity", "Copie certifiée de l'acte d'hérédité", "نسخة مصادق عليها من رسم الإراثة", True, ""),
        (*_MARRIAGE, True, "married"),
        ("non_remarriage", "Certificat de non-remariage", "شهادة عدم الزواج من جديد", True, "married"),
        ("spouse_birth", "Extrait d'acte de naissance du conjoint", "مستخرج من رسم ولادة الزوج(ة)", True,
         "married"),
        ("spouse_cin", "Copie de la CIN du conjoint", "نسخة من البطاقة الوطنية للزوج(ة)", True, "married"),
        (*_RIB, True, ""),
        ("children_births", "Extraits d'acte de naissance des enfants ou certificat de vie collectif",
         "مستخرجات من رسوم ولادة الأبناء أو شهادة الحياة الجماعية", True, "children"),
        ("school_certificate", "Certificat de scolarité (enfant de 16 à 21 ans)",
         "شهادة مدرسية (للابن البالغ من 16 إلى 21 سنة)", True, "child_16_21"),
    ],
    "refund": [
        (*_APPLICATION, True, ""),
        ("removal_decision", "Décision de radiation des cadres (démission, licenciement)",
         "قرار الحذف من الأسلاك (استقالة، إعفاء)", True, ""),
        (*_CESSATION, True, ""),
        (*_SERVICES, True, ""),
        (*_CIN, True, ""),
        (*_RIB, True, ""),
    ],
    "supplementary": [
        ("transmittal_slip", "Bordereau d'envoi", "جدول الإرسال", True, ""),
        ("promotion_order", "Copie certifiée du dernier arrêté de promotion visé",
         "نسخة مصادق عليها من آخر قرار للترقية مؤشر عليه", True, ""),
        ("supplementary_contributions", "État complémentaire de cotisations", "بيان تكميلي للمساهمات", True, ""),
        (*_CESSATION, True, ""),
        ("other", "Autre pièce justificative", "وثيقة مثبتة أخرى", False, ""),
    ],
}


# --- sorting an uploaded file to its checklist line -----------------------------------------------

# Words that tell nothing about which document a file is, written as ``words`` leaves them: French and
# Arabic small words, file-name noise, and what any document may be ("attestation", "copie", "extrait",
# "acte": a file called "attestation" is not the RIB's). The page hands the same list to its script
# (``data-stopwords``).
STOPWORDS = frozenset([
    "de", "du", "des", "la", "le", "les", "un", "une", "et", "ou", "en", "au", "aux", "pour", "par", "sur",
    "avec", "dans", "l", "d", "a",
    "pdf", "scan", "scanne", "signe", "signee", "document", "doc", "fichier", "copy", "final", "version", "page",
    "attestation", "certificat", "certificate", "copie", "extrait", "acte", "decision", "etat", "certifiee",
    "من", "في", "عن", "على", "او", "و", "ل", "الى", "الي", "مع",
    "شهاده", "نسخه", "مستخرج", "مستخرجات", "رسم", "رسوم", "قرار", "بيان", "عقد", "مصادق",
])
_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")  # the Arabic article and what clings to it
_LATIN = re.compile(r"[a-z]+")
_SPLIT = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Lower case, without accents, Arabic vowel marks or tatweel; alef, ta marbuta and alef maqsura unified."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn" and c != "\u0640").lower()
    return text.replace("\u0629", "\u0647").replace("\u0649", "\u064a")  # ة -> ه, ى -> ي


def words(text: str) -> list[str]:
    """The meaningful words of a title, label or file name: ``"Extraits_d'acte-de-naissance_enfants.pdf"``
    -> ``["naissance", "enfant"]``; the Arabic article is dropped (``"الوفاة"`` -> ``"وفاه"``),
    so is a French plural's last s or x, a number and a stop word."""
    found = []
    for word in _SPLIT.split(_plain(text)):
        if not word or word in STOPWORDS:
            continue
        for article in _ARTICLES:
            if word.startswith(article) and len(word) - len(article) >= 2:
                word = word[len(article):]
                break
        if _LATIN.fullmatch(word) and len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        if len(word) >= 2 and not word.isdigit() and word not in STOPWORDS:
            found.append(word)
    return found


def line_words(code: str, label_fr: str, label_ar: str) -> frozenset[str]:
    """What names a checklist item: the words of its code and of its French and Arabic labels."""
    return frozenset(words(code) + words(label_fr) + words(label_ar))


def vocabulary() -> frozenset[str]:
    """Every word that names a document in the seeded checklists, of every kind."""
    return frozenset(w for items in ITEMS.values() for code, fr, ar, *_rest in items for w in line_words(code, fr, ar))


def sort_file(texts, lines, known=None) -> str | None:
    """The key of the line a file belongs to, or None when it cannot be told (then the officer chooses).

    ``texts``: what names the file, best first (its PDF title, then its file name); ``lines``: pairs
    ``(key, words)``, the words being ``line_words(...)`` of each line the file may go to; ``known``: the
    words that name documents (``vocabulary()`` and the lines' own). The first text that points to one
    line decides: each of its words that a line has counts ``1 / (how many lines have it)``, so a word
    only one line has counts fully and a common one ("acte", "copie") a little; the line must score at
    least 1 and more than any other, and the text may not name another document ("extrait d'acte de
    décès" is not the children's birth certificates, although two of its words are theirs). Equal
    scores (two children's lines, or "acte de naissance" where the spouse's and the children's both
    fit) decide nothing. A person's name or a date in a file name does not matter.
    """
    lines = [(key, frozenset(w)) for key, w in lines]
    known = (vocabulary() if known is None else frozenset(known)).union(*(ws for _key, ws in lines))
    spread = Counter(w for _key, ws in lines for w in ws)
    for text in texts:
        said = set(words(text))
        if not said:
            continue
        scores = sorted(((sum(1 / spread[w] for w in said & ws), key, ws) for key, ws in lines),
                        key=lambda s: s[0], reverse=True)
        if not scores or scores[0][0] < 1 - 1e-9:
            continue
        if len(scores) > 1 and scores[1][0] >= scores[0][0] - 1e-9:
            continue
        score, key, ws = scores[0]
        if (said & known) - ws:
            continue
        return key
    return None
