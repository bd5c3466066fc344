"""The API's reference page works offline: its viewer comes from the project's own static files."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_nothing_from_another_host(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert not re.search(r'(src|href)="https?://', page)
    scripts = re.findall(r'<script src="/static/([^"]+)"', page)
    assert "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in scripts
    for script in scripts:
        assert finders.find(script), script
    policy = response.headers["Content-Security-Policy"]
    assert "cdn" not in policy and "googleapis" not in policy
    assert 'data-schema-url="/api/schema/"' in page
    assert client.get("/api/schema/").status_code == 200
