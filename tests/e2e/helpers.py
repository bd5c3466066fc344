"""Helpers shared by the browser journeys."""

from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from accounts.models import User
from tests.dossiers.conftest import BASIC  # noqa: F401 (the journeys upload these)
from tests.factories import PASSWORD
from tests.otp import code_for, code_from_secret, enrolled

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
    pass_second_factor(page, username)
    expect(page.get_by_test_id("identity")).to_be_visible()
    return page


def pass_second_factor(page, username):
    """After the password: enrol the account's application on the page if asked (reading the key it
    prints, as a phone would), or type its current code."""
    page.wait_for_load_state()
    if "/security/second-factor/setup/" in page.url:
        page.fill("#id_code", code_from_secret(page.get_by_test_id("secret").inner_text()))
        page.click("main button[type=submit]")
        page.get_by_test_id("codes-done").click()
    elif "/security/second-factor/verify/" in page.url:
        page.fill("#id_code", off_loop(lambda: code_for(enrolled(User.objects.get(username=username)))))
        page.click("main button[type=submit]")
