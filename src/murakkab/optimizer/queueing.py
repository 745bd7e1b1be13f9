"""Queueing bound for pools that serve latency tiers (Erlang C).

The optimizer's latency model has no queueing term: a step's latency is its service time at the
operating point. A call that arrives when every slot of its pool is busy waits, and a latency tier
with little slack misses. The router sends a call to the least-loaded ready instance, so a call
waits only when all `instances × slots` slots of the pool are busy: the pool behaves like one
M/M/s queue with s = instances × slots. Erlang's C formula gives the chance that an arriving call
finds every server busy; the optimizer sizes each pool with a latency user so that this chance is at
most a target (`PlanRequest.latency_wait_probability`).

Assumptions (stated, not measured): Poisson arrivals, exponential service (the tools' fixed service
times wait less, so the bound is conservative for them), slots that serve independently (decode
slots share the instance's batch; the operating point's throughput already prices that in).
"""

from __future__ import annotations

import math

from murakkab.errors import MurakkabError


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/`servers` queue with `offered` Erlangs of load
    (arrival rate × mean service time). 1.0 when the load reaches the servers (the queue grows)."""
    if servers < 1:
        raise MurakkabError(f"Erlang C needs at least one server, got {servers}")
    if offered < 0 or math.isnan(offered):
        raise MurakkabError(f"offered load must be >= 0 Erlangs, got {offered}")
    if offered == 0:
        return 0.0
    if offered >= servers:
        return 1.0
    # Erlang B by its stable recursion B(k) = a·B(k−1) / (k + a·B(k−1)), then C from B.
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    rho = offered / servers
    return b / (1.0 - rho + rho * b)


def instances_for_wait(slots: int, offered: float, wait_probability: float) -> int:
    """Fewest instances of `slots` slots each such that an arriving call waits with probability at
    most `wait_probability` (Erlang C on the pooled slots); at least 1."""
    if not 0 < wait_probability <= 1:
        raise MurakkabError(f"wait probability must be in (0, 1], got {wait_probability} (fix: e.g. 0.01)")
    if slots < 1:
        raise MurakkabError(f"a pool instance needs at least one slot, got {slots}")
    n = max(1, math.floor(offered / slots))       # below offered/slots the queue grows without bound
    while erlang_c(n * slots, offered) > wait_probability:
        n += 1
    return n
