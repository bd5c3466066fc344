"""Command line of the mock back office, shared by ``python -m cmr.mock`` and ``run_cmr_mock``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from cmr import rules

from . import faults as faults_mod

ENV_HELP = """environment (flags win):
  CMR_MOCK_HOST, CMR_MOCK_PORT, CMR_MOCK_DATA_DIR
  CMR_MOCK_CALLBACK_URL          where stage changes are POSTed (the portal's /cmr/callbacks/)
  CMR_CALLBACK_SECRET            HMAC-SHA256 secret shared with the portal
  CMR_MOCK_ADMIN_TOKEN           enables /admin/* (Authorization: Bearer TOKEN)
  CMR_MOCK_AUTO_ADVANCE_SECONDS  demo timer: move each dossier one stage every N seconds
  CMR_MOCK_KEEP_FILES            store the received PDFs (default true)
  CMR_MOCK_CALLBACK_TIMEOUT, CMR_MOCK_CALLBACK_MAX_ATTEMPTS, CMR_MOCK_CALLBACK_BACKOFF_BASE,
  CMR_MOCK_CALLBACK_BACKOFF_CAP, CMR_MOCK_CALLBACK_POLL_SECONDS
faults (also POST /admin/faults):
  CMR_MOCK_DOWN, CMR_MOCK_DOWN_MODE (503|drop), CMR_MOCK_DOWN_FOR_SECONDS, CMR_MOCK_ERROR_RATE,
  CMR_MOCK_TIMEOUT_RATE, CMR_MOCK_TIMEOUT_SECONDS, CMR_MOCK_BAD_ANSWER_RATE, CMR_MOCK_LATENCY_MS,
  CMR_MOCK_DUPLICATE_CALLBACKS, CMR_MOCK_SEED
"""


def _env_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def add_serve_arguments(parser: argparse.ArgumentParser,
                        defaults: Mapping[str, Any] | None = None) -> None:
    """The serve options; ``defaults`` (e.g. from Django settings) come after the environment."""
    env = os.environ
    d = dict(defaults or {})

    def pick(env_name: str, key: str, fallback: Any) -> Any:
        if env.get(env_name, "") != "":
            return env[env_name]
        return d.get(key, fallback) if d.get(key) not in (None, "") else fallback

    parser.add_argument("--host", default=pick("CMR_MOCK_HOST", "host", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(pick("CMR_MOCK_PORT", "port", 8001)),
                        help="0 picks a free port (printed)")
    parser.add_argument("--data-dir", default=pick("CMR_MOCK_DATA_DIR", "data_dir", "var/cmr_mock"))
    parser.add_argument("--callback-url",
                        default=pick("CMR_MOCK_CALLBACK_URL", "callback_url", ""))
    parser.add_argument("--secret", default=pick("CMR_CALLBACK_SECRET", "secret", ""),
                        help="HMAC secret shared with the portal (CMR_CALLBACK_SECRET)")
    parser.add_argument("--admin-token", default=pick("CMR_MOCK_ADMIN_TOKEN", "admin_token", ""))
    parser.add_argument("--api-token", default=pick("CMR_MOCK_API_TOKEN", "api_token", ""),
                        help="the bearer token the portal must send (its CMR_API_TOKEN); empty: none asked")
    parser.add_argument("--auto-advance", type=float,
                        default=float(pick("CMR_MOCK_AUTO_ADVANCE_SECONDS", "auto_advance", 0)),
                        help="demo timer: seconds between two stages (0: off)")
    parser.add_argument("--no-keep-files", action="store_true",
                        default=not _env_bool(env.get("CMR_MOCK_KEEP_FILES", "true")),
                        help="check the PDFs but do not store them")
    parser.add_argument("--callback-timeout", type=float,
                        default=float(env.get("CMR_MOCK_CALLBACK_TIMEOUT", 5)))
    parser.add_argument("--callback-max-attempts", type=int,
                        default=int(env.get("CMR_MOCK_CALLBACK_MAX_ATTEMPTS", 15)))
    parser.add_argument("--callback-backoff-base", type=float,
                        default=float(env.get("CMR_MOCK_CALLBACK_BACKOFF_BASE", 0.5)))
    parser.add_argument("--callback-backoff-cap", type=float,
                        default=float(env.get("CMR_MOCK_CALLBACK_BACKOFF_CAP", 30)))
    parser.add_argument("--callback-poll", type=float,
                        default=float(env.get("CMR_MOCK_CALLBACK_POLL_SECONDS", 0.5)))
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault draws")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE",
                        help="a fault setting, e.g. --fault error_rate=0.3 (repeatable)")
    parser.add_argument("--verbose", action="store_true")


def serve_from_options(options: Mapping[str, Any]) -> None:
    from .server import MockConfig, serve

    faults = faults_mod.from_env(os.environ)
    for item in options.get("fault") or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--fault {item}: expected NAME=VALUE")
        faults.update(faults_mod.clean({name.strip(): value.strip()}))
    if options.get("seed") is not None:
        faults["seed"] = options["seed"]
    config = MockConfig(
        host=options["host"],
        port=int(options["port"]),
        data_dir=str(options["data_dir"]),
        callback_url=options["callback_url"],
        secret=options["secret"],
        admin_token=options["admin_token"],
        api_token=options.get("api_token") or "",
        auto_advance_seconds=float(options["auto_advance"]),
        keep_files=not options["no_keep_files"],
        callback_timeout=float(options["callback_timeout"]),
        callback_max_attempts=int(options["callback_max_attempts"]),
        callback_backoff_base=float(options["callback_backoff_base"]),
        callback_backoff_cap=float(options["callback_backoff_cap"]),
        callback_poll_seconds=float(options["callback_poll"]),
        verbose=bool(options.get("verbose")),
    )
    serve(config, faults)


def _store(data_dir: str):
    from .store import Store

    return Store(data_dir)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("serve", "advance", "list", "stats")
    if not argv or argv[0] not in commands + ("-h", "--help"):
        argv.insert(0, "serve")
    parser = argparse.ArgumentParser(
        prog="python -m cmr.mock", description="The mock CMR back office.",
        epilog=ENV_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(sub.add_parser("serve", help="run the HTTP server (default)",
                                       epilog=ENV_HELP,
                                       formatter_class=argparse.RawDescriptionHelpFormatter))
    data_dir = os.environ.get("CMR_MOCK_DATA_DIR") or "var/cmr_mock"
    advance = sub.add_parser(
        "advance", help="move a dossier to a stage; the running server sends the callback")
    advance.add_argument("reference")
    advance.add_argument("stage", choices=rules.STAGES)
    advance.add_argument("--details", default="{}", help='JSON object, e.g. {"reason": "..."}')
    advance.add_argument("--data-dir", default=data_dir)
    for name in ("list", "stats"):
        sub.add_parser(name).add_argument("--data-dir", default=data_dir)
    options = parser.parse_args(argv)

    if options.command == "serve":
        serve_from_options(vars(options))
        return 0
    from .store import StoreError

    store = _store(options.data_dir)
    try:
        if options.command == "advance":
            try:
                details = json.loads(options.details)
            except json.JSONDecodeError:
                print("--details: not JSON", file=sys.stderr)
                return 2
            event = store.advance(options.reference, options.stage, details, source="command")
            print(json.dumps(event, indent=2, ensure_ascii=False))
        elif options.command == "list":
            for row in store.find(limit=1000):
                print(f"{row['reference']}\t{row['portal_dossier_id']}\t{row['kind']}\t"
                      f"{row['stage'] or 'supplement to ' + str(row['supplement_to'])}")
        else:
            print(json.dumps(store.stats(), indent=2))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
