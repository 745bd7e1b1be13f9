"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis + hypothesis):
every operation, with generated valid and invalid bodies, paths, queries and headers, answers below
500 and leaves the keep-alive connection usable. All cases go over one persistent HTTP/1.1
connection to a real uvicorn server, so a server that drops a connection fails the very next case.

Bounded for CI: FUZZ_EXAMPLES examples per operation (default 10; raise it locally for a longer hunt).
"""

from __future__ import annotations

import http.client
import json
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from murakkab.runtime.journal import Journal
from murakkab.runtime.service import Limits, RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds
from tests.server.live import InThread

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    """A real server on the hand plan (simulated backend, 1000x faster than real time), an admin key,
    and one persistent connection to it."""
    db = str(tmp_path_factory.mktemp("fuzz") / "j.db")
    j = Journal(db)
    key = j.add_tenant("admin", max_concurrency=10_000)
    j.close()
    app = create_app(ServerConfig(runtime=RuntimeConfig(db_path=db, plan=worlds.hand_plan(), time_scale=0.001,
                                                         limits=Limits(max_body_bytes=50_000, max_dag_tasks=8))))
    with InThread(app) as base:
        port = int(base.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        yield {"base": base, "headers": {"Authorization": f"Bearer {key}"}, "conn": conn}
        conn.close()


def _send(live_api, case) -> None:
    conn: http.client.HTTPConnection = live_api["conn"]
    kwargs = case.as_transport_kwargs(base_url=live_api["base"], headers=live_api["headers"])
    prepared = requests.Request(**{k: v for k, v in kwargs.items()
                                   if k in ("method", "url", "headers", "params", "json", "data", "cookies", "files")}
                                ).prepare()
    path = prepared.path_url
    sock_before = conn.sock
    conn.request(prepared.method, path, body=prepared.body, headers=dict(prepared.headers))
    response = conn.getresponse()
    body = response.read()
    assert response.status < 500, f"{prepared.method} {path} -> {response.status}: {body[:500]!r}"
    if response.getheader("content-type", "").startswith("application/json") and body:
        json.loads(body)                                   # every JSON answer parses
    assert not response.will_close, f"{prepared.method} {path}: the server closed the connection"
    assert sock_before is None or conn.sock is sock_before, f"{prepared.method} {path}: a new connection was needed"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_no_broken_connection(live_api, mode):
    schema = schemathesis.openapi.from_url(f"{live_api['base']}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15            # every route of the API is fuzzed, not a few
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            _send(live_api, case)

        try:
            fuzz()
        except Unsatisfiable:
            # an operation with no parameters or body (GET /healthz) has nothing to make invalid
            assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid case could be generated"
