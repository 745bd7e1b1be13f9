"""DAG-aware placement study (papers.md §1.14.6) on the packaged profiles.

The paper: a composite request with a 30 s SLO, Gemma-3-27B on 4 x A100; OmDet and Whisper on
dedicated GPUs: 6 GPUs, SLO met; both on CPUs: 4 GPUs, SLO violated (OmDet saturates the cores);
OmDet on one GPU and Whisper on CPU: 5 GPUs, SLO met, chosen for least energy.

Here: video_qa (the video part of such a composite), Gemma-3-27B preferred for the answer, A100 the
only GPU type, five frames per scene, speech-to-text on, every placement of Whisper (transcript) and
OmDet (detections) forced in turn and planned by the optimizer for least energy, then planned with
the placement free. Latency is checked at the optimizer's 0.99 quantile on every DAG path.
Run: python3 benchmarks/placement_study.py [--rate RPS]
"""

from __future__ import annotations

import sys

from murakkab.optimizer.placement import placement_study

SETUP = dict(knobs={"frames": {"frames_per_scene": 5}, "transcript": {"stt": "on"}},
             prefer_models={"answer": ["gemma-3-27b"]})


def main(argv: list[str]) -> None:
    rate = float(argv[argv.index("--rate") + 1]) if "--rate" in argv else 0.1
    for slo in (30.0, 40.0, 60.0):
        study = placement_study(slo_s=slo, rate_rps=rate, **SETUP)
        print(f"\nSLO {slo:g} s, {rate:g} requests/s, A100 + CPU-64C nodes, least energy")
        print(f"{'placement':40} {'GPUs':>5} {'CPU nodes':>9} {'kWh/h':>7} {'path s':>7}  verdict")
        for o in (*study.outcomes, study.free):
            label = o.label() if o.placement else "optimizer's choice: " + ", ".join(
                f"{t} on {h}" for t, h in o.chosen.items())
            if o.feasible:
                print(f"{label:40} {o.total_gpus:5d} {sum(o.cpu_nodes.values()):9d} "
                      f"{o.energy_kwh_per_epoch:7.2f} {o.critical_path_s:7.1f}  met")
            else:
                fastest = o.reason.split(" takes ")[1].split(" s ")[0] if " takes " in o.reason else "?"
                print(f"{label:40} {'-':>5} {'-':>9} {'-':>7} {fastest:>7}  cannot be met (fastest path)")


if __name__ == "__main__":
    main(sys.argv[1:])
