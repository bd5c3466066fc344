"""Arabic date formats as Moroccan administrations write them: day first, 24-hour clock.

Django's Arabic locale defines no date-time formats, so pages fell back to the US default
("11/23/2026 7:15 م"); what this module does not define still comes from Django's.
"""

DATETIME_FORMAT = "j F Y، H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
TIME_FORMAT = "H:i"
