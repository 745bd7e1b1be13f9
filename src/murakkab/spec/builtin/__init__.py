"""Packaged workflow specs (YAML), loadable with `murakkab.spec.load_builtin(name)`."""
