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

from scipy.special import gammaincc, gammaln

from murakkab.errors import MurakkabError


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/`servers` queue with `offered` Erlangs of load
    (arrival rate × mean service time). 1.0 when the load reaches the servers (the queue grows).

    Constant time in `servers`: Erlang B is the Poisson(offered) probability of exactly `servers`
    over that of at most `servers` (the regularised upper incomplete gamma function Q(servers + 1,
    offered)), taken in logs so that a million servers neither overflows nor underflows; then
    C = B / (1 − ρ + ρ·B) with ρ = offered / servers."""
    if servers < 1:
        raise MurakkabError(f"Erlang C needs at least one server, got {servers}")
    if offered < 0 or math.isnan(offered):
        raise MurakkabError(f"offered load must be >= 0 Erlangs, got {offered}")
    if offered == 0:
        return 0.0
    if offered >= servers:
        return 1.0
    log_pmf = servers * math.log(offered) - offered - gammaln(servers + 1)
    b = math.exp(log_pmf) / gammaincc(servers + 1, offered)
    rho = offered / servers
    return b / (1.0 - rho + rho * b)


def instances_for_wait(slots: int, offered: float, wait_probability: float) -> int:
    """Fewest instances of `slots` slots each such that an arriving call waits with probability at
    most `wait_probability` (Erlang C on the pooled slots); at least 1.

    Erlang C falls as instances are added, so the count is found by galloping up from the stability
    limit offered / slots (steps doubling from about √offered / slots, the square-root staffing
    margin) and then bisecting: O(log) evaluations of Erlang C, each in constant time."""
    if not 0 < wait_probability <= 1:
        raise MurakkabError(f"wait probability must be in (0, 1], got {wait_probability} (fix: e.g. 0.01)")
    if slots < 1:
        raise MurakkabError(f"a pool instance needs at least one slot, got {slots}")
    if not math.isfinite(offered) or offered < 0:
        raise MurakkabError(f"offered load must be a finite number of Erlangs >= 0, got {offered}")

    def meets(n: int) -> bool:
        return erlang_c(n * slots, offered) <= wait_probability

    low = max(1, math.floor(offered / slots))      # below this the queue grows without bound
    if meets(low):
        return low
    step = max(1, math.ceil(math.sqrt(offered) / slots))
    high = low + step
    while not meets(high):                         # gallop: `low` fails, `high` is tried
        low, step = high, step * 2
        high = low + step
    while high - low > 1:                          # bisect: `low` fails, `high` meets the bound
        mid = (low + high) // 2
        if meets(mid):
            high = mid
        else:
            low = mid
    return high
