"""Scene detection and frame extraction on real video files with OpenCV.

Scene cuts: each frame is reduced to a normalised HSV colour histogram (8x8x8 bins on a frame
downscaled to at most 160 px wide); a cut is declared where the Bhattacharyya distance to the
previous frame's histogram exceeds `threshold` (0 = identical, 1 = disjoint). Scenes shorter than
`min_scene_frames` are merged into the previous one so flicker does not split a shot.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from murakkab.errors import MurakkabError
from murakkab.runtime.calls import BadInput


@dataclass(frozen=True)
class Scene:
    index: int
    start_frame: int
    end_frame: int          # exclusive
    start_s: float
    end_s: float


def _cv2():
    try:
        import cv2
    except ImportError:
        raise MurakkabError("OpenCV is not installed (fix: pip install 'murakkab[serve]' or "
                            "opencv-python-headless)") from None
    return cv2


def _open(path: str):
    cv2 = _cv2()
    if not os.path.isfile(path):
        raise BadInput(f"video file not found: {path!r} (fix: pass the path of a readable video file on the server)")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise BadInput(f"OpenCV cannot open {path!r} as a video (fix: use a format OpenCV reads, e.g. MP4/AVI)")
    return cap


def detect_scenes(path: str, threshold: float = 0.4, min_scene_frames: int = 3) -> list[Scene]:
    """Scenes of the video at `path`, in order, covering every frame."""
    cv2 = _cv2()
    cap = _open(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    cuts, prev, n = [0], None, 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            if w > 160:
                frame = cv2.resize(frame, (160, max(1, h * 160 // w)), interpolation=cv2.INTER_AREA)
            hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
            hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 8, 8], [0, 180, 0, 256, 0, 256])
            cv2.normalize(hist, hist)
            if prev is not None and cv2.compareHist(prev, hist, cv2.HISTCMP_BHATTACHARYYA) > threshold:
                if n - cuts[-1] >= min_scene_frames:
                    cuts.append(n)
            prev, n = hist, n + 1
    finally:
        cap.release()
    if n == 0:
        raise BadInput(f"{path!r} has no readable frames (fix: check the file is a complete video)")
    bounds = cuts + [n]
    return [Scene(i, a, b, a / fps, b / fps) for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]


def extract_frames(path: str, scenes: list[Scene], per_scene: int, out_dir: str) -> list[dict]:
    """`per_scene` evenly spaced frames of each scene written as JPEG into `out_dir`;
    returns [{scene, frame, time_s, path}] in order."""
    if per_scene < 1:
        raise MurakkabError(f"frames per scene must be >= 1, got {per_scene}")
    cv2 = _cv2()
    os.makedirs(out_dir, exist_ok=True)
    cap = _open(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    out = []
    try:
        for sc in scenes:
            length = sc.end_frame - sc.start_frame
            k = min(per_scene, length)
            # centre of each of k equal parts of the scene
            picks = [sc.start_frame + int((j + 0.5) * length / k) for j in range(k)]
            for f in picks:
                cap.set(cv2.CAP_PROP_POS_FRAMES, f)
                ok, frame = cap.read()
                if not ok:
                    continue
                fp = os.path.join(out_dir, f"scene{sc.index:03d}_frame{f:06d}.jpg")
                cv2.imwrite(fp, frame)
                out.append({"scene": sc.index, "frame": f, "time_s": f / fps, "path": fp})
    finally:
        cap.release()
    return out


def scenes_to_data(scenes: list[Scene]) -> list[dict]:
    return [asdict(s) for s in scenes]


def scenes_from_data(data: list[dict]) -> list[Scene]:
    return [Scene(**d) for d in data]
