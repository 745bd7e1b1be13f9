import sqlite3

import pytest

from murakkab.errors import MurakkabError
from murakkab.runtime.journal import Journal, hash_key


def test_wal_mode_and_keys_stored_only_as_hashes(tmp_path):
    db = tmp_path / "j.db"
    j = Journal(str(db))
    key = j.add_tenant("acme")
    assert j.tenant_for_key(key).name == "acme" and j.tenant_for_key(key + "x") is None
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stored = raw.execute("SELECT key_hash FROM tenants").fetchone()[0]
    assert stored == hash_key(key) and key not in stored
    with pytest.raises(MurakkabError, match="already exists"):
        j.add_tenant("acme")


def test_recover_reruns_open_requests_and_fails_those_out_of_attempts(tmp_path):
    db = str(tmp_path / "j.db")
    j = Journal(db)
    j.accept("a", "t", "reasoning", "accuracy:good", {"problem": "x"}, "job", 1)   # accepted, never started
    j.accept("b", "t", "reasoning", "accuracy:good", {"problem": "y"}, "job", 1)
    for _ in range(3):
        j.start("b")                                                               # interrupted 3 times
    j.accept("c", "t", "reasoning", "accuracy:good", {"problem": "z"}, "job", 1)
    j.start("c")
    j.finish("c", "completed", {"ok": 1}, None)
    j.close()
    j2 = Journal(db)                                                               # "after the crash"
    again = j2.recover(max_attempts=3)
    assert [r.id for r in again] == ["a"]
    b = j2.request("b")
    assert b.status == "failed" and "3 server restarts" in b.error
    assert j2.request("c").status == "completed"
    kinds = [k for _, _, k, _ in j2.events("a")]
    assert kinds == ["accepted", "recovered"]


def test_plans_are_versioned_and_one_is_active(tmp_path):
    j = Journal(str(tmp_path / "j.db"))
    v1 = j.add_plan("p1", "{}", activate=True)
    v2 = j.add_plan("p2", "{}", activate=False)
    assert j.active_plan()[0] == v1
    j.activate_plan(v2)
    assert j.active_plan()[0] == v2 and [a for *_, a in j.plan_versions()] == [0, 1]
