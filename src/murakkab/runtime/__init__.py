"""The runtime: executes plans' DAGs on real or simulated backends, journals every request.

    from murakkab.runtime import Runtime, RuntimeConfig
"""
