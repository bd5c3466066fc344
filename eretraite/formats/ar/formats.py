"""Arabic date formats as Moroccan administrations write them: day first, 24-hour clock.

Django's Arabic locale defines no date-time formats, so pages fell back to the US default
("11/23/2026 7:15 م"); what this module does not define still comes from Django's.
"""

DATE_FORMAT = "j F Y"  # 1 دجنبر 2026: no comma before the year (Django writes "j F، Y")
DATETIME_FORMAT = "j F Y، H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
TIME_FORMAT = "H:i"

# Amounts grouped by thousands, as Moroccan administrations print them (12.345,60); Django's Arabic
# locale sets the separators but no grouping.
NUMBER_GROUPING = 3
