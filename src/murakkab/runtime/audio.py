"""Cut each scene's audio out of a video file as 16 kHz mono WAV, for speech-to-text.

Uses the static ffmpeg binary shipped in the `imageio-ffmpeg` wheel (no system ffmpeg needed).
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from murakkab.errors import MurakkabError
from murakkab.runtime.calls import BadInput


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MurakkabError("cutting audio needs ffmpeg (fix: pip install 'murakkab[serve]' or imageio-ffmpeg)") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def cut_audio(video: str, start_s: float, end_s: float, timeout_s: float = 60.0) -> bytes:
    """The audio of `video` from start_s to end_s as WAV bytes (16 kHz, mono, 16-bit PCM)."""
    if not os.path.isfile(video):
        raise BadInput(f"video file not found: {video!r} (fix: pass the path of a readable video file on the server)")
    if not end_s > start_s >= 0:
        raise MurakkabError(f"audio segment must satisfy 0 <= start < end, got {start_s}..{end_s} s")
    with tempfile.TemporaryDirectory(prefix="murakkab-audio-") as d:
        out = os.path.join(d, "clip.wav")     # a file, not a pipe: ffmpeg fills in the WAV sizes at the end
        cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-ss", f"{start_s:.3f}", "-t", f"{end_s - start_s:.3f}",
               "-i", video, "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", out]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise MurakkabError(f"ffmpeg took over {timeout_s} s to cut audio from {video!r}") from None
        data = open(out, "rb").read() if os.path.isfile(out) else b""
    if run.returncode != 0 or len(data) <= 44:       # 44 bytes: a WAV header with no samples
        err = run.stderr.decode("utf-8", "replace").strip()[-300:]
        raise BadInput(f"no audio could be cut from {video!r} at {start_s:.2f}-{end_s:.2f} s"
                            f" (does it have an audio track?): {err or 'empty output'}")
    return data


def scene_clips(scenes_out: dict) -> list[tuple[dict, tuple[str, bytes]]]:
    """(scene, (filename, WAV bytes)) for each scene of a scene detector's output {video, scenes}."""
    video = scenes_out.get("video") if isinstance(scenes_out, dict) else None
    if not isinstance(video, str):
        raise MurakkabError("speech-to-text needs the scene detector's output {video, scenes} to cut audio from")
    return [(sc, (f"scene{sc['index']:03d}.wav", cut_audio(video, sc["start_s"], sc["end_s"])))
            for sc in scenes_out.get("scenes") or []]
