"""A SoftHSM2 token holding a test-PKI officer's key and certificate, as a class-3 token would.

One SoftHSM2 configuration and one token per test process (``SOFTHSM2_CONF`` must be set before the
library is first loaded, and the library sees no token created after it loaded); each test PKI (every
tests folder builds its own) puts its officer's key and certificate on it under their own label:
``softhsm_token(pki)`` -> ``{"lib", "label", "pin", "key_label"}``, made once and reused.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
_TOKENS: dict = {}
_HOME: list = []


LABEL, PIN = "eretraite-test", "1234"


def _home() -> Path:
    if not _HOME:
        home = Path(tempfile.mkdtemp(prefix="softhsm-"))
        (home / "tokens").mkdir()
        conf = home / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\n"
                        "log.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)  # before the library is first loaded in this process
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--so-pin", "87654321",
                        "--pin", PIN], check=True, capture_output=True, env=os.environ)
        _HOME.append(home)
    return _HOME[0]


def softhsm_token(pki, cin="AB123456") -> dict:
    """The token of officer ``cin`` of this test PKI (``tests.pki.PkiFiles``)."""
    key = (str(pki.directory), cin)
    if key in _TOKENS:
        return _TOKENS[key]
    for tool in ("softhsm2-util", "pkcs11-tool"):
        assert shutil.which(tool), f"{tool} is required (apt: softhsm2, opensc)"
    home = _home()
    number = len(_TOKENS) + 1
    label, pin, key_label, key_id = LABEL, PIN, f"officer-{number}", f"{number:02x}"
    cred = pki.credential(cin)
    name = next(n for n, c in pki.pki.officers.items() if c is cred)
    cert_der = home / f"{key_label}.der"
    cert_der.write_bytes(cred.cert.public_bytes(Encoding.DER))
    commands = [
        ["softhsm2-util", "--import", str(pki.directory / f"keys/{name}.key.pem"),
         "--token", label, "--label", key_label, "--id", key_id, "--pin", pin],
        ["pkcs11-tool", "--module", SOFTHSM_LIB, "--token-label", label, "--login", "--pin", pin,
         "--write-object", str(cert_der), "--type", "cert", "--id", key_id, "--label", key_label],
    ]
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, env=os.environ)
    _TOKENS[key] = {"lib": SOFTHSM_LIB, "label": label, "pin": pin, "key_label": key_label}
    return _TOKENS[key]
