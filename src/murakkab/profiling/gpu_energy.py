"""GPU energy counters through NVML (`nvidia-ml-py`, imported as `pynvml`) for the model profiler.

NVML's total-energy counter (millijoules since the driver loaded, Volta and later) read at the start
and end of a point's steady windows gives that point's GPU energy: a measurement. Without the
package, a driver or a GPU, `read_energy_mj` returns None and the profiler records power and energy
as unknown. nvidia-ml-py is optional: `pip install nvidia-ml-py` on a host with NVIDIA GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence


def read_energy_mj(gpu_indices: Sequence[int]) -> dict[int, int] | None:
    """Cumulative energy (mJ) of each named GPU, or None when NVML or a counter is unavailable."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:   # noqa: BLE001 - no driver or no GPU: unknown, not an error
        return None
    try:
        return {i: int(pynvml.nvmlDeviceGetTotalEnergyConsumption(pynvml.nvmlDeviceGetHandleByIndex(i)))
                for i in gpu_indices}
    except Exception:   # noqa: BLE001 - unsupported counter (pre-Volta), bad index, driver error
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:   # noqa: BLE001
            pass


def energy_between_j(before: dict[int, int] | None, after: dict[int, int] | None) -> float | None:
    """GPU energy (J) between two readings of the same GPUs; None if either is missing."""
    if before is None or after is None or before.keys() != after.keys():
        return None
    return sum(after[i] - before[i] for i in before) / 1000.0
