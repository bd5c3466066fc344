"""Affiliate registry at scale: 1,000,000 affiliates on PostgreSQL, lookups through the HTTP API.

- Loads 1,000,000 generated affiliates into the database if it holds fewer (and times it).
- Starts a real server (gunicorn, one sync worker) on loopback against the same database.
- Exact lookups by CIN, PPR and affiliation number (normalised variants), and name searches
  (French and Arabic, some with a typo), with tokens of a collectivity manager (Tanger, the
  demo commune) and of a provincial office (Tanger-Assilah).

Targets: exact lookup p50 < 5 ms and p95 < 15 ms; name search p95 < 60 ms; load < 300 s.
Run: ``DATABASE_URL=postgres://.../eretraite_bench python -m bench affiliates``.
"""

import contextlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_COUNT = int(os.environ.get("BENCH_AFFILIATES", "1000000"))
LOAD_FILE = HERE / "results" / "affiliates_load.json"
EXACT_SAMPLES = 600
NAME_SAMPLES = 300


def _percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def _figures(ms):
    return {
        "p50_ms": round(_percentile(ms, 50), 2),
        "p95_ms": round(_percentile(ms, 95), 2),
        "p99_ms": round(_percentile(ms, 99), 2),
        "mean_ms": round(statistics.mean(ms), 2),
        "n": len(ms),
    }


def _ensure_data():
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import load_collectivities
    from affiliates import services
    from affiliates.models import Affiliate

    if connection.vendor != "postgresql":
        raise SystemExit("bench_affiliates needs PostgreSQL (DATABASE_URL).")
    call_command("migrate", verbosity=0)
    load_collectivities()
    present = Affiliate.objects.count()
    if present < TARGET_COUNT:
        print(f"  loading {TARGET_COUNT - present:,} affiliates (present: {present:,})", flush=True)
        figures = services.load_generated(TARGET_COUNT - present, seed=2026)
        with connection.cursor() as cursor:  # what autovacuum would do soon, not during the run
            for table in ("affiliate", "serviceperiod", "salaryrecord", "familymember"):
                cursor.execute(f"VACUUM ANALYZE affiliates_{table}")
            # Flush the load's dirty pages now rather than during the measurements (superuser only).
            with contextlib.suppress(Exception):
                cursor.execute("CHECKPOINT")
        figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        LOAD_FILE.parent.mkdir(exist_ok=True)
        LOAD_FILE.write_text(json.dumps(figures, indent=2))
        return figures, True
    previous = json.loads(LOAD_FILE.read_text()) if LOAD_FILE.exists() else None
    return previous, False


def _accounts():
    from accounts import api_tokens
    from accounts.models import Collectivity, User

    tanger = Collectivity.objects.get(code="01.511.01.0")
    province = Collectivity.objects.get(code="01.511")
    manager = User.objects.filter(
        role=User.Role.MANAGER, collectivity=tanger, is_active=True
    ).first()
    if manager is None:
        manager = User.objects.create(
            username="BENCH01",
            cin="BENCH01",
            role=User.Role.MANAGER,
            collectivity=tanger,
            full_name="Bench manager",
        )
    office, _ = User.objects.get_or_create(
        username="BENCH02",
        defaults={
            "cin": "BENCH02",
            "role": User.Role.PROVINCIAL_OFFICE,
            "collectivity": province,
            "full_name": "Bench office",
        },
    )
    return {
        "manager": (api_tokens.issue(manager, name="bench", scope="read")[1], [tanger.pk]),
        "provincial_office": (
            api_tokens.issue(office, name="bench", scope="read")[1],
            list(
                Collectivity.objects.filter(province=province, kind="commune").values_list(
                    "pk", flat=True
                )
            ),
        ),
    }


def _samples(collectivity_ids, rnd):
    from affiliates.models import Affiliate

    rows = list(
        Affiliate.objects.filter(collectivity_id__in=collectivity_ids)
        .order_by("?")
        .values_list(
            "cin",
            "ppr",
            "affiliation_number",
            "last_name_fr",
            "first_name_fr",
            "last_name_ar",
            "first_name_ar",
        )[: max(EXACT_SAMPLES, NAME_SAMPLES)]
    )
    exact = []
    for i, (cin, ppr, number, *_names) in enumerate(rows[:EXACT_SAMPLES]):
        kind = i % 3
        if kind == 0:
            q = rnd.choice([cin, cin.lower(), f"{cin[:2]} {cin[2:]}"])
        elif kind == 1:
            q = rnd.choice([ppr, "00" + ppr, f"{ppr[:3]} {ppr[3:]}"])
        else:
            q = rnd.choice([number, "0" + number])
        exact.append(q)
    names = []
    for i, (*_ids, last_fr, first_fr, last_ar, first_ar) in enumerate(rows[:NAME_SAMPLES]):
        kind = i % 4
        if kind == 0:
            q = f"{last_fr} {first_fr}"
        elif kind == 1:  # a typo: one letter dropped from the last name
            word = last_fr.split()[-1]
            j = rnd.randrange(1, len(word))
            q = f"{last_fr.replace(word, word[:j] + word[j + 1 :])} {first_fr}"
        elif kind == 2:
            q = f"{last_ar} {first_ar}"
        else:
            q = f"{first_fr} {last_fr}".lower()
        names.append(q)
    return exact, names


