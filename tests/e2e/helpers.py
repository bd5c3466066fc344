"""Helpers shared by the browser journeys."""

from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from tests.dossiers.conftest import BASIC  # noqa: F401 (the journeys upload these)
from tests.factories import PASSWORD

# The documents of a married affiliate's retirement dossier at the age limit (its required lines).


def off_loop(fn, *args, **kw):
    """Run ``fn`` on another thread: pyHanko calls asyncio.run, which cannot run on the thread where
    Playwright's loop runs. The thread's database connection is closed when it is done."""
    def call():
        from django.db import connections

        try:
            return fn(*args, **kw)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def login(context, base, username):
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("identity")).to_be_visible()
    return page
