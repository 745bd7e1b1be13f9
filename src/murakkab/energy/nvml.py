"""Optional GPU energy counters via NVML (`nvidia-ml-py`, imported as `pynvml`).

Absent-safe: without the package, a driver or a GPU, every function returns None and the caller
labels its energy `modelled`. Never raises. nvidia-ml-py is not a dependency of murakkab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _nvml() -> Any | None:
    try:
        import pynvml  # type: ignore[import-not-found]
    except Exception:   # not installed, or broken install
        return None
    try:
        pynvml.nvmlInit()
    except Exception:   # no driver / no GPU
        return None
    return pynvml


def read_energy_mj(gpu_indices: Sequence[int]) -> dict[int, int] | None:
    """Cumulative energy (millijoules since driver load) of each GPU, or None if unavailable.

    Energy over an interval = difference of two readings; that figure is `measured`."""
    nv = _nvml()
    if nv is None:
        return None
    try:
        out = {}
        for i in gpu_indices:
            handle = nv.nvmlDeviceGetHandleByIndex(i)
            out[i] = int(nv.nvmlDeviceGetTotalEnergyConsumption(handle))
        return out
    except Exception:   # counter unsupported (pre-Volta), bad index, driver error
        return None
    finally:
        try:
            nv.nvmlShutdown()
        except Exception:
            pass


def energy_between_wh(before: dict[int, int] | None, after: dict[int, int] | None) -> float | None:
    """GPU energy (Wh) between two readings of the same GPUs; None if either is missing."""
    if before is None or after is None or before.keys() != after.keys():
        return None
    return sum(after[i] - before[i] for i in before) / 1000.0 / 3600.0
