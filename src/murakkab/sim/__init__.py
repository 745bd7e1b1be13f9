"""Workflow-level cluster simulator: a Plan over a day of traffic on modelled instances."""

from murakkab.sim._core import guard as _guard

# the compiled event core runs only when it was built from the current sources (see sim/_core.py)
PURE_REASON = _guard(__name__, __path__[0])
