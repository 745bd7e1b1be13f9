"""murakkab: serve agentic AI workflows with the least energy, cost and hardware that meets each SLO."""

__version__ = "0.1.0"
