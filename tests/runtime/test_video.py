"""OpenCV scene detection and frame extraction on a video the test writes, and video Q/A end to end
(OpenCV tools local; speech-to-text, detection and the answering model on the simulated backend)."""

import asyncio
import os

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is in the test extra; install it")

from murakkab.errors import MurakkabError  # noqa: E402
from murakkab.runtime import video  # noqa: E402
from murakkab.runtime.backends import parse_backends  # noqa: E402
from murakkab.runtime.service import Runtime, RuntimeConfig  # noqa: E402
from tests.runtime import worlds  # noqa: E402

FPS, PER_SHOT = 10, 12
COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0)]   # BGR: red, green, blue shots


def write_video(path, colours=COLOURS):
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (64, 48))
    assert out.isOpened()
    rng = np.random.default_rng(0)
    for c in colours:
        for _ in range(PER_SHOT):
            frame = np.full((48, 64, 3), c, np.uint8)
            frame = np.clip(frame.astype(int) + rng.integers(-8, 9, frame.shape), 0, 255).astype(np.uint8)
            out.write(frame)
    out.release()
    return str(path)


def test_three_coloured_shots_are_three_scenes_with_their_frame_bounds(tmp_path):
    path = write_video(tmp_path / "v.avi")
    scenes = video.detect_scenes(path)
    assert [(s.start_frame, s.end_frame) for s in scenes] == [(0, 12), (12, 24), (24, 36)]
    assert scenes[1].start_s == pytest.approx(12 / FPS)
    frames = video.extract_frames(path, scenes, 2, str(tmp_path / "f"))
    # centres of two halves of each 12-frame scene: offsets 3 and 9
    assert [f["frame"] for f in frames] == [3, 9, 15, 21, 27, 33]
    img = cv2.imread(frames[2]["path"])
    assert img is not None and img[..., 1].mean() > 200           # scene 1 is green


def test_bad_video_paths_are_clear_errors(tmp_path):
    with pytest.raises(MurakkabError, match="not found"):
        video.detect_scenes(str(tmp_path / "missing.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(MurakkabError, match="cannot open|no readable frames"):
        video.detect_scenes(str(junk))


def test_video_qa_end_to_end_on_a_real_video(tmp_path):
    path = write_video(tmp_path / "v.avi")
    plan = worlds.hand_plan()
    vq = plan.routes[1].model_copy(update={"knobs": {"frames_per_scene": 2}})
    plan = plan.model_copy(update={"routes": [plan.routes[0], vq]})
    backends = parse_backends("tools:\n  opencv_scene_detector: {local: true}\n"
                              "  opencv_frame_extractor: {local: true}\n")

    async def go():
        rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=plan, backends=backends, time_scale=0.001))
        await rt.start()
        try:
            rid = rt.submit("t", "video_qa", "accuracy:good", {"video": path, "question": "what colours?"})
            return await rt.wait(rid)
        finally:
            await rt.stop()

    res = asyncio.run(go())
    assert res.status == "completed", res.error
    steps = {s.task: s for s in res.steps}
    assert len(steps["scenes"].output["scenes"]) == 3 and not steps["scenes"].simulated
    frames = steps["frames"].output["frames"]
    assert len(frames) == 6 and all(os.path.isfile(f["path"]) for f in frames)
    assert steps["answer"].simulated and steps["answer"].tokens_out == 100
    assert res.energy_wh == pytest.approx(sum(s.energy_wh for s in res.steps))
