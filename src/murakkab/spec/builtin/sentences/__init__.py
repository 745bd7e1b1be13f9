"""The built-in workflows written as sentences (`does:`), for `murakkab compile` and its tests."""
