"""`make test` on a fresh machine: the system packages the tests need come from one script, the same
one `.ci/run` calls; without root (or without apt-get) it names them and stops, never half-runs."""

import os
import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "system-packages"
PACKAGES = ["gettext", "chromium", "softhsm2", "opensc", "clamav-daemon"]


def run(env):
    return subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)


def test_a_machine_without_the_packages_is_told_which_to_install():
    done = run({"SYSTEM_PACKAGES_PATH": "/nonexistent"})  # no program found, no apt-get either
    assert done.returncode == 1
    for package in PACKAGES:
        assert package in done.stderr
    assert "apt-get install " + " ".join(PACKAGES) in done.stderr


def test_this_machine_has_them():
    done = run({})
    assert done.returncode == 0, done.stderr


def test_make_test_and_ci_call_the_same_script_before_the_tests():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^test:.*?\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert recipe.index("scripts/system-packages") < recipe.index("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("scripts/system-packages") < ci.rindex("make test")
    assert "apt-get install" not in ci  # nothing installed by .ci/run alone
