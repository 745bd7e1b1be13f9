"""Cold load of the catalogue + every profile, each in a fresh Python process.

Run: python3 benchmarks/profiles_load.py [repeats]   (target: median under 1 s)
Reports the median and range of the in-process load time (imports + parsing + validation) and of the
whole process wall time (interpreter start included).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

CHILD = """
import time
t0 = time.perf_counter()
from murakkab.profiles.store import load_profiles
s = load_profiles()
t1 = time.perf_counter()
print(t1 - t0, len(s.model_profiles), sum(len(p.points) for p in s.model_profiles), len(s.workflow_profiles))
"""


def main(repeats: int = 7) -> None:
    loads, walls = [], []
    for _ in range(repeats):
        w0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout.split()
        walls.append(time.perf_counter() - w0)
        loads.append(float(out[0]))
    print(f"profiles: {out[1]} model profiles, {out[2]} operating points, {out[3]} workflow configs")
    print(f"cold load (in process): median {statistics.median(loads):.3f} s, "
          f"min {min(loads):.3f}, max {max(loads):.3f} over {repeats} fresh processes")
    print(f"process wall time:      median {statistics.median(walls):.3f} s, min {min(walls):.3f}, max {max(walls):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
