"""The Plan: what the optimizer decides and what the runtime and the simulator consume."""

from murakkab.plan.schema import (PLAN_SCHEMA_VERSION, Plan, PlanTotals, Pool, PoolUser, Route, RouteVariant, SolveInfo,
                                  StepPlan, TierSpec)

__all__ = ["PLAN_SCHEMA_VERSION", "Plan", "PlanTotals", "Pool", "PoolUser", "Route", "RouteVariant", "SolveInfo", "StepPlan",
           "TierSpec"]
