"""Hostile workbooks: each class is read in a subprocess under a memory limit, and must be answered
(refused with a message in French and Arabic, or read as it really is) in under 2 s and 200 MB.

The subprocess is the portal's own reader (``accounts.designation.read_workbook``, virus scan
included) on the bytes an attacker would upload; its address space is capped at what it had after
start-up plus 256 MB, so a reader that tried to hold a 400 MB cell would die, not pass.
"""

import io
import json
import os
import random
import re
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.accounts.sheets import officer, workbook

ROOT = Path(__file__).resolve().parents[2]
MEMORY_BOUND_MB = 200
TIME_BOUND_S = 2.0

PROBE = r"""
import json, os, resource, sys, time
import django
django.setup()
from django.utils import translation
from accounts.designation import SpreadsheetError, read_workbook

data = open(sys.argv[1], "rb").read()


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024


resource.setrlimit(resource.RLIMIT_AS, (status("VmSize") + 256 * 1024 * 1024, resource.RLIM_INFINITY))
try:  # the peak (VmHWM) starts again from the resident size now: what the reading adds is measured
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = status("VmRSS")
started = time.monotonic()
result = {}
try:
    rows = read_workbook(data)
    result["rows"] = len(rows)
    result["defects"] = sum(1 for r in rows if r.get("defects"))
    result["longest"] = max((len(str(v)) for r in rows for v in r.values()), default=0)
except SpreadsheetError as exc:
    for language in ("fr", "ar"):
        with translation.override(language):
            result[language] = " ".join(str(m) for m in exc.messages)
except MemoryError:
    result["memory_error"] = True
result["seconds"] = time.monotonic() - started
result["grew_mb"] = (status("VmHWM") - before) / (1024 * 1024)
print(json.dumps(result))
"""


def probe(tmp_path, data: bytes, settings) -> dict:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(data)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "eretraite.settings", "CLAMAV_URL": settings.CLAMAV_URL,
           "DESIGNATION_MAX_ROWS": str(settings.DESIGNATION_MAX_ROWS)}
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def repack(data: bytes, change=None, extra=()) -> bytes:
    """The workbook's zip with its XML members changed by ``change(name, text)`` and ``extra`` members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if change and item.filename.endswith(".xml"):
                content = change(item.filename, content.decode()).encode()
            target.writestr(item.filename, content)
        for name, content in extra:
            target.writestr(name, content)
    return out.getvalue()


MARKER = "<t>Officier Num&#233;ro 7</t>"  # a cell of the sheet as openpyxl writes it (an inline string)


def huge_cell(data: bytes, megabytes: int) -> bytes:
    """One cell of ``megabytes`` MB, streamed into the sheet's part (a few hundred KB packed)."""
    out = io.BytesIO()
    chunk = b"A" * (1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                head, _sep, tail = content.decode().partition(MARKER)
                with target.open(item.filename, "w", force_zip64=True) as stream:
                    stream.write(head.encode() + b"<t>")
                    for _ in range(megabytes):
                        stream.write(chunk)
                    stream.write(b"</t>" + tail.encode())
            else:
                target.writestr(item.filename, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def in_sheet(text_change):
    return lambda name, text: text_change(text) if name.startswith("xl/worksheets/") else text


@pytest.fixture
def sheet():
    return workbook([officer(n) for n in range(1, 301)])


def assert_refused(result, fr, ar):
    assert fr in result.get("fr", ""), result
    assert ar in result.get("ar", ""), result


def assert_bounded(result):
    assert not result.get("memory_error"), result
    assert result["seconds"] < TIME_BOUND_S, result
    assert result["grew_mb"] < MEMORY_BOUND_MB, result


def test_a_sheet_claiming_every_column_and_row_is_read_as_it_is(tmp_path, settings, sheet):
    data = repack(sheet, in_sheet(lambda t: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:XFD1048576"', t)))
    assert len(data) < 40_000
    result = probe(tmp_path, data, settings)
    assert result["rows"] == 300 and result["defects"] == 0
    assert_bounded(result)


def test_a_value_in_the_last_cell_of_the_grid_is_refused_as_too_many_rows(tmp_path, settings, sheet):
    last = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    data = repack(sheet, in_sheet(lambda t: t.replace("</sheetData>", last)))
    result = probe(tmp_path, data, settings)
    assert_refused(result, "plus de 5000 lignes", "5000")
    assert_bounded(result)


@pytest.mark.parametrize("megabytes", [400, 21])
def test_one_huge_cell_is_refused_before_it_is_read(tmp_path, settings, sheet, megabytes):
    data = huge_cell(sheet, megabytes)
    assert len(data) < 1_000_000
    result = probe(tmp_path, data, settings)
    assert_refused(result, "anormalement volumineux", "كبير بشكل غير عادي")
    assert_bounded(result)


def test_a_long_incompressible_cell_refuses_its_row_and_is_not_kept(tmp_path, settings, sheet):
    noise = "".join(random.Random(3).choices(string.ascii_letters, k=3 * 1024 * 1024))
    data = repack(sheet, in_sheet(lambda t: t.replace(MARKER, f"<t>{noise}</t>", 1)))
    assert len(data) < settings.DESIGNATION_MAX_BYTES
    result = probe(tmp_path, data, settings)
    assert result["rows"] == 300 and result["defects"] == 1
    assert result["longest"] < 200  # only the beginning of the cell is kept
    assert_bounded(result)


def test_a_workbook_of_thousands_of_parts_is_refused(tmp_path, settings, sheet):
    data = repack(sheet, extra=[(f"xl/media/part{n}.bin", b"x") for n in range(5000)])
    result = probe(tmp_path, data, settings)
    assert_refused(result, "parties", "جزءا")
    assert_bounded(result)


def test_a_highly_compressed_part_is_refused(tmp_path, settings, sheet):
    data = repack(sheet, extra=[("xl/media/image1.png", b"\0" * (8 * 1024 * 1024))])
    assert len(data) < 100_000
    result = probe(tmp_path, data, settings)
    assert_refused(result, "anormalement volumineux", "كبير بشكل غير عادي")
    assert_bounded(result)


def test_entity_expansion_is_refused(tmp_path, settings, sheet):
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;'
              '&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'
              '&lol2;&lol2;">]>')
    data = repack(sheet, in_sheet(lambda t: laughs + t.replace(MARKER, "<t>&lol3;</t>", 1)))
    result = probe(tmp_path, data, settings)
    assert_refused(result, "classeur Excel", "Excel")
    assert_bounded(result)
