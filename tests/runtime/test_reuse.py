"""Which built-in an upload is nearest to, and how it differs: by what its tasks compute (capability),
not by the alphabet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from murakkab.runtime.reuse import mismatch, nearest, same_dag_as
from murakkab.spec import builtin_names, load_builtin, load_workflow
from murakkab.spec.load import builtin_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "runtime.md"


@pytest.fixture(scope="module")
def builtins():
    return {n: load_builtin(n) for n in builtin_names()}


def test_the_docs_ask_example_is_nearest_to_reasoning(builtins):
    # docs/runtime.md's own upload: one task 'answer' with the reasoning capability. The only built-in
    # with a reasoning task is 'reasoning' (its one task is called 'solve'); no built-in shares a task
    # name and capability with it, which is why alphabetical tie-breaking said 'code_gen'
    text = re.search(r"cat > ask.yaml <<'EOF'\n(.*?)\nEOF", DOCS.read_text(), re.S).group(1)
    ask = load_workflow(text)
    assert same_dag_as(ask, builtins) is None
    assert nearest(ask, builtins) == "reasoning"
    assert mismatch(ask, builtins) == "nearest built-in 'reasoning': task 'answer' (reasoning) is 'solve' there"


def test_a_renamed_copy_names_the_rename(builtins):
    text = builtin_text("video_qa").replace("name: video_qa", "name: my_vqa").replace("name: transcript", "name: stt")
    text = text.replace("transcript: transcript", "transcript: stt")
    wf = load_workflow(text)
    assert nearest(wf, builtins) == "video_qa"
    assert mismatch(wf, builtins) == "nearest built-in 'video_qa': task 'stt' (speech_to_text) is 'transcript' there"


def test_a_missing_task_and_a_changed_edge_are_named(builtins):
    # video_qa without object detection: the answer no longer follows 'detections'
    text = builtin_text("video_qa").replace("name: video_qa", "name: lean_vqa")
    text = re.sub(r"  - name: detections\n.*?\n.*?\n", "", text).replace("      detections: detections\n", "")
    wf = load_workflow(text)
    assert nearest(wf, builtins) == "video_qa"
    text = mismatch(wf, builtins)
    assert "its tasks missing: 'detections' (object_detection)" in text
    assert "task 'answer' follows ['frames', 'transcript'], not ['detections', 'frames', 'transcript']" in text
