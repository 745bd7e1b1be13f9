"""The profile store resolver: a hand-built pool's fallback is logged and labelled; a broken store is
an error (never a silent constant TPOT)."""

import logging

import pytest

from murakkab.instance import resolve as curves
from tests.runtime import worlds


def test_a_label_missing_from_the_store_falls_back_to_the_plan_point_logged_once(caplog):
    resolve = curves.store_resolver()
    with caplog.at_level(logging.WARNING, logger="murakkab.instance.resolve"):
        c1 = resolve(worlds.model_pool("m"))
        resolve(worlds.model_pool("m2"))                 # same label: not logged again
    assert c1.basis.startswith("plan operating point of hand/qwen3-8b")
    assert c1.tpot(1) == c1.tpot(worlds.SLOTS) == worlds.TPOT
    assert c1.power(0) == worlds.IDLE_W and c1.power(worlds.SLOTS) == worlds.BUSY_W
    assert [r.getMessage() for r in caplog.records].count(
        "pool m: profile 'hand/qwen3-8b' is not in the packaged profile store; using the plan's operating point "
        "(constant TPOT, power linear idle->busy)") == 1 and len(caplog.records) == 1


def test_an_unreadable_store_is_an_error(monkeypatch):
    # a broken packaged store cannot be produced here without editing the installed package: the loader
    # is replaced by one that fails as an unreadable file would
    import murakkab.profiles.store as store

    def broken():
        raise OSError("profiles.json: permission denied")
    monkeypatch.setattr(store, "load_profiles", broken)
    with pytest.raises(OSError, match="permission denied"):
        curves.store_resolver()
