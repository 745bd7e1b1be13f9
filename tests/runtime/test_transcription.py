"""Speech-to-text through an OpenAI-compatible /v1/audio/transcriptions endpoint.

The server is `transcription_server.TranscriptionServer`, a loopback stand-in for a real
transcription server because none (no Whisper weights) can run here: it implements the route's
contract (multipart upload of `file` and `model` in, `{"text": ...}` out) and "transcribes" an upload
as the duration it measured from the WAV, so each assertion below can be worked out by hand.
"""

import asyncio
import io
import subprocess
import wave

import pytest

from murakkab.runtime.backends import parse_backends
from murakkab.runtime.calls import CallRequest, NoInstanceLeft
from murakkab.runtime.cluster import RuntimeCluster
from murakkab.runtime.service import Runtime, RuntimeConfig
from tests.runtime import worlds
from tests.runtime.transcription_server import TranscriptionServer


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return buf.getvalue()


def _cluster(*urls, retries=2, read_timeout=5.0):
    eps = "".join(f"      - {{base_url: '{u}', served_model: whisper-1}}\n" for u in urls)
    cfg = parse_backends(f"defaults: {{read_timeout_s: {read_timeout}, retries: {retries}, backoff_s: 0.01}}\n"
                         f"tools:\n  whisper_stt:\n    endpoints:\n{eps}")
    return RuntimeCluster(worlds.hand_plan(), cfg)


def _call(cluster, audio=("clip.wav", None)):
    async def go():
        try:
            return await cluster.call("t-stt", CallRequest(call_id="c", payload=(audio[0], audio[1] or wav_bytes(1.25))))
        finally:
            await cluster.aclose()
    return asyncio.run(go())


def test_an_uploaded_file_comes_back_as_the_servers_text():
    with TranscriptionServer() as srv:
        out = _call(_cluster(srv.base_url))
    assert out.text == "1.25 s of audio at 16000 Hz in clip.wav for whisper-1"
    assert srv.requests == [("clip.wav", "whisper-1", 1.25)]
    assert out.attempts == 1 and not out.simulated and out.energy_basis == "modelled" and out.energy_wh > 0


def test_a_500_is_retried():
    with TranscriptionServer("500-once") as srv:
        out = _call(_cluster(srv.base_url))
    assert out.text.startswith("1.25 s of audio") and out.attempts == 2 and srv.hits == 2


def test_a_timeout_fails_over_and_with_no_instance_left_the_call_fails_with_the_reason():
    with TranscriptionServer("hang") as slow, TranscriptionServer() as ok:
        out = _call(_cluster(slow.base_url, ok.base_url, read_timeout=0.3))
        assert out.text.startswith("1.25 s") and out.attempts == 2 and out.instance == "t-stt/2"
        with pytest.raises(NoInstanceLeft) as err:
            _call(_cluster(slow.base_url, retries=1, read_timeout=0.3))
    assert "2 failed attempt(s)" in str(err.value) and "timed out" in str(err.value)


def _video_with_audio(path, seconds=(2.0, 3.0)):
    """Shots of solid colours (one per entry, 10 fps) over a continuous 440 Hz tone, written by ffmpeg."""
    from murakkab.runtime.audio import ffmpeg_exe
    colours = ["red", "blue", "green"]
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y"]
    for c, d in zip(colours, seconds):
        cmd += ["-f", "lavfi", "-i", f"color=c={c}:s=160x120:r=10:d={d}"]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={sum(seconds)}"]
    n = len(seconds)
    cmd += ["-filter_complex", "".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]",
            "-map", "[v]", "-map", f"{n}:a", "-c:v", "mpeg4", "-c:a", "aac", str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return str(path)


def test_video_qa_transcribes_each_scenes_audio_cut_from_the_video(tmp_path):
    pytest.importorskip("imageio_ffmpeg", reason="LOUD SKIP: imageio-ffmpeg (static ffmpeg) is in the test extra")
    video = _video_with_audio(tmp_path / "v.mp4")
    with TranscriptionServer() as srv:
        backends = parse_backends("tools:\n  opencv_scene_detector: {local: true}\n"
                                  "  opencv_frame_extractor: {local: true}\n"
                                  f"  whisper_stt:\n    endpoints: [{{base_url: '{srv.base_url}', served_model: whisper-1}}]\n")

        async def go():
            rt = Runtime(RuntimeConfig(db_path=str(tmp_path / "j.db"), plan=worlds.hand_plan(), backends=backends,
                                       time_scale=0.001))
            await rt.start()
            try:
                return await rt.wait(rt.submit("t", "video_qa", "accuracy:good", {"video": video, "question": "?"}))
            finally:
                await rt.stop()

        res = asyncio.run(go())
    assert res.status == "completed", res.error
    steps = {s.task: s for s in res.steps}
    scenes = steps["scenes"].output["scenes"]
    assert [(s["start_frame"], s["end_frame"]) for s in scenes] == [(0, 20), (20, 50)]   # 2 s and 3 s at 10 fps
    tr = steps["transcript"]
    assert not tr.simulated and tr.calls == 2 and tr.pools == ["t-stt"]
    assert [(t["scene"], t["start_s"], t["end_s"]) for t in tr.output] == [(0, 0.0, 2.0), (1, 2.0, 5.0)]
    # each upload held its scene's audio: 2 s and 3 s (an AAC frame, 1024 samples = 0.023 s, of slack)
    got = sorted(srv.requests)
    assert [n for n, _, _ in got] == ["scene000.wav", "scene001.wav"]
    assert got[0][2] == pytest.approx(2.0, abs=0.03) and got[1][2] == pytest.approx(3.0, abs=0.03)
    assert tr.output[0]["text"].startswith(f"{got[0][2]:.2f} s of audio at 16000 Hz in scene000.wav")
    assert steps["answer"].simulated


def test_a_video_without_audio_fails_the_request_saying_so(tmp_path):
    from murakkab.errors import MurakkabError
    from murakkab.runtime.audio import cut_audio
    from tests.runtime.test_video import write_video
    silent = write_video(tmp_path / "silent.avi")          # OpenCV writes no audio track
    with pytest.raises(MurakkabError, match="does it have an audio track"):
        cut_audio(silent, 0.0, 1.0)
