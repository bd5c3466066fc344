"""Labels of the public service's nomenclature in both languages.

The registry holds a grade as the CMR sends it, in French. An Arabic page shows the grade's Arabic
name when the nomenclature below knows it; an unknown grade stays as the registry wrote it (and the
page marks it as French).
"""

from eretraite.i18n import is_arabic

GRADES_AR = {
    "Adjoint administratif de 3e grade": "مساعد إداري من الدرجة الثالثة",
    "Adjoint technique de 3e grade": "مساعد تقني من الدرجة الثالثة",
    "Adjoint administratif de 2e grade": "مساعد إداري من الدرجة الثانية",
    "Adjoint technique de 2e grade": "مساعد تقني من الدرجة الثانية",
    "Adjoint administratif de 1er grade": "مساعد إداري من الدرجة الأولى",
    "Adjoint technique de 1er grade": "مساعد تقني من الدرجة الأولى",
    "Technicien de 4e grade": "تقني من الدرجة الرابعة",
    "Rédacteur": "محرر",
    "Technicien de 3e grade": "تقني من الدرجة الثالثة",
    "Technicien de 2e grade": "تقني من الدرجة الثانية",
    "Administrateur de 3e grade": "متصرف من الدرجة الثالثة",
    "Administrateur de 2e grade": "متصرف من الدرجة الثانية",
    "Ingénieur d'État de 1er grade": "مهندس دولة من الدرجة الأولى",
    "Administrateur adjoint": "متصرف مساعد",
    "Médecin de 1er grade": "طبيب من الدرجة الأولى",
}


def grade_label(grade: str) -> tuple[str, str]:
    """(the grade in the reader's language where known, the language it is written in)."""
    if is_arabic() and grade in GRADES_AR:
        return GRADES_AR[grade], "ar"
    return grade, "fr"
