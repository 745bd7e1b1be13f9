"""Workflow lifecycle: names follow a pattern; each upload is a new version; a deployed plan keeps running
the version it planned until a newer plan is deployed; DELETE is refused while a plan routes the
workflow, and hides it afterwards."""

import pytest

from murakkab.spec.load import builtin_text

DEMAND = {"tier": "accuracy:good", "peak_rps": 1.0, "avg_rps": 0.5}
PROBLEM = {"tier": "accuracy:good", "inputs": {"problem": "2+2"}}


def _plan(server, *workflows):
    r = server.post("/v1/plans", headers=server.hdr("admin"),
                    json={"demand": [{"workflow": w, **DEMAND} for w in workflows]})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_reupload_does_not_change_what_the_deployed_plan_runs(server):
    acme = server.hdr("acme")
    first = builtin_text("reasoning").replace("name: reasoning", "name: race")
    up = server.post("/v1/workflows", json={"spec": first}, headers=acme).json()
    assert up["version"] == 1
    assert _plan(server, "acme/race", "reasoning")["workflows"]["acme/race"]["version"] == 1

    # the same name, another DAG (a chat step where the vote was)
    second = ("name: race\ninputs:\n  problem: text\ntasks:\n  - name: reply\n    capability: chat\n"
              "    inputs: {prompt: inputs.problem}\noutput: reply\n")
    up = server.post("/v1/workflows", json={"spec": second}, headers=acme).json()
    assert up["version"] == 2 and up["serving_version"] == 1
    assert "keeps running version 1" in up["note"]

    r = server.post("/v1/workflows/race/invoke", json=PROBLEM, headers=acme)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed" and body["output"] is not None
    assert body["output"]["samples"] >= 1 and "votes" in body["output"]   # version 1's vote ran
    job = server.get(f"/v1/jobs/{body['request_id']}", headers=acme).json()
    assert job["workflow_version"] == 1
    wf = server.get("/v1/workflows/race", headers=acme).json()
    assert (wf["version"], wf["serving_version"], list(wf["tasks"])) == (2, 1, ["reply"])

    # a new plan plans the newest version: version 2 has no workflow profile, so planning it says so
    r = server.post("/v1/plans", headers=server.hdr("admin"), json={"demand": [{"workflow": "acme/race", **DEMAND}]})
    assert r.status_code == 409 and r.json()["error"]["type"] == "NoProfile"
    assert "votes" in server.post("/v1/workflows/race/invoke", json=PROBLEM, headers=acme).json()["output"]


def test_a_new_plan_moves_to_the_new_version(server):
    acme = server.hdr("acme")
    spec = builtin_text("reasoning").replace("name: reasoning", "name: race")
    server.post("/v1/workflows", json={"spec": spec}, headers=acme)
    _plan(server, "acme/race")
    described = spec.replace("description:", "description: v2.", 1)
    assert server.post("/v1/workflows", json={"spec": described}, headers=acme).json()["version"] == 2
    assert server.get("/v1/plan", headers=acme).json()["workflow_versions"] == {"acme/race": 1}
    assert _plan(server, "acme/race")["workflows"]["acme/race"]["version"] == 2
    assert server.get("/v1/plan", headers=acme).json()["workflow_versions"] == {"acme/race": 2}
    rid = server.post("/v1/workflows/race/invoke", json=PROBLEM, headers=acme).json()["request_id"]
    assert server.get(f"/v1/jobs/{rid}", headers=acme).json()["workflow_version"] == 2


@pytest.mark.parametrize("name", ["../../etc/passwd", "bob/evil", "1st", "a b", "x" * 65, "ünïcode"])
def test_workflow_names_follow_the_documented_pattern(server, name):
    spec = builtin_text("reasoning").replace("name: reasoning", f"name: '{name}'")
    r = server.post("/v1/workflows", json={"spec": spec}, headers=server.hdr("acme"))
    assert r.status_code == 400 and "letters, digits, '_' or '-'" in r.json()["error"]["message"], r.text
    assert server.get("/v1/workflows", headers=server.hdr("acme")).json()["workflows"] == \
        ["code_gen", "reasoning", "video_qa"]


def test_delete_is_refused_while_routed_and_hides_the_workflow_after(server):
    acme = server.hdr("acme")
    spec = builtin_text("reasoning").replace("name: reasoning", "name: race")
    server.post("/v1/workflows", json={"spec": spec}, headers=acme)
    _plan(server, "acme/race", "reasoning")
    r = server.delete("/v1/workflows/race", headers=acme)
    assert r.status_code == 409 and "routes 'acme/race'" in r.json()["error"]["message"]
    assert server.delete("/v1/workflows/reasoning", headers=acme).status_code == 409      # built-in
    assert server.delete("/v1/workflows/nope", headers=acme).status_code == 404
    assert server.delete("/v1/workflows/race", headers=server.hdr("beta")).status_code == 404   # not theirs

    _plan(server, "reasoning")
    r = server.delete("/v1/workflows/race", headers=acme)
    assert r.status_code == 200 and r.json() == {"name": "race", "deleted": True, "versions": 1}
    assert server.get("/v1/workflows/race", headers=acme).status_code == 404
    assert "race" not in server.get("/v1/workflows", headers=acme).json()["workflows"]
    # uploading the name again continues its numbering
    assert server.post("/v1/workflows", json={"spec": spec}, headers=acme).json()["version"] == 2
