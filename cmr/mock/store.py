"""The mock back office's own storage: one SQLite file and the received PDFs, in its data directory.

It never touches the portal's database. Every write is one ``BEGIN IMMEDIATE`` transaction, so the
server's threads, its timer and the ``advance`` command (another process) can share the file.
Stage changes and the callbacks that report them are written in the same transaction (an outbox):
the callback sender only reads what is committed, so no stage change goes unreported.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmr import rules

SCHEMA = """
CREATE TABLE IF NOT EXISTS dossiers (
    reference TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    portal_dossier_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    collectivity_code TEXT NOT NULL,
    supplement_to TEXT,
    manifest TEXT NOT NULL,
    stage TEXT,
    received_at TEXT NOT NULL,
    stage_changed_at REAL NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dossiers_portal_id ON dossiers (portal_dossier_id);
CREATE TABLE IF NOT EXISTS documents (
    reference TEXT NOT NULL REFERENCES dossiers (reference),
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (reference, name)
);
CREATE TABLE IF NOT EXISTS stage_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL REFERENCES dossiers (reference),
    stage TEXT NOT NULL,
    previous_stage TEXT,
    occurred_at TEXT NOT NULL,
    details TEXT NOT NULL,
    source TEXT NOT NULL,
    event_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    reference TEXT NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS callbacks_pending ON callbacks (status, reference, id);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stage_commands (
    idempotency_key TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
"""

COUNTERS = (
    "duplicate_deliveries",   # replays of a stored Idempotency-Key with the same content
    "conflicts",              # same key, different content (409)
    "rejected_payloads",      # bad manifest or digests (422)
    "callback_posts",         # HTTP POSTs of callbacks, duplicates included
    "injected_errors",
    "injected_timeouts",
    "injected_bad_answers",
    "injected_down",
    "stage_commands",         # commands applied (a CMR agent's act in the portal)
    "duplicate_commands",     # replays of a command's Idempotency-Key
    "refused_commands",       # a stage the dossier cannot take, or bad details
)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class StoreError(Exception):
    status = 400

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


class IdempotencyConflict(StoreError):
    status = 409


class InvalidPayload(StoreError):
    status = 422


class NotFound(StoreError):
    status = 404


class StageNotAllowed(StoreError):
    status = 409


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def now_iso() -> str:
    return rules.format_datetime(datetime.now(UTC))


class Store:
    def __init__(self, data_dir: str | os.PathLike, *, keep_files: bool = True,
                 on_callback_enqueued: Callable[[], None] | None = None):
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.incoming_dir = self.data_dir / "incoming"
        for folder in (self.data_dir, self.files_dir, self.incoming_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "cmr_mock.sqlite3"
        self.keep_files = keep_files
        self.on_callback_enqueued = on_callback_enqueued
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    # --- plumbing ---------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except StoreError:
                # A refusal changes nothing but the counter that records it: keep that.
                conn.execute("COMMIT")
                raise
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _bump(self, conn: sqlite3.Connection, name: str, by: int = 1) -> None:
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, by),
        )

    def bump(self, name: str, by: int = 1) -> None:
        with self._write() as conn:
            self._bump(conn, name, by)

    # --- receiving a dossier ----------------------------------------------------------------------

    def receive(self, idempotency_key: str, manifest: dict[str, Any],
                files: dict[str, bytes]) -> Answer:
        """Store a delivery once per key; a replay gets the first answer; a changed one a 409."""
        if not idempotency_key or len(idempotency_key) > 200:
            raise InvalidPayload("Idempotency-Key header required (1 to 200 characters)")
        errors = rules.manifest_errors(manifest)
        if not errors:
            errors = rules.file_errors(manifest, files)
        if errors:
            self.bump("rejected_payloads")
            raise InvalidPayload("the delivery does not match its manifest", errors)
        fingerprint = rules.manifest_fingerprint(manifest)

        existing = self._replay(idempotency_key, fingerprint)
        if existing is not None:
            return existing

        staging = None
        if self.keep_files:
            staging = self.incoming_dir / uuid.uuid4().hex
            staging.mkdir()
            for name, content in files.items():
                (staging / name).write_bytes(content)
        try:
            return self._insert(idempotency_key, fingerprint, manifest, staging)
        finally:
            if staging is not None and staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _replay(self, key: str, fingerprint: str, conn: sqlite3.Connection | None = None):
        if conn is None:
            row = self._connection().execute(
                "SELECT fingerprint FROM dossiers WHERE idempotency_key = ?", (key,)).fetchone()
            if row is None:
                return None
            with self._write() as wconn:
                return self._replay(key, fingerprint, wconn)
        row = conn.execute(
            "SELECT reference, fingerprint, response_status, response_body FROM dossiers "
            "WHERE idempotency_key = ?", (key,)).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            self._bump(conn, "conflicts")
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different delivery",
                [f"key already answered with {row['reference']}"])
        conn.execute("UPDATE dossiers SET replays = replays + 1 WHERE reference = ?",
                     (row["reference"],))
        self._bump(conn, "duplicate_deliveries")
        return Answer(row["response_status"], json.loads(row["response_body"]), replayed=True)

    def _insert(self, key: str, fingerprint: str, manifest: dict[str, Any],
                staging: Path | None) -> Answer:
        enqueued = False
        with self._write() as conn:
            replay = self._replay(key, fingerprint, conn)
            if replay is not None:
                return replay
            supplement_to = manifest.get("supplement_to")
            parent = None
            if supplement_to:
                parent = conn.execute("SELECT * FROM dossiers WHERE reference = ?",
                                      (supplement_to,)).fetchone()
                if parent is None or parent["supplement_to"]:
                    self._bump(conn, "rejected_payloads")
                    raise InvalidPayload("supplement_to is not a dossier received here",
                                         [f"supplement_to: unknown reference {supplement_to}"])
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM dossiers").fetchone()[0]
            received_at = now_iso()
            reference = f"CMR-{received_at[:4]}-{seq:07d}"
            stage = None if supplement_to else rules.RECEIVED
            body = {
                "reference": reference,
                "portal_dossier_id": str(manifest["portal_dossier_id"]),
                "kind": manifest["kind"],
                "stage": stage,
                "supplement_to": supplement_to,
                "received_at": received_at,
                "documents": len(manifest["documents"]),
            }
            conn.execute(
                "INSERT INTO dossiers (reference, seq, idempotency_key, fingerprint, "
                "portal_dossier_id, kind, collectivity_code, supplement_to, manifest, stage, "
                "received_at, stage_changed_at, response_status, response_body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (reference, seq, key, fingerprint, str(manifest["portal_dossier_id"]),
                 manifest["kind"], manifest["collectivity_code"], supplement_to,
                 json.dumps(manifest, sort_keys=True), stage, received_at, time.time(), 201,
                 json.dumps(body)),
            )
            conn.executemany(
                "INSERT INTO documents (reference, name, code, sha256, size) "
                "VALUES (?, ?, ?, ?, ?)",
                [(reference, d["name"], str(d.get("code") or ""), d["sha256"],
                  int(d.get("size") or 0)) for d in manifest["documents"]],
            )
            if stage:
                self._record_stage(conn, reference, body["portal_dossier_id"], rules.RECEIVED,
                                   None, {}, "delivery")
                enqueued = True
            elif parent is not None and parent["stage"] == rules.DOCUMENTS_REQUESTED:
                self._record_stage(conn, parent["reference"], parent["portal_dossier_id"],
                                   rules.UNDER_REVIEW, parent["stage"],
                                   {"supplement_reference": reference}, "supplement")
                enqueued = True
            if staging is not None:
                staging.rename(self.files_dir / reference)
        if enqueued and self.on_callback_enqueued:
            self.on_callback_enqueued()
        return Answer(201, body)

    # --- stages -----------------------------------------------------------------------------------

    def _record_stage(self, conn, reference, portal_dossier_id, stage, previous, details, source):
        event = rules.StageEvent(
            event_id=f"evt_{uuid.uuid4().hex}",
            cmr_reference=reference,
            portal_dossier_id=portal_dossier_id,
            stage=stage,
            previous_stage=previous,
            occurred_at=datetime.now(UTC),
            details=details or {},
        )
        conn.execute("UPDATE dossiers SET stage = ?, stage_changed_at = ? WHERE reference = ?",
                     (stage, time.time(), reference))
        conn.execute(
            "INSERT INTO stage_history (reference, stage, previous_stage, occurred_at, details, "
            "source, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (reference, stage, previous, rules.format_datetime(event.occurred_at),
             json.dumps(event.details), source, event.event_id),
        )
        conn.execute(
            "INSERT INTO callbacks (event_id, reference, body, next_attempt_at) "
            "VALUES (?, ?, ?, ?)",
            (event.event_id, reference, event.to_json(), 0.0),
        )
        return event

    def advance(self, reference: str, stage: str, details: dict | None = None,
                source: str = "manual") -> dict[str, Any]:
        if stage not in rules.STAGES:
            raise StoreError(f"unknown stage {stage!r}", [f"stages: {', '.join(rules.STAGES)}"])
        if details is not None and not isinstance(details, dict):
            raise StoreError("details must be a JSON object")
        with self._write() as conn:
            row = conn.execute("SELECT * FROM dossiers WHERE reference = ?",
                               (reference,)).fetchone()
            if row is None:
                raise NotFound(f"no dossier {reference}")
            if row["stage"] is None:
                raise StageNotAllowed(f"{reference} is a supplement; it has no stages")
            if not rules.can_move(row["stage"], stage):
                raise StageNotAllowed(f"{reference} cannot move from {row['stage']} to {stage}")
            event = self._record_stage(conn, reference, row["portal_dossier_id"], stage,
                                       row["stage"], details or {}, source)
        if self.on_callback_enqueued:
            self.on_callback_enqueued()
        return event.to_payload()

    def command(self, reference: str, idempotency_key: str, stage: str, details: Any) -> Answer:
        """A stage change commanded by the portal (a CMR agent's act there), applied once per key.

        Applied as the back office's own change: recorded in the history and reported by callback like
        any other, and answered with that event, so the portal may apply it at once. A replay gets the
        first answer; other content under the same key is a conflict (409); a stage the dossier cannot
        take now is refused (409) with its current stage, so the portal can show both sides.
        """
        if not idempotency_key or len(idempotency_key) > 200:
            raise InvalidPayload("Idempotency-Key header required (1 to 200 characters)")
        if stage not in rules.COMMAND_STAGES:
            raise InvalidPayload(f"stage {str(stage)[:40]!r} cannot be commanded",
                                 [f"stages: {', '.join(rules.COMMAND_STAGES)}"])
        errors = rules.details_errors(stage, details)
        if errors:
            self.bump("refused_commands")
            raise InvalidPayload("the command's details are incomplete", errors)
        fingerprint = rules.command_fingerprint(stage, details)
        with self._write() as conn:
            row = conn.execute("SELECT * FROM stage_commands WHERE idempotency_key = ?",
                               (idempotency_key,)).fetchone()
            if row is not None:
                if row["fingerprint"] != fingerprint or row["reference"] != reference:
                    self._bump(conn, "conflicts")
                    raise IdempotencyConflict("this Idempotency-Key was already used for another command")
                conn.execute("UPDATE stage_commands SET replays = replays + 1 WHERE idempotency_key = ?",
                             (idempotency_key,))
                self._bump(conn, "duplicate_commands")
                return Answer(row["response_status"], json.loads(row["response_body"]), replayed=True)
            dossier = conn.execute("SELECT * FROM dossiers WHERE reference = ?", (reference,)).fetchone()
            if dossier is None:
                raise NotFound(f"no dossier {reference}")
            if dossier["stage"] is None:
                raise StageNotAllowed(f"{reference} is a supplement; it has no stages")
            if not rules.can_move(dossier["stage"], stage):
                self._bump(conn, "refused_commands")
                raise StageNotAllowed(f"{reference} cannot move from {dossier['stage']} to {stage}",
                                      [f"current_stage: {dossier['stage']}"])
            event = self._record_stage(conn, reference, dossier["portal_dossier_id"], stage, dossier["stage"],
                                       details, "portal")
            body = {"reference": reference, "event": event.to_payload()}
            conn.execute(
                "INSERT INTO stage_commands (idempotency_key, reference, fingerprint, response_status, "
                "response_body, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                (idempotency_key, reference, fingerprint, 201, json.dumps(body), now_iso()))
            self._bump(conn, "stage_commands")
        if self.on_callback_enqueued:
            self.on_callback_enqueued()
        return Answer(201, body)

    def due_for_timer(self, older_than: float) -> list[sqlite3.Row]:
        return self._connection().execute(
            "SELECT reference, stage FROM dossiers WHERE stage IS NOT NULL "
            "AND stage NOT IN (?, ?) AND stage_changed_at <= ? ORDER BY seq LIMIT 500",
            (rules.IN_PAYMENT, rules.REJECTED, older_than)).fetchall()

    # --- reading ----------------------------------------------------------------------------------

    def dossier(self, reference: str) -> dict[str, Any]:
        conn = self._connection()
        row = conn.execute("SELECT * FROM dossiers WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise NotFound(f"no dossier {reference}")
        documents = [dict(r) for r in conn.execute(
            "SELECT name, code, sha256, size FROM documents WHERE reference = ? ORDER BY name",
            (reference,))]
        supplements = [r[0] for r in conn.execute(
            "SELECT reference FROM dossiers WHERE supplement_to = ? ORDER BY seq", (reference,))]
        manifest = json.loads(row["manifest"])
        return {
            "reference": reference,
            "portal_dossier_id": row["portal_dossier_id"],
            "kind": row["kind"],
            "collectivity_code": row["collectivity_code"],
            "affiliate": manifest.get("affiliate", {}),
            "supplement_to": row["supplement_to"],
            "supplements": supplements,
            "stage": row["stage"],
            "received_at": row["received_at"],
            "deliveries": 1 + row["replays"],
            "documents": documents,
            "history": self.history(reference),
        }

    def history(self, reference: str) -> list[dict[str, Any]]:
        return [
            {"event_id": r["event_id"], "stage": r["stage"], "previous_stage": r["previous_stage"],
             "occurred_at": r["occurred_at"], "details": json.loads(r["details"]),
             "source": r["source"]}
            for r in self._connection().execute(
                "SELECT * FROM stage_history WHERE reference = ? ORDER BY id", (reference,))
        ]

    def stages(self, reference: str) -> dict[str, Any]:
        row = self._connection().execute(
            "SELECT stage, portal_dossier_id FROM dossiers WHERE reference = ?",
            (reference,)).fetchone()
        if row is None:
            raise NotFound(f"no dossier {reference}")
        return {"reference": reference, "portal_dossier_id": row["portal_dossier_id"],
                "stage": row["stage"], "history": self.history(reference)}

    def find(self, *, portal_dossier_id: str | None = None, limit: int = 200) -> list[dict]:
        sql = ("SELECT reference, portal_dossier_id, kind, collectivity_code, supplement_to, "
               "stage, received_at, replays FROM dossiers")
        params: tuple = ()
        if portal_dossier_id is not None:
            sql += " WHERE portal_dossier_id = ?"
            params = (portal_dossier_id,)
        sql += " ORDER BY seq DESC LIMIT ?"
        return [dict(r) for r in self._connection().execute(sql, (*params, limit))]

    def stats(self) -> dict[str, Any]:
        conn = self._connection()
        counters = dict.fromkeys(COUNTERS, 0)
        counters.update({r["name"]: r["value"] for r in conn.execute("SELECT * FROM counters")})
        by_stage = dict.fromkeys(rules.STAGES, 0)
        for r in conn.execute("SELECT stage, COUNT(*) AS n FROM dossiers "
                              "WHERE stage IS NOT NULL GROUP BY stage"):
            by_stage[r["stage"]] = r["n"]
        totals = conn.execute(
            "SELECT SUM(supplement_to IS NULL) AS dossiers, "
            "COUNT(DISTINCT CASE WHEN supplement_to IS NULL THEN portal_dossier_id END) AS portal, "
            "SUM(supplement_to IS NOT NULL) AS supplements FROM dossiers").fetchone()
        callbacks = {PENDING: 0, DELIVERED: 0, FAILED: 0}
        for r in conn.execute("SELECT status, COUNT(*) AS n FROM callbacks GROUP BY status"):
            callbacks[r["status"]] = r["n"]
        callbacks["posts"] = counters.pop("callback_posts")
        return {
            "dossiers_received": totals["dossiers"] or 0,
            "distinct_portal_dossiers": totals["portal"] or 0,
            "supplements_received": totals["supplements"] or 0,
            "duplicate_deliveries": counters.pop("duplicate_deliveries"),
            "conflicts": counters.pop("conflicts"),
            "rejected_payloads": counters.pop("rejected_payloads"),
            "stage_commands": counters.pop("stage_commands"),
            "duplicate_commands": counters.pop("duplicate_commands"),
            "refused_commands": counters.pop("refused_commands"),
            "by_stage": by_stage,
            "callbacks": callbacks,
            "injected_faults": {k.removeprefix("injected_"): v for k, v in counters.items()},
        }

    # --- callback outbox --------------------------------------------------------------------------

    def due_callbacks(self, now: float, limit: int = 50) -> list[sqlite3.Row]:
        """The oldest pending callback of each dossier, if due: a dossier's events go in order."""
        return self._connection().execute(
            "SELECT c.* FROM callbacks c WHERE c.status = 'pending' AND c.next_attempt_at <= ? "
            "AND c.id = (SELECT MIN(id) FROM callbacks p WHERE p.reference = c.reference "
            "AND p.status = 'pending') ORDER BY c.id LIMIT ?", (now, limit)).fetchall()

    def callback_delivered(self, callback_id: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE callbacks SET status = 'delivered', attempts = attempts + 1, "
                         "delivered_at = ?, last_error = '' WHERE id = ?", (now_iso(), callback_id))

    def callback_failed(self, callback_id: int, error: str, *, retry_at: float | None) -> None:
        with self._write() as conn:
            if retry_at is None:
                conn.execute("UPDATE callbacks SET status = 'failed', attempts = attempts + 1, "
                             "last_error = ? WHERE id = ?", (error[:500], callback_id))
            else:
                conn.execute("UPDATE callbacks SET attempts = attempts + 1, last_error = ?, "
                             "next_attempt_at = ? WHERE id = ?",
                             (error[:500], retry_at, callback_id))

    def retry_failed_callbacks(self) -> int:
        with self._write() as conn:
            count = conn.execute("UPDATE callbacks SET status = 'pending', attempts = 0, "
                                 "next_attempt_at = 0 WHERE status = 'failed'").rowcount
        if count and self.on_callback_enqueued:
            self.on_callback_enqueued()
        return count

    def callbacks(self, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = ("SELECT id, event_id, reference, status, attempts, last_error, delivered_at "
               "FROM callbacks")
        params: tuple = ()
        if status:
            sql += " WHERE status = ?"
            params = (status,)
        sql += " ORDER BY id DESC LIMIT ?"
        return [dict(r) for r in self._connection().execute(sql, (*params, limit))]
