"""Strings of Django itself whose translation the project corrects (its own catalogue is searched first).

Django's Arabic catalogue puts a Latin comma in this sentence of the admin; marked here so that our
catalogue holds it with Arabic punctuation.
"""

from django.utils.translation import gettext_noop

CORRECTED = [
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
]
