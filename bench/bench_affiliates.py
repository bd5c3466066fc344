"""Affiliate registry at scale: 1,000,000 affiliates on PostgreSQL, lookups through the HTTP API.

- Loads 1,000,000 generated affiliates into the database if it holds fewer (and times it).
- Starts a real server (gunicorn, two sync workers, not DEBUG) on loopback against the same database.
- Exact lookups by CIN, PPR and affiliation number (normalised variants), and name searches of six
  kinds (French: full, with a slip, first name first, partial; Arabic: full, partial with the
  article), with tokens of a commune's manager (Tanger, the demo commune), a provincial office
  (Tanger-Assilah) and a CMR agent (the whole country), over HTTP (p50, p95, p99), beside the same
  searches' SQL timed by PostgreSQL itself (EXPLAIN ANALYZE), and the ratio.

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
    """Three readers: a commune's manager (Tanger, the demo commune), a provincial office
    (Tanger-Assilah) and a CMR agent, who sees the whole country. Each with a read token."""
    from accounts import api_tokens
    from accounts.models import Collectivity, User

    tanger = Collectivity.objects.get(code="01.511.01.0")
    province = Collectivity.objects.get(code="01.511")

    def account(username, role, collectivity):
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"cin": username, "role": role, "collectivity": collectivity,
                      "full_name": f"Bench {role}"},
        )
        return user

    manager = account("BENCH01", User.Role.MANAGER, tanger)
    office = account("BENCH02", User.Role.PROVINCIAL_OFFICE, province)
    agent = account("BENCH03", User.Role.CMR_AGENT, None)
    communes = list(Collectivity.objects.filter(province=province, kind="commune").values_list("pk", flat=True))
    return {
        "commune": (manager, api_tokens.issue(manager, name="bench", scope="read")[1], [tanger.pk]),
        "province": (office, api_tokens.issue(office, name="bench", scope="read")[1], communes),
        "national": (agent, api_tokens.issue(agent, name="bench", scope="read")[1], None),
    }


NAME_KINDS = ("full_fr", "typo_fr", "reversed_fr", "partial_fr", "full_ar", "partial_ar")


def _name_query(kind, last_fr, first_fr, last_ar, first_ar, rnd):
    if kind == "full_fr":
        return f"{last_fr} {first_fr}"
    if kind == "typo_fr":  # one letter dropped from the last name
        word = max(last_fr.split(), key=len)
        j = rnd.randrange(1, len(word))
        return f"{last_fr.replace(word, word[:j] + word[j + 1 :])} {first_fr}"
    if kind == "reversed_fr":
        return f"{first_fr} {last_fr}".lower()
    if kind == "partial_fr":  # the first four letters of the last name's main word
        return max(last_fr.split(), key=len)[:4]
    if kind == "full_ar":
        return f"{last_ar} {first_ar}"
    # partial Arabic: the article (when the name has it) and three or four letters after it
    word = max(last_ar.split(), key=len)
    return word[:5] if word.startswith("ال") else word[:4]


def _samples(collectivity_ids, rnd):
    from affiliates.models import Affiliate

    qs = Affiliate.objects.all()
    if collectivity_ids is not None:
        qs = qs.filter(collectivity_id__in=collectivity_ids)
    # A random sample without ORDER BY random() over a million rows: random ids, then those that exist.
    top = qs.order_by("-id").values_list("id", flat=True).first() or 0
    picks = sorted({rnd.randint(1, top) for _ in range(20 * EXACT_SAMPLES)}) if collectivity_ids is None else None
    if picks is not None:
        qs = qs.filter(id__in=picks)
    rows = list(
        qs.order_by("?").values_list(
            "cin", "ppr", "affiliation_number", "last_name_fr", "first_name_fr", "last_name_ar", "first_name_ar",
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
    names = {kind: [] for kind in NAME_KINDS}
    for i, (*_ids, last_fr, first_fr, last_ar, first_ar) in enumerate(rows[:NAME_SAMPLES]):
        kind = NAME_KINDS[i % len(NAME_KINDS)]
        names[kind].append(_name_query(kind, last_fr, first_fr, last_ar, first_ar, rnd))
    return exact, names


def _database_floor(user, queries):
    """The same searches run straight in PostgreSQL: the SQL each search runs, captured, then timed
    by the database itself (EXPLAIN ANALYZE: planning and execution), summed per search."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from affiliates.selectors import search_affiliates

    floors = []
    for q in queries:
        connection.queries_log.clear()  # the log keeps 9,000 queries: a capture past it reads nothing
        with CaptureQueriesContext(connection) as captured:
            search_affiliates(user, q)
        total = 0.0
        with connection.cursor() as cursor:
            for sql in (c["sql"] for c in captured.captured_queries):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                total += plan["Planning Time"] + plan["Execution Time"]
        floors.append(total)
    return floors


