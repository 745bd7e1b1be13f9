"""Experiments: scenarios that plan with the optimizer, run the plans in the simulator and hand the
run directories to `murakkab.report` for comparison. The top of the layout: may import any layer."""
