"""SQLite journal (WAL): tenants, uploaded workflows, versioned plans, and every accepted request
with its progress, so a restart loses nothing that was accepted.

A request is journalled `accepted` before the client hears back; `running` and each finished step
are recorded as it runs; it ends `completed` (with its result) or `failed` (with the reason). On
start, `recover()` returns the requests a crash interrupted so they can be run again; a request
interrupted `max_attempts` times is failed with that reason instead. WAL with synchronous=NORMAL
survives a killed process (only an OS crash may lose the last commits).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

from murakkab.errors import MurakkabError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
  name TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, max_concurrency INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS workflows (
  tenant TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (tenant, name));
CREATE TABLE IF NOT EXISTS plans (
  version INTEGER PRIMARY KEY AUTOINCREMENT, plan_id TEXT NOT NULL, plan TEXT NOT NULL, created REAL NOT NULL,
  active INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, workflow TEXT NOT NULL, tier TEXT NOT NULL, inputs TEXT NOT NULL,
  mode TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, plan_version INTEGER,
  result TEXT, error TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, t REAL NOT NULL, kind TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_request ON events (request_id, seq);
CREATE TABLE IF NOT EXISTS workflow_versions (
  tenant TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, spec TEXT NOT NULL, created REAL NOT NULL,
  deleted REAL, PRIMARY KEY (tenant, name, version));
"""

# Columns added after the first release: (table, column, type). Older journals get them on open.
_ADDED_COLUMNS = (
    ("requests", "options", "TEXT"),              # call options of the output step (chat max_tokens, temperature)
    ("requests", "workflow_version", "INTEGER"),  # the uploaded workflow's version the request runs (None: built-in)
    ("requests", "deadline_s", "REAL"),           # the request's deadline, counted from each start
    ("requests", "idempotency_key", "TEXT"),      # the client's Idempotency-Key, unique per tenant
    ("plans", "workflows", "TEXT"),               # {plan name of an upload: the version the plan runs}
)

#: The largest plan or workflow version SQLite's INTEGER holds.
MAX_VERSION = 2**63 - 1

OPEN_STATES = ("accepted", "running")


