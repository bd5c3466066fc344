"""Background threads of the mock: the callback sender and the demo timer.

The sender reads the callback outbox of the store (written with each stage change), signs each
event at send time (so a retried callback carries a fresh timestamp), POSTs it to the portal and
retries with exponential back-off and jitter while the portal is down or answers a retryable status.
A dossier's events are sent in order: its next event waits until the previous one is delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
import urllib.error
import urllib.request

from cmr import rules

from .faults import FaultInjector
from .store import Store

log = logging.getLogger("cmr.mock.callbacks")

# Answers after which the portal may accept the same event later (it is down, busy, does not yet
# know the dossier because the delivery answer was lost, or holds the report as a conflict until it
# reconciles: 409). Any other 4xx is final. Every retry backs off; after ``max_attempts`` the callback
# is given up, shown in ``GET /admin/callbacks`` and resent by ``POST /admin/callbacks/retry``.
RETRYABLE_STATUSES = frozenset({404, 408, 409, 425, 429})


class CallbackSender(threading.Thread):
    def __init__(self, store: Store, faults: FaultInjector, *, url: str, secret: str,
                 timeout: float = 5.0, max_attempts: int = 15, backoff_base: float = 0.5,
                 backoff_cap: float = 30.0, poll_seconds: float = 0.5, seed: int | None = None):
        super().__init__(name="cmr-mock-callbacks", daemon=True)
        self.store = store
        self.faults = faults
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_seconds = poll_seconds
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._rng = random.Random(seed)  # noqa: S311 - jitter

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def run(self) -> None:
        if not self.url or not self.secret:
            log.warning("no callback URL or secret: stage changes are stored but not reported")
            return
        while not self.stopping.is_set():
            self.wake.wait(self.poll_seconds)
            self.wake.clear()
            try:
                self.send_due()
            except Exception:  # keep the thread alive whatever happens; the outbox keeps the work
                log.exception("callback sender pass failed")

    def send_due(self) -> int:
        sent = 0
        while not self.stopping.is_set() and not self.faults.is_down():
            due = self.store.due_callbacks(time.time())
            if not due:
                break
            for row in due:
                self._deliver(row)
                sent += 1
        return sent

    def _deliver(self, row) -> None:
        body = bytes(row["body"])
        times = 2 if self.faults.faults.duplicate_callbacks else 1
        ok, error, retryable = False, "", True
        for _ in range(times):
            status, error = self._post(body, row["event_id"])
            self.store.bump("callback_posts")
            if status is not None and 200 <= status < 300:
                ok = True
            elif status is not None and 400 <= status < 500 and status not in RETRYABLE_STATUSES:
                retryable = False
        if ok:
            self.store.callback_delivered(row["id"])
            return
        attempt = row["attempts"] + 1
        if not retryable or attempt >= self.max_attempts:
            log.warning("callback %s for %s given up after %d attempt(s): %s",
                        row["event_id"], row["reference"], attempt, error)
            self.store.callback_failed(row["id"], error, retry_at=None)
            return
        delay = rules.backoff_seconds(attempt, base=self.backoff_base, cap=self.backoff_cap,
                                      jitter=self._rng.random())
        log.info("callback %s for %s failed (%s); retry in %.1f s",
                 row["event_id"], row["reference"], error, delay)
        self.store.callback_failed(row["id"], error, retry_at=time.time() + delay)

    def _post(self, body: bytes, event_id: str) -> tuple[int | None, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "cmr-mock",
            rules.EVENT_ID_HEADER: event_id,
            **rules.signature_headers(self.secret, body),
        }
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
                return response.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
            return None, f"{type(exc).__name__}: {exc}"


class Timer(threading.Thread):
    """Moves every open dossier one step along the happy path every ``interval`` seconds."""

    def __init__(self, store: Store, interval: float):
        super().__init__(name="cmr-mock-timer", daemon=True)
        self.store = store
        self.interval = interval
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        tick = min(1.0, self.interval / 2)
        while not self.stopping.wait(tick):
            try:
                self.tick()
            except Exception:
                log.exception("timer pass failed")

    def tick(self) -> int:
        moved = 0
        for row in self.store.due_for_timer(time.time() - self.interval):
            target = next_happy_stage(row["stage"])
            if target is None:
                continue
            try:
                self.store.advance(row["reference"], target, liquidation_details(row["reference"])
                                   if target == rules.LIQUIDATED else None, source="timer")
                moved += 1
            except Exception as exc:  # moved by hand meanwhile
                log.info("timer could not move %s: %s", row["reference"], exc)
        return moved


def liquidation_details(reference: str) -> dict:
    """What a liquidation reports (the demo's figures): the pension number, the monthly amount, the date."""
    digits = "".join(c for c in reference if c.isdigit())[-7:] or "1"
    return {rules.PENSION_NUMBER: f"P{int(digits):09d}", rules.MONTHLY_AMOUNT: f"{3000 + int(digits) % 5000}.00",
            rules.EFFECTIVE_DATE: (dt.date.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1).isoformat()}


def next_happy_stage(stage: str) -> str | None:
    """The timer's next stage; none while documents are requested (the supplement moves it)."""
    path = rules.HAPPY_PATH
    if stage in path and path.index(stage) + 1 < len(path):
        return path[path.index(stage) + 1]
    return None
