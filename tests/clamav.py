"""A real clamd for the tests, with a signature database the tests make themselves: ClamAV's
signature servers cannot be reached from here, so the database holds one body signature, EICAR's
test string, matched anywhere in any file (a PDF carrying it included)."""

import shutil
import subprocess
import time

import pytest

# The EICAR anti-virus test file (harmless by design; every scanner is meant to report it).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eretraite.Test.EICAR"


def start_clamd(directory):
    """Start clamd on a private socket in ``directory``; returns (process, CLAMAV_URL)."""
    binary = shutil.which("clamd") or "/usr/sbin/clamd"
    if not shutil.which(binary):
        pytest.fail("clamd is not installed: apt-get install clamav-daemon (.ci/run does)")
    database = directory / "db"
    database.mkdir(parents=True, exist_ok=True)
    (database / "eretraite-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    socket_path = directory / "clamd.sock"
    config = directory / "clamd.conf"
    config.write_text("\n".join([
        "Foreground yes", f"LocalSocket {socket_path}", f"DatabaseDirectory {database}",
        f"LogFile {directory / 'clamd.log'}", "StreamMaxLength 40M", "MaxThreads 4", "SelfCheck 0", ""]))
    process = subprocess.Popen([binary, f"--config-file={config}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = (directory / "clamd.log").read_text() if (directory / "clamd.log").exists() else ""
            pytest.fail(f"clamd did not start: {log[-2000:]}")
        time.sleep(0.1)
    return process, f"unix://{socket_path}"


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
