from tests.pki import pki, pki_settings, signed_pdf  # noqa: F401
