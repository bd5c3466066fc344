"""The documents the CMR asks for, by dossier kind: the seed of the admin-editable checklists.

Source: ``PENSION_RULES.md`` ("Documents the CMR asks for"): survivors' pension from
service-public.ma procedure 6173 (sure: H); revision of a situation, basis of a supplementary dossier
(M); retirement and refund lists (L, to be confirmed with the CMR). The data migration loads this
table once; afterwards the DGCT edits the checklists in the admin.

A condition makes an item required only when it applies to the affiliate:
- ``married``: the affiliate has a spouse in the registry;
- ``children``: the affiliate has children under 21;
- ``child_16_21``: one document for each child aged 16 to 21 (school certificate).
"""

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
