"""Energy: per-query Monte Carlo estimator, fleet projection, carbon, validation."""
