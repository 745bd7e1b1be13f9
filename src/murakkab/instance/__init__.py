"""One instance model, below both bodies: what an instance draws and how fast it decodes at a given
occupancy, and which work each call did in an interval (the split itself is `policy.accounting`).

The simulator (`sim/`), the runtime (`runtime/`), the dashboard (`server/`) and the optimizer's
energy estimate all take their numbers from here; this package imports none of them.
"""

from murakkab.instance.curve import InstanceCurve, constant_curve, curve_from_points, plan_point_curve
from murakkab.instance.model import ModelInstanceModel, ToolInstanceModel, instance_model, pool_charges
from murakkab.instance.resolve import CurveResolver, store_resolver

__all__ = ["InstanceCurve", "constant_curve", "curve_from_points", "plan_point_curve", "ModelInstanceModel",
           "ToolInstanceModel", "instance_model", "pool_charges", "CurveResolver", "store_resolver"]
