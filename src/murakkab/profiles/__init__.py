"""Profiles: model profiles (serving measurements), tool profiles and workflow profiles, with sources.

Entry point: `murakkab.profiles.store.load_profiles()`.
"""
