"""Workflow-level cluster simulator: a Plan over a day of traffic on modelled instances."""
