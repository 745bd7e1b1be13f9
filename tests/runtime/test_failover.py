"""Backend faults through the router: retried, failed over, or failed explicitly with the reasons."""

import asyncio

import pytest

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.calls import BackendError, CallRequest, NoInstanceLeft
from murakkab.runtime.cluster import RuntimeCluster
from tests.runtime import worlds
from tests.runtime.faulty_server import FaultyServer

MSG = [{"role": "user", "content": "hi"}]


def _cluster(*urls, retries=3):
    eps = "".join(f"    - {{base_url: '{u}', served_model: tiny}}\n" for u in urls)
    cfg = parse_backends(f"defaults: {{read_timeout_s: 0.5, retries: {retries}, backoff_s: 0.01}}\n"
                         f"models:\n  qwen3-8b:\n{eps}")
    return RuntimeCluster(worlds.hand_plan(), cfg)


def _call(cluster):
    async def go():
        try:
            return await cluster.call("m", CallRequest(call_id="c", messages=MSG))
        finally:
            await cluster.aclose()
    return asyncio.run(go())


@pytest.mark.parametrize("fault", ["500", "hang", "cut"])
def test_a_faulty_instance_is_failed_over_to_a_healthy_one(fault):
    with FaultyServer(fault) as bad, FaultyServer("ok") as good:
        cluster = _cluster(bad.base_url, good.base_url)
        out = _call(cluster)
    assert out.text == "hello world" and out.tokens_out == 2 and out.tokens_in == 7
    assert out.instance == "m/2" and out.attempts == 2 and bad.hits == 1 and good.hits == 1


def test_an_instance_that_is_gone_is_skipped():
    with FaultyServer("ok") as good:
        gone = "http://127.0.0.1:9/v1"          # discard port: connection refused
        out = _call(_cluster(gone, good.base_url))
    assert out.text == "hello world" and out.attempts == 2


def test_with_no_instance_left_the_call_fails_with_every_reason():
    with FaultyServer("500") as a, FaultyServer("cut") as b:
        cluster = _cluster(a.base_url, b.base_url, retries=3)
        with pytest.raises(NoInstanceLeft) as err:
            _call(cluster)
    msg = str(err.value)
    assert "4 failed attempt(s)" in msg and "HTTP 500" in msg and "mid-stream" in msg
    assert a.hits + b.hits == 4


def test_a_client_error_is_not_retried():
    with FaultyServer("400") as bad, FaultyServer("ok") as good:
        cluster = _cluster(bad.base_url, good.base_url)
        with pytest.raises(BackendError) as err:
            _call(cluster)
    assert "HTTP 400" in str(err.value) and bad.hits == 1 and good.hits == 0


def test_failed_attempts_are_counted_per_pool_in_the_metrics(tmp_path):
    # the first call goes to the first endpoint (both idle: ties to the first), which answers 500: one
    # failed attempt on pool m, then the healthy endpoint answers
    from murakkab.runtime.service import Runtime, RuntimeConfig

    with FaultyServer("500") as bad, FaultyServer("ok") as good:
        async def go():
            rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(),
                                       backends=_cluster(bad.base_url, good.base_url).backends))
            await rt.start()
            try:
                out = await rt.cluster.call("m", CallRequest(call_id="c", messages=MSG))
                return out, rt.metrics.registry.get_sample_value("murakkab_backend_failures_total", {"pool": "m"})
            finally:
                await rt.stop()
        out, failures = asyncio.run(go())
    assert out.attempts == 2 and failures == 1.0
