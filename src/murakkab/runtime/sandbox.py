"""Run untrusted code (the testers' generated tests against candidate programs) in a subprocess
with CPU-time, address-space and wall-clock limits, an isolated interpreter (-I) and an empty
temporary working directory. POSIX only (resource limits)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class RunResult:
    passed: bool
    returncode: int | None        # None: killed on the wall-clock limit
    reason: str                   # "ok" | "failed" | "timeout" | "memory" | "cpu"
    stdout: str
    stderr: str


def _limits(cpu_s: int, memory_mb: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))   # no fork bombs
    return apply


def run_python(code: str, *, wall_s: float = 10.0, cpu_s: int = 5, memory_mb: int = 512) -> RunResult:
    """Run `code` with `python -I`; passed = exit status 0 within the limits."""
    with tempfile.TemporaryDirectory(prefix="murakkab-sandbox-") as tmp:
        script = os.path.join(tmp, "main.py")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(code)
        try:
            proc = subprocess.run([sys.executable, "-I", script], cwd=tmp, capture_output=True, text=True,
                                  timeout=wall_s, preexec_fn=_limits(cpu_s, memory_mb),
                                  env={"PATH": "/usr/bin:/bin"})
        except subprocess.TimeoutExpired as exc:
            return RunResult(False, None, "timeout", _tail(exc.stdout), _tail(exc.stderr))
    rc = proc.returncode
    reason = "ok" if rc == 0 else "failed"
    if rc == -24 or rc == -9 and "MemoryError" not in proc.stderr:   # SIGXCPU, or killed on the CPU hard limit
        reason = "cpu"
    if "MemoryError" in proc.stderr:
        reason = "memory"
    return RunResult(rc == 0, rc, reason, _tail(proc.stdout), _tail(proc.stderr))


def _tail(s, n: int = 2000) -> str:
    if s is None:
        return ""
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    return s[-n:]