def hash_key(key: str) -> str:
    """API keys are stored as SHA-256 hex digests (keys are 256-bit random, so no salt/stretching needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Tenant:
    name: str
    max_concurrency: int


@dataclass(frozen=True)
class RequestRow:
    id: str
    tenant: str
    workflow: str
    tier: str
    inputs: dict
    mode: str
    status: str
    attempts: int
    plan_version: int | None
    result: dict | None
    error: str | None
    created: float
    updated: float
    options: dict | None = None       # call options of the output step (chat max_tokens, temperature)
    workflow_version: int | None = None   # an upload's version (None: a built-in)
    deadline_s: float | None = None       # wall seconds from each start before the request fails
    idempotency_key: str | None = None


class Journal:
    def __init__(self, path: str):
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        for table, column, kind in _ADDED_COLUMNS:
            cols = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})").fetchall()}
            if column not in cols:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._db.execute("CREATE UNIQUE INDEX IF NOT EXISTS requests_idempotency ON requests (tenant, idempotency_key) "
                         "WHERE idempotency_key IS NOT NULL")
        # uploads stored before workflows had versions become version 1
        self._db.execute("INSERT OR IGNORE INTO workflow_versions SELECT tenant, name, 1, spec, created, NULL "
                         "FROM workflows WHERE NOT EXISTS (SELECT 1 FROM workflow_versions v "
                         "WHERE v.tenant = workflows.tenant AND v.name = workflows.name)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self, sql_params: list[tuple[str, tuple]]) -> None:
        with self._lock:
            if len(sql_params) == 1:        # autocommit: one statement is its own transaction
                self._db.execute(*sql_params[0])
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in sql_params:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _one(self, sql: str, params: tuple = ()):
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple = ()):
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ---- tenants -------------------------------------------------------------------------
    def add_tenant(self, name: str, max_concurrency: int = 64, key: str | None = None) -> str:
        """Create a tenant; returns its API key (shown once; only the hash is stored)."""
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise MurakkabError(f"tenant name {name!r} must be letters, digits, '-' or '_'")
        if max_concurrency < 1:
            raise MurakkabError(f"max_concurrency must be >= 1, got {max_concurrency}")
        key = key or "mk-" + secrets.token_urlsafe(32)
        if self._one("SELECT 1 FROM tenants WHERE name = ?", (name,)):
            raise MurakkabError(f"tenant '{name}' already exists (fix: pick another name)")
        self._tx([("INSERT INTO tenants VALUES (?, ?, ?, ?)", (name, hash_key(key), max_concurrency, time.time()))])
        return key

    def tenant_for_key(self, key: str) -> Tenant | None:
        row = self._one("SELECT name, max_concurrency FROM tenants WHERE key_hash = ?", (hash_key(key),))
        return Tenant(*row) if row else None

    # ---- workflows -----------------------------------------------------------------------
    def put_workflow(self, tenant: str, name: str, spec: str) -> int:
        """Store a new version of an upload; returns its number (1 for the first; numbers are never
        reused, not even after a delete)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute("SELECT MAX(version) FROM workflow_versions WHERE tenant = ? AND name = ?",
                                        (tenant, name)).fetchone()[0]
                version = (last or 0) + 1
                self._db.execute("INSERT INTO workflow_versions VALUES (?, ?, ?, ?, ?, NULL)",
                                 (tenant, name, version, spec, time.time()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return version

    def workflow_version(self, tenant: str, name: str, version: int | None = None) -> tuple[int, str] | None:
        """(version, spec) of an upload: the newest live one, or the given version (a deleted one too:
        requests journalled before a delete still run it)."""
        if version is None:
            return self._one("SELECT version, spec FROM workflow_versions WHERE tenant = ? AND name = ? AND deleted "
                             "IS NULL ORDER BY version DESC LIMIT 1", (tenant, name))
        return self._one("SELECT version, spec FROM workflow_versions WHERE tenant = ? AND name = ? AND version = ?",
                         (tenant, name, version))

    def workflows(self, tenant: str | None = None) -> list[tuple[str, str, int, str]]:
        """(tenant, name, newest version, spec) of live uploads, of one tenant or all."""
        sql = ("SELECT tenant, name, version, spec FROM workflow_versions v WHERE deleted IS NULL AND version = "
               "(SELECT MAX(version) FROM workflow_versions w WHERE w.tenant = v.tenant AND w.name = v.name "
               "AND deleted IS NULL)")
        if tenant is None:
            return self._all(sql + " ORDER BY tenant, name")
        return self._all(sql + " AND tenant = ? ORDER BY name", (tenant,))

    def delete_workflow(self, tenant: str, name: str) -> int:
        """Mark every version of an upload deleted (kept for requests that run them); returns how many."""
        with self._lock:
            cur = self._db.execute("UPDATE workflow_versions SET deleted = ? WHERE tenant = ? AND name = ? "
                                   "AND deleted IS NULL", (time.time(), tenant, name))
            return cur.rowcount

    # ---- plans ---------------------------------------------------------------------------
    def add_plan(self, plan_id: str, plan_json: str, activate: bool, workflows: dict[str, int] | None = None) -> int:
        """Store a plan as the next version; `workflows` pins the version of each upload it routes."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute("INSERT INTO plans (plan_id, plan, created, workflows) VALUES (?, ?, ?, ?)",
                                       (plan_id, plan_json, time.time(), json.dumps(workflows or {})))
                version = cur.lastrowid
                if activate:
                    self._db.execute("UPDATE plans SET active = (version = ?)", (version,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return version

    def activate_plan(self, version: int) -> None:
        if not self._one("SELECT 1 FROM plans WHERE version = ?", (version,)):
            raise MurakkabError(f"no plan version {version}")
        self._tx([("UPDATE plans SET active = (version = ?)", (version,))])

    def plan(self, version: int) -> str | None:
        if not 1 <= version <= MAX_VERSION:
            return None
        row = self._one("SELECT plan FROM plans WHERE version = ?", (version,))
        return row[0] if row else None

    def plan_created(self, version: int | None) -> float | None:
        row = self._one("SELECT created FROM plans WHERE version = ?", (version,)) if version else None
        return row[0] if row else None

    def plan_workflows(self, version: int) -> dict[str, int] | None:
        """The upload versions a plan runs ({plan name: version}); None for plans stored before pins."""
        row = self._one("SELECT workflows FROM plans WHERE version = ?", (version,))
        return json.loads(row[0]) if row and row[0] is not None else None

    def set_plan_workflows(self, version: int, workflows: dict[str, int]) -> None:
        self._tx([("UPDATE plans SET workflows = ? WHERE version = ?", (json.dumps(workflows), version))])

    def active_plan(self) -> tuple[int, str] | None:
        return self._one("SELECT version, plan FROM plans WHERE active = 1")

    def plan_versions(self) -> list[tuple[int, str, float, int]]:
        return self._all("SELECT version, plan_id, created, active FROM plans ORDER BY version")

    # ---- requests ------------------------------------------------------------------------
    def accept(self, rid: str, tenant: str, workflow: str, tier: str, inputs: dict, mode: str,
               plan_version: int | None, options: dict | None = None, *, workflow_version: int | None = None,
               deadline_s: float | None = None, idempotency_key: str | None = None) -> None:
        now = time.time()
        self._tx([("INSERT INTO requests (id, tenant, workflow, tier, inputs, mode, status, attempts, plan_version,"
                   " created, updated, options, workflow_version, deadline_s, idempotency_key)"
                   " VALUES (?, ?, ?, ?, ?, ?, 'accepted', 0, ?, ?, ?, ?, ?, ?, ?)",
                   (rid, tenant, workflow, tier, json.dumps(inputs), mode, plan_version, now, now,
                    json.dumps(options) if options else None, workflow_version, deadline_s, idempotency_key)),
                  ("INSERT INTO events (request_id, t, kind, data) VALUES (?, ?, 'accepted', '{}')", (rid, now))])

    def start(self, rid: str) -> None:
        now = time.time()
        self._tx([("UPDATE requests SET status = 'running', attempts = attempts + 1, updated = ? WHERE id = ?",
                   (now, rid)),
                  ("INSERT INTO events (request_id, t, kind, data) VALUES (?, ?, 'running', '{}')", (rid, now))])

    def event(self, rid: str, kind: str, data: dict[str, Any]) -> None:
        self._tx([("INSERT INTO events (request_id, t, kind, data) VALUES (?, ?, ?, ?)",
                   (rid, time.time(), kind, json.dumps(data, default=str)))])

    def finish(self, rid: str, status: str, result: dict | None, error: str | None) -> None:
        if status not in ("completed", "failed", "cancelled"):
            raise ValueError(status)
        now = time.time()
        self._tx([("UPDATE requests SET status = ?, result = ?, error = ?, updated = ? WHERE id = ?",
                   (status, json.dumps(result, default=str) if result is not None else None, error, now, rid)),
                  ("INSERT INTO events (request_id, t, kind, data) VALUES (?, ?, ?, ?)",
                   (rid, now, status, json.dumps({"error": error} if error else {})))])

    def request(self, rid: str) -> RequestRow | None:
        return self._request("id = ?", (rid,))

    def request_by_key(self, tenant: str, idempotency_key: str) -> RequestRow | None:
        """The tenant's request first sent with this Idempotency-Key, if any."""
        return self._request("tenant = ? AND idempotency_key = ?", (tenant, idempotency_key))

    def _request(self, where: str, params: tuple) -> RequestRow | None:
        row = self._one("SELECT id, tenant, workflow, tier, inputs, mode, status, attempts, plan_version, result, "
                        "error, created, updated, options, workflow_version, deadline_s, idempotency_key "
                        f"FROM requests WHERE {where}", params)
        if row is None:
            return None
        r = list(row)
        r[4] = json.loads(r[4])
        r[9] = json.loads(r[9]) if r[9] else None
        r[13] = json.loads(r[13]) if r[13] else None
        return RequestRow(*r)

    def events(self, rid: str, after_seq: int = 0) -> list[tuple[int, float, str, dict]]:
        rows = self._all("SELECT seq, t, kind, data FROM events WHERE request_id = ? AND seq > ? ORDER BY seq",
                         (rid, after_seq))
        return [(s, t, k, json.loads(d)) for s, t, k, d in rows]

    def counts(self) -> dict[str, int]:
        return dict(self._all("SELECT status, COUNT(*) FROM requests GROUP BY status"))

    def recover(self, max_attempts: int = 3) -> list[RequestRow]:
        """Requests a crash left open: fail those already tried `max_attempts` times (with the
        reason), return the others (re-marked accepted) to be run again, oldest first."""
        rows = self._all("SELECT id, attempts FROM requests WHERE status IN ('accepted', 'running') ORDER BY created")
        again = []
        for rid, attempts in rows:
            if attempts >= max_attempts:
                self.finish(rid, "failed", None, f"interrupted by {attempts} server restarts while running; "
                                                 "not retried again")
            else:
                self._tx([("UPDATE requests SET status = 'accepted', updated = ? WHERE id = ?", (time.time(), rid)),
                          ("INSERT INTO events (request_id, t, kind, data) VALUES (?, ?, 'recovered', ?)",
                           (rid, time.time(), json.dumps({"attempts_so_far": attempts})))])
                again.append(self.request(rid))
        return again
