"""Content-Security-Policy: scripts only from this site, none inline, on every page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import ManagerFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_carries_an_inline_script_or_handler():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or HANDLER_ATTRIBUTE.search(text) or "javascript:" in text:
            found.append(str(path.relative_to(TEMPLATES)))
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["login", "home", "dossiers:list", "affiliates:search", "security"])
def test_every_page_sends_the_policy(client, url):
    if url != "login":
        client.force_login(ManagerFactory())
    answer = client.get(reverse(url))
    policy = answer["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and "unsafe" not in directives["script-src"]
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "<script>" not in answer.content.decode()
