"""Faults the mock injects on purpose, from the environment and from ``POST /admin/faults``.

Faults apply to the business API (``/dossiers...``) and to the callbacks it sends; the control
plane (``/healthz``, ``/stats``, ``/admin/...``, ``/openapi.*``, the page) always answers, so a test
can watch and heal the mock it broke.

One random draw per API request decides its fate, from a generator seeded with ``seed`` when one is
given: a client that sends its requests one after another sees the same faults on every run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

ENV_PREFIX = "CMR_MOCK_"
DOWN_MODES = ("503", "drop")

# What a request draws.
OK, ERROR, TIMEOUT, BAD_ANSWER = "ok", "error", "timeout", "bad_answer"


@dataclass
class Faults:
    down: bool = False                # every API request answered 503, or its connection dropped
    down_mode: str = "503"            # "503" or "drop"
    down_for_seconds: float = 0.0     # down for this long from now, then up again by itself
    error_rate: float = 0.0           # share of requests answered 500, nothing processed
    timeout_rate: float = 0.0         # share processed, then answered after timeout_seconds
    timeout_seconds: float = 40.0      # beyond the portal's default read timeout (30 s)
    bad_answer_rate: float = 0.0      # share processed, then answered 200 with an HTML page
    latency_ms: int = 0               # added before every API answer
    duplicate_callbacks: bool = False  # every callback POSTed twice
    seed: int | None = None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _to_rate(name: str, value: Any) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    return rate


def clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a partial update; raise ValueError naming the bad field."""
    known = {f.name for f in fields(Faults)}
    unknown = set(changes) - known - {"reset"}
    if unknown:
        raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "reset":
            continue
        try:
            if name in ("down", "duplicate_callbacks"):
                cleaned[name] = _to_bool(value)
            elif name.endswith("_rate"):
                cleaned[name] = _to_rate(name, value)
            elif name == "down_mode":
                if value not in DOWN_MODES:
                    raise ValueError(f"down_mode must be one of {', '.join(DOWN_MODES)}")
                cleaned[name] = value
            elif name in ("timeout_seconds", "down_for_seconds"):
                cleaned[name] = float(value)
                if cleaned[name] < 0:
                    raise ValueError(f"{name} must not be negative")
            elif name == "latency_ms":
                cleaned[name] = int(value)
                if cleaned[name] < 0:
                    raise ValueError("latency_ms must not be negative")
            elif name == "seed":
                cleaned[name] = None if value in (None, "") else int(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: {exc}") from None
    return cleaned


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """``CMR_MOCK_DOWN``, ``CMR_MOCK_ERROR_RATE``, ... one variable per field, upper case."""
    raw = {}
    for f in fields(Faults):
        key = ENV_PREFIX + f.name.upper()
        if environ.get(key, "") != "":
            raw[f.name] = environ[key]
    return clean(raw)


class FaultInjector:
    def __init__(self, initial: Mapping[str, Any] | None = None):
        self._lock = threading.Lock()
        self.faults = Faults()
        self._down_until = 0.0
        self._rng = random.Random()  # noqa: S311 - fault injection, not security
        self.update(dict(initial or {}))

    def update(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        cleaned = clean(changes)
        with self._lock:
            if changes.get("reset"):
                self.faults = Faults()
                self._down_until = 0.0
            for name, value in cleaned.items():
                setattr(self.faults, name, value)
            if "down_for_seconds" in cleaned:
                self._down_until = (time.monotonic() + cleaned["down_for_seconds"]
                                    if cleaned["down_for_seconds"] > 0 else 0.0)
            if "seed" in cleaned or changes.get("reset"):
                self._rng = random.Random(self.faults.seed)  # noqa: S311
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            data = asdict(self.faults)
            remaining = max(0.0, self._down_until - time.monotonic())
        data["down_for_seconds"] = round(remaining, 3)
        data["down_now"] = self.is_down()
        return data

    def is_down(self) -> bool:
        return self.faults.down or time.monotonic() < self._down_until

    def draw(self) -> str:
        """The fate of one API request: ok, error, timeout or bad_answer."""
        with self._lock:
            f = self.faults
            if not (f.error_rate or f.timeout_rate or f.bad_answer_rate):
                return OK
            r = self._rng.random()
        if r < f.error_rate:
            return ERROR
        if r < f.error_rate + f.timeout_rate:
            return TIMEOUT
        if r < f.error_rate + f.timeout_rate + f.bad_answer_rate:
            return BAD_ANSWER
        return OK

    def random(self) -> float:
        with self._lock:
            return self._rng.random()
