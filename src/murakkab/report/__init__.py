"""Reports of simulation runs: `write_report(run_dir)` -> one self-contained HTML file."""
