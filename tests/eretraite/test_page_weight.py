"""What the heaviest pages of a collectivity officer weigh on the wire: each page with every static asset
it references (styles, scripts, icon, and what the styles load), each gzip-compressed as the proxy and
WhiteNoise send them, must stay under PAGE_BUDGET in both languages (these offices may have slow
lines), and nothing may point to another host. ``pytest -s`` prints the figures."""

import gzip
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from dossiers import services
from tests.affiliates.factories import AffiliateFactory
from tests.dossiers.conftest import BASIC, affiliate, fill, officers  # noqa: F401
from tests.pki import pki, pki_settings, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 150 * 1024  # compressed bytes: the page and all it loads
URLS = re.compile(r'\b(?:src|href|action|srcset|poster|data-url)\s*=\s*["\']([^"\']*)["\']', re.I)
HX_GET = re.compile(r'\bhx-get\s*=\s*["\']([^"\']*)["\']', re.I)  # loaded after the page: part of it
CSS_URLS = re.compile(r'url\(\s*["\']?([^"\')]+)["\']?\s*\)', re.I)


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def foreign(url: str) -> bool:
    """A URL that leads to another host (an absolute or protocol-relative address)."""
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in ("", "data", "mailto", "tel")


def static_file(url: str) -> bytes:
    path = urlsplit(url).path
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    assert path.startswith(prefix), url
    found = finders.find(path[len(prefix):])
    assert found, f"{url} is referenced but not a static file"
    with open(found, "rb") as f:
        return f.read()


def weigh(client, url, lang):
    """(html bytes, compressed html, {asset: compressed size}, other hosts referenced)."""
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, url
    html = response.content
    text = html.decode()
    for extra in HX_GET.findall(text):  # a block the page loads after itself counts with it
        more = client.get(urljoin(url, extra), HTTP_ACCEPT_LANGUAGE=lang)
        assert more.status_code == 200
        html += more.content
        text += more.content.decode()
    refs = set(URLS.findall(text))
    elsewhere = sorted(u for u in refs if foreign(u))
    assets, queue = {}, sorted(u for u in refs if u.startswith("/" + settings.STATIC_URL.lstrip("/")))
    while queue:
        asset = queue.pop()
        if asset in assets:
            continue
        data = static_file(asset)
        assets[asset] = gz(data)
        if asset.endswith(".css"):
            for ref in CSS_URLS.findall(data.decode("utf-8", "replace")):
                if ref.startswith("data:"):
                    continue
                if foreign(ref):
                    elsewhere.append(f"{asset}: {ref}")
                else:
                    queue.append(urljoin(asset, ref))
    return len(html), gz(html), assets, elsewhere


@pytest.fixture
def heavy(officers, affiliate, signed_pdf):  # noqa: F811
    """A commune with a full page of search results and a dossier whose every document is in."""
    _manager, agent = officers
    for n in range(30):
        AffiliateFactory(last_name_fr=f"Bennani{n}", first_name_fr="Fatima")
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(agent, dossier, signed_pdf, BASIC)
    services.add_observation(agent, dossier.pk, "Dossier complet, à certifier.")
    return agent, affiliate, dossier


def test_the_heaviest_pages_stay_light_and_local(client, heavy):
    agent, person, dossier = heavy
    client.force_login(agent)
    pages = {
        "home": reverse("home"),
        "search results": reverse("affiliates:search") + "?q=Fatima",
        "situation": reverse("affiliates:situation", args=[person.pk]),
        "dossier": reverse("dossiers:detail", args=[dossier.pk]),
        "portfolio": reverse("dossiers:list"),
    }
    rows, over, foreign_urls = [], [], []
    for lang in ("fr", "ar"):
        for name, url in pages.items():
            raw, html_gz, assets, elsewhere = weigh(client, url, lang)
            total = html_gz + sum(assets.values())
            rows.append((name, lang, raw, html_gz, len(assets), sum(assets.values()), total))
            if total >= PAGE_BUDGET:
                over.append((name, lang, total))
            foreign_urls += [(name, lang, u) for u in elsewhere]
    print(f"\n{'page':<16}{'lang':<6}{'HTML':>9}{'HTML gz':>10}{'assets':>8}{'assets gz':>11}{'total gz':>10}")
    for name, lang, raw, html_gz, n, assets_gz, total in rows:
        print(f"{name:<16}{lang:<6}{raw / 1024:>8.1f}K{html_gz / 1024:>9.1f}K{n:>8}{assets_gz / 1024:>10.1f}K"
              f"{total / 1024:>9.1f}K")
    assert not foreign_urls, foreign_urls
    assert not over, f"over {PAGE_BUDGET // 1024} KB compressed: {over}"


def test_the_icon_is_served(client):
    page = client.get(reverse("login")).content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert static_file(icon).startswith(b"<svg")
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"] == icon
