"""Profiles a user makes: `murakkab profile model` drives an OpenAI-compatible endpoint and writes
measured operating points; `murakkab profile workflow` runs a configuration over a scored dataset
and writes a measured workflow profile. Both write into a user catalogue (catalog/user.py)."""
