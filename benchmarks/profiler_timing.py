"""Client-side timing error of `murakkab profile model` against a server with scripted token timing.

The scripted server (tests/profiling/scripted_server.py, its own process) streams every request's
tokens at absolute times: first at TTFT, then one every TPOT. The profiler measures each operating
point; this script prints, per number of concurrent streams, the measured TPOT median and p90, TTFT
p50 and throughput against the scripted values (throughput's reference: c streams x n tokens per
request cycle TTFT + (n - 1) x TPOT, plus the measured per-request turnaround gap).

    python benchmarks/profiler_timing.py [--streams 1,64,256] [--ttft 0.2] [--tpot 0.1] [--tokens 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.profiling.scripted_server import Scripted  # noqa: E402
from tests.server.live import free_port  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,64,256")
    ap.add_argument("--ttft", type=float, default=0.2)
    ap.add_argument("--tpot", type=float, default=0.1)
    ap.add_argument("--tokens", type=int, default=8)
    ap.add_argument("--window", type=float, default=1.8)
    ap.add_argument("--time-cap", type=float, default=20.0)
    args = ap.parse_args()
    from murakkab.catalog.load import build_catalog
    from murakkab.profiles.user import read_model_profiles
    with tempfile.TemporaryDirectory() as tmp:
        wl = Path(tmp) / "wl.jsonl"
        wl.write_text(json.dumps({"input_tokens": 20, "output_tokens": args.tokens}) + "\n")
        out = Path(tmp) / "cat"
        t0 = time.time()
        with Scripted(free_port(), args.ttft, args.tpot) as s:
            r = subprocess.run([sys.executable, "-m", "murakkab.cli", "profile", "model", "--endpoint", s.base_url,
                                "--model", "scripted", "--hardware", "H100-80GB", "--concurrency", args.streams,
                                "--out", str(out), "--workload", str(wl), "--window", str(args.window),
                                "--time-cap", str(args.time_cap)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        [prof] = read_model_profiles(out / "model_profiles.csv", build_catalog(str(out)))
    cycle = args.ttft + (args.tokens - 1) * args.tpot
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; {time.time() - t0:.0f} s")
    print(f"scripted: TTFT {args.ttft * 1e3:.0f} ms, TPOT {args.tpot * 1e3:.0f} ms, {args.tokens} tokens per request")
    print("| streams | TPOT p50 ms (error) | TPOT p90 ms | TTFT p50 ms (error) | throughput tok/s (ideal) | in flight |")
    print("|---|---|---|---|---|---|")
    for p in prof.points:
        c = p.max_num_seqs
        ideal = c * args.tokens / cycle
        print(f"| {c} | {p.tpot_median_s * 1e3:.2f} ({(p.tpot_median_s / args.tpot - 1) * 100:+.2f}%) | "
              f"{p.tpot_p90_s * 1e3:.2f} | {p.ttft_s * 1e3:.1f} ({(p.ttft_s / args.ttft - 1) * 100:+.1f}%) | "
              f"{p.throughput_tok_s:.1f} ({ideal:.1f}) | {p.avg_batch:.2f} |")


if __name__ == "__main__":
    main()