def _ids(collectivity_ids, rnd, n=200):
    from affiliates.models import Affiliate

    qs = Affiliate.objects.all()
    if collectivity_ids is not None:
        return list(qs.filter(collectivity_id__in=collectivity_ids).order_by("?").values_list("pk", flat=True)[:n])
    top = qs.order_by("-id").values_list("id", flat=True).first() or 0
    return list(qs.filter(id__in={rnd.randint(1, top) for _ in range(2 * n)}).values_list("pk", flat=True)[:n])


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
        "2",
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
    samples = {who: _samples(collectivities, rnd) for who, (_u, _t, collectivities) in accounts.items()}
    floors = {}
    for who, (user, _token, _c) in accounts.items():
        exact, names = samples[who]
        floors[who] = {"exact": _database_floor(user, exact[:150])}
        floors[who].update({kind: _database_floor(user, qs) for kind, qs in names.items()})
    from django.db import connection

    connection.close()
    port = _free_port()
    proc = _start_server(port)
    try:
        results = {}
        for who, (_user, token, collectivities) in accounts.items():
            exact, names = samples[who]
            # Warm up with one pass over the same queries (caches, connection, code paths): the
            # figures are the steady state, not the first requests after a bulk load.
            _run_queries(port, token, exact + [q for qs in names.values() for q in qs])
            e_times, e_err, e_miss = _run_queries(port, token, exact, check_one=True)
            result = {"exact": _figures(e_times), "exact_errors": e_err, "exact_not_found": e_miss,
                      "exact_database": _figures(floors[who]["exact"])}
            for kind, queries in names.items():
                n_times, n_err, n_miss = _run_queries(port, token, queries)
                result[f"name_{kind}"] = _figures(n_times)
                result[f"name_{kind}_database"] = _figures(floors[who][kind])
                result[f"name_{kind}_errors"] = n_err
                result[f"name_{kind}_not_found"] = n_miss
            d_times = []
            for pk in _ids(collectivities, rnd):  # the situation through the API (audited)
                status, _body, ms = _get(port, token, f"/api/v1/affiliates/{pk}/eligibility/", {})
                if status == 200:
                    d_times.append(ms)
            result["eligibility"] = _figures(d_times)
            results[who] = result
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    from affiliates.models import Affiliate, NameWord

    figures = {"affiliates": Affiliate.objects.count(), "name_forms": NameWord.objects.count(),
               "load_average": os.getloadavg()}
    if load:
        figures["generator_load_seconds"] = load["total_seconds"]
        figures["generator_rows_seconds"] = load["load_seconds"]
        figures["generator_index_seconds"] = load["index_seconds"]
        figures["generator_loaded"] = load["affiliates"]
        figures["generator_measured"] = (
            "this run" if loaded_now else load.get("measured_at", "earlier run")
        )
    met = figures["affiliates"] >= TARGET_COUNT
    if load and load.get("affiliates", 0) >= TARGET_COUNT:
        met = met and load["total_seconds"] < 300
    for who, r in results.items():
        api, db = r["exact"], r["exact_database"]
        figures[f"{who}_exact"] = (f"p50 {api['p50_ms']} p95 {api['p95_ms']} p99 {api['p99_ms']} ms; "
                                   f"database p50 {db['p50_ms']} p95 {db['p95_ms']}; "
                                   f"ratio p50 {api['p50_ms'] / max(db['p50_ms'], 0.01):.1f}")
        met = met and api["p50_ms"] < 5 and api["p95_ms"] < 15
        met = met and r["exact_not_found"] == 0 and r["exact_errors"] == 0
        for kind in NAME_KINDS:
            api, db = r[f"name_{kind}"], r[f"name_{kind}_database"]
            figures[f"{who}_name_{kind}"] = (
                f"p50 {api['p50_ms']} p95 {api['p95_ms']} p99 {api['p99_ms']} ms; "
                f"database p50 {db['p50_ms']} p95 {db['p95_ms']}; "
                f"ratio p95 {api['p95_ms'] / max(db['p95_ms'], 0.01):.1f}; "
                f"not found {r[f'name_{kind}_not_found']}"
            )
            met = met and api["p95_ms"] < 60 and r[f"name_{kind}_errors"] == 0
        figures[f"{who}_eligibility"] = f"p50 {r['eligibility']['p50_ms']} p95 {r['eligibility']['p95_ms']} ms"
    figures["detail"] = results
    figures["targets"] = "exact p50<5ms p95<15ms; name p95<60ms (every kind, every scope); 1M load <300s"
    figures["targets_met"] = met
    return figures