def _ids(collectivity_ids, rnd, n=200):
    from affiliates.models import Affiliate

    return list(
        Affiliate.objects.filter(collectivity_id__in=collectivity_ids)
        .order_by("?")
        .values_list("pk", flat=True)[:n]
    )


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(port):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DATABASE_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        # the load is many clients behind one token each: its rate limit is still checked, not reached
        "API_TOKEN_RATE": os.environ.get("API_TOKEN_RATE", "1000000/min"),
    }
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "eretraite.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=HERE.parent, env=env)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start")


def _get(port, token, path, params):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    url = path + "?" + urllib.parse.urlencode(params)
    started = time.perf_counter()
    conn.request(
        "GET", url, headers={"Authorization": f"Token {token}", "Accept": "application/json"}
    )
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return response.status, body, elapsed


def _run_queries(port, token, queries, check_one=False):
    times, errors, misses = [], 0, 0
    for q in queries:
        status, body, ms = _get(port, token, "/api/v1/affiliates/", {"q": q})
        if status != 200:
            errors += 1
            continue
        count = json.loads(body)["count"]
        if (check_one and count != 1) or count == 0:
            misses += 1
        times.append(ms)
    return times, errors, misses


def run():
    rnd = random.Random(2026)
    load, loaded_now = _ensure_data()
    accounts = _accounts()
    from django.db import connection

    connection.close()
    port = _free_port()
    proc = _start_server(port)
    try:
        results = {}
        for who, (token, collectivities) in accounts.items():
            exact, names = _samples(collectivities, rnd)
            # Warm up with one pass over the same queries (caches, connection, code paths): the
            # figures are the steady state, not the first requests after a bulk load.
            _run_queries(port, token, exact + names)
            e_times, e_err, e_miss = _run_queries(port, token, exact, check_one=True)
            n_times, n_err, n_miss = _run_queries(port, token, names)
            d_times = []
            for pk in _ids(collectivities, rnd):  # the situation through the API (audited)
                status, _body, ms = _get(port, token, f"/api/v1/affiliates/{pk}/eligibility/", {})
                if status == 200:
                    d_times.append(ms)
            results[who] = {
                "exact": _figures(e_times),
                "exact_errors": e_err,
                "exact_not_found": e_miss,
                "name": _figures(n_times),
                "name_errors": n_err,
                "name_not_found": n_miss,
                "eligibility": _figures(d_times),
            }
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    from affiliates.models import Affiliate

    figures = {"affiliates": Affiliate.objects.count()}
    if load:
        figures["generator_load_seconds"] = load["total_seconds"]
        figures["generator_rows_seconds"] = load["load_seconds"]
        figures["generator_index_seconds"] = load["index_seconds"]
        figures["generator_loaded"] = load["affiliates"]
        figures["generator_measured"] = (
            "this run" if loaded_now else load.get("measured_at", "earlier run")
        )
    for who, r in results.items():
        figures[f"{who}_exact_p50_ms"] = r["exact"]["p50_ms"]
        figures[f"{who}_exact_p95_ms"] = r["exact"]["p95_ms"]
        figures[f"{who}_name_p50_ms"] = r["name"]["p50_ms"]
        figures[f"{who}_name_p95_ms"] = r["name"]["p95_ms"]
        figures[f"{who}_eligibility_p50_ms"] = r["eligibility"]["p50_ms"]
        figures[f"{who}_eligibility_p95_ms"] = r["eligibility"]["p95_ms"]
        figures[f"{who}_exact_not_found"] = r["exact_not_found"] + r["exact_errors"]
        figures[f"{who}_name_not_found"] = r["name_not_found"] + r["name_errors"]
    figures["detail"] = results
    met = figures["affiliates"] >= TARGET_COUNT
    if load and load.get("affiliates", 0) >= TARGET_COUNT:
        met = met and load["total_seconds"] < 300
    for r in results.values():
        met = met and r["exact"]["p50_ms"] < 5 and r["exact"]["p95_ms"] < 15
        met = met and r["name"]["p95_ms"] < 60
        met = met and r["exact_not_found"] == 0 and r["exact_errors"] == 0 and r["name_errors"] == 0
    figures["targets"] = "exact p50<5ms p95<15ms; name p95<60ms; 1M load <300s"
    figures["targets_met"] = met
    return figures
