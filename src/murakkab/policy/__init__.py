"""Policy shared by the runtime and the simulator: routing, scaling, re-planning, accounting."""
