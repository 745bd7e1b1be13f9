"""Profile-guided optimizer: tiers, the planning MILP, plans, Pareto fronts, explanations."""

from murakkab.optimizer.api import Demand, PlanRequest, make_plan, tiers_for
from murakkab.optimizer.explain import InfeasiblePlan
from murakkab.optimizer.milp import SolveStopped

__all__ = ["Demand", "PlanRequest", "make_plan", "tiers_for", "InfeasiblePlan", "SolveStopped"]
