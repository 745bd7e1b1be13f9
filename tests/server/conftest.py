import pytest
from fastapi.testclient import TestClient

from murakkab.runtime.service import Limits, RuntimeConfig
from murakkab.server.app import ServerConfig, create_app
from tests.runtime import worlds


@pytest.fixture
def server(tmp_path, request):
    """A server on the hand plan (simulated backend at 1/1000 of real time unless parametrized) with tenants admin, acme, beta."""
    from murakkab.runtime.journal import Journal
    db = str(tmp_path / "j.db")
    j = Journal(db)
    keys = {"admin": j.add_tenant("admin"), "acme": j.add_tenant("acme"), "beta": j.add_tenant("beta", 1)}
    j.close()
    cfg = ServerConfig(runtime=RuntimeConfig(db_path=db, plan=worlds.hand_plan(), time_scale=getattr(request, "param", 0.001),
                                             limits=Limits(max_body_bytes=20_000, max_dag_tasks=8)))
    with TestClient(create_app(cfg)) as client:
        client.keys = keys
        client.hdr = lambda who: {"Authorization": f"Bearer {keys[who]}"}
        yield client
