"""The DGCT imports the designation table in a real browser, in Arabic and French: one row holds a
formula and is refused alone; the mail server is down at confirmation, the page says which e-mails
failed; once it is back, "send again" delivers one link to each officer."""


import pytest
from playwright.sync_api import expect

from tests.accounts.sheets import officer, workbook
from tests.accounts.test_designation import unique_communes
from tests.e2e.helpers import login, off_loop
from tests.factories import DgctAdminFactory
from tests.smtp import MailServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("locale", ["ar-MA", "fr-FR"])
def test_the_dgct_imports_officers_while_the_mail_server_is_down(browser, live_server, locale, settings, shot,
                                                                tmp_path):
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    DgctAdminFactory(username="dgct", full_name="Nadia Alaoui", is_superuser=True)
    names = off_loop(unique_communes, 8)

    def formula(ws):
        ws["B5"] = '=CONCATENATE("BE","100004")'

    upload = tmp_path / "designations.xlsx"
    upload.write_bytes(workbook([officer(n, collectivity=c) for n, c in enumerate(names, start=1)],
                                before_save=formula))
    arabic = locale.startswith("ar")
    page = login(browser.new_context(locale=locale), live_server.url, "dgct")
    page.goto(f"{live_server.url}/admin/accounts/designationimport/upload/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if arabic else "ltr")
    page.set_input_files("input[type=file]", str(upload))
    page.locator("#content form [type=submit]").first.click()
    rows = page.get_by_test_id("rows")
    expect(rows.locator("tr.row-error")).to_have_count(1)
    expect(rows.locator("tr[data-line='5']")).to_contain_text("B5")
    shot(page, f"designation-preview-{locale}")
    page.locator("#content form input.default").click()
    expect(page.get_by_test_id("emails")).to_contain_text("7")
    expect(rows.locator("td.mail-failed")).to_have_count(7)
    shot(page, f"designation-mail-down-{locale}")

    server = MailServer(port).start()
    try:
        page.get_by_role("button", name="أعد الآن إرسال الرسائل التي فشلت" if arabic
                         else "Renvoyer maintenant les e-mails en échec").click()
        expect(rows.locator("td.mail-failed")).to_have_count(0)
        expect(page.get_by_test_id("emails")).to_contain_text(
            "7 سُلّمت إلى خادم البريد" if arabic else "7 remis au serveur de messagerie")
        shot(page, f"designation-delivered-{locale}")
        assert sorted(server.recipients()) == sorted(f"rh{n}@commune.ma" for n in range(1, 9) if n != 4)
    finally:
        server.stop()
    page.context.close()
