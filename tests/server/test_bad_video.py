"""A video the server cannot use (missing, not a video) is the client's error: HTTP 422 with the reason,
not a 500, and the journal records the request as failed with that reason."""

import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is in the test extra; install it")

from fastapi.testclient import TestClient  # noqa: E402

from murakkab.runtime.backends import parse_backends  # noqa: E402
from murakkab.runtime.service import RuntimeConfig  # noqa: E402
from murakkab.server.app import ServerConfig, create_app  # noqa: E402
from tests.runtime import worlds  # noqa: E402


@pytest.fixture
def client(tmp_path):
    backends = parse_backends("tools:\n  opencv_scene_detector: {local: true}\n  opencv_frame_extractor: {local: true}\n")
    cfg = ServerConfig(auth=False, runtime=RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(),
                                                         backends=backends, time_scale=0.001))
    with TestClient(create_app(cfg)) as c:
        yield c


@pytest.mark.parametrize("make, needle", [
    (lambda d: str(d / "missing.mp4"), "video file not found"),
    (lambda d: (d / "notes.mp4").write_text("not a video") and str(d / "notes.mp4"), "cannot open"),
])
def test_an_unusable_video_is_a_422_and_a_failed_job(client, tmp_path, make, needle):
    path = make(tmp_path)
    r = client.post("/v1/workflows/video_qa/invoke",
                    json={"tier": "accuracy:good", "inputs": {"video": path, "question": "what happens?"}})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["type"] == "bad_input" and needle in err["message"] and path in err["message"]
    assert "fix:" in err["message"]
    job = client.get(f"/v1/jobs/{err['job_id']}").json()
    assert job["status"] == "failed" and job["error"].startswith("bad input: ") and needle in job["error"]
