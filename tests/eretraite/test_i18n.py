"""French and Arabic everywhere: browser default, a switcher that remembers, RTL, complete catalogues."""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)


def msgids(path):
    """The msgids of a .po file, wrapped lines joined."""
    ids, current = set(), None
    for line in path.read_text().splitlines():
        if line.startswith("msgid "):
            current = [line[len("msgid "):].strip()[1:-1]]
        elif line.startswith('"') and current is not None:
            current.append(line.strip()[1:-1])
        else:
            if current is not None and "".join(current):
                ids.add("".join(current))
            current = None
    return ids


def test_browser_language_is_the_default(client):
    ar = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ar-MA,ar;q=0.9").content.decode()
    assert '<html lang="ar" dir="rtl">' in ar and "bootstrap.rtl.min.css" in ar and "تسجيل الدخول" in ar
    fr = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="fr" dir="ltr">' in fr and "bootstrap.min.css" in fr and "Se connecter" in fr
    # A language we do not offer falls back to French.
    assert '<html lang="fr"' in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_switcher_remembers_the_choice_over_the_browser_language(client):
    response = client.post(reverse("set_language"), {"language": "ar", "next": reverse("login")},
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] >= 30 * 24 * 3600
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'dir="rtl"' in page


def test_assets_are_served_locally_no_cdn(client):
    page = client.get(reverse("login")).content.decode()
    assert not re.search(r'(src|href)="https?://', page)
    for asset in ("vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap/bootstrap.rtl.min.css",
                  "vendor/bootstrap/bootstrap.bundle.min.js", "vendor/htmx/htmx.min.js"):
        assert (ROOT / "static" / asset).stat().st_size > 10_000


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_catalogue_is_complete_and_compiled(lang, tmp_path):
    po = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    text = po.read_text()
    # Every message translated, nothing fuzzy.
    entries = re.split(r"\n\n", text.split("\n\n", 1)[1])
    untranslated = [e for e in entries if re.search(r'^msgstr(\[\d\])? ""\n?$', e, re.M) and not re.search(
        r'^msgstr(\[\d\])? ""\n"', e, re.M)]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:3]}"
    assert "#, fuzzy" not in text
    # The committed .mo matches the .po.
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)
    assert fresh.read_bytes() == mo.read_bytes(), "run `make messages` and commit the .mo"


def test_every_source_string_is_in_the_catalogue(tmp_path):
    """makemessages finds nothing new: no string was added without its translation."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "var", "node_modules",
                                                               "__pycache__", "*.sqlite3", "bench", "tests"))
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", "makemessages", "-l", "fr",
                    "--no-obsolete", "--no-location", "--ignore", ".venv/*"],
                   cwd=copy, check=True, capture_output=True)
    ids = msgids(copy / "locale/fr/LC_MESSAGES/django.po")
    known = msgids(ROOT / "locale/fr/LC_MESSAGES/django.po")
    assert ids <= known, f"untranslated new strings: {sorted(ids - known)[:10]}"
