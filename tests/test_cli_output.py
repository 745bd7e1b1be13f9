"""The CLI for people and scripts: stdout carries only murakkab's own output."""

from __future__ import annotations

import subprocess
import sys


def murakkab(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real command in a fresh process (HiGHS prints its banner once per process)."""
    return subprocess.run([sys.executable, "-m", "murakkab.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_the_solver_banner_stays_off_stdout():
    res = murakkab("plan", "--rate", "reasoning:accuracy:good=1")
    assert res.returncode == 0, res.stderr
    assert "HiGHS" in res.stdout            # the Solve table names the solver ...
    assert "Running HiGHS" not in res.stdout and "Copyright" not in res.stdout   # ... its banner is not there
