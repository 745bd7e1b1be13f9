"""Which curve a model pool runs on: the packaged profile store's, else the plan's own operating point."""

from __future__ import annotations

import logging
from collections.abc import Callable

from murakkab.instance.curve import InstanceCurve, curve_from_points, plan_point_curve
from murakkab.plan.schema import Pool

_log = logging.getLogger(__name__)

CurveResolver = Callable[[Pool], InstanceCurve]


def store_resolver() -> CurveResolver:
    """Resolve a model pool's curve from the packaged profile store by `pool.profile` label. The store
    must load: an unreadable store is an error, never a silent constant TPOT. A pool whose label the
    store does not have (a hand-built plan) uses the plan's own operating point; that fallback is
    logged once per label and named in the curve's `basis`."""
    from murakkab.profiles.store import load_profiles
    profiles = {prof.key.label(): prof for prof in load_profiles().model_profiles}
    warned: set[str] = set()

    def resolve(pool: Pool) -> InstanceCurve:
        prof = profiles.get(pool.profile)
        if prof is not None and pool.max_num_seqs:
            return curve_from_points(prof.points, pool.max_num_seqs, pool.power_idle_w, pool.power_busy_w,
                                     pool.profile)
        if pool.profile not in warned:
            warned.add(pool.profile)
            _log.warning("pool %s: profile %r is not in the packaged profile store; using the plan's operating "
                         "point (constant TPOT, power linear idle->busy)", pool.id, pool.profile)
        return plan_point_curve(pool)

    return resolve
