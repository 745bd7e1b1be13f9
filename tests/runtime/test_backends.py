"""The backends file: tools may be remote or local only where a client or an implementation exists,
and the refusal names which tools may be."""

import pytest

from murakkab.errors import MurakkabError
from murakkab.runtime.backends import parse_backends

EP = "{endpoints: [{base_url: 'http://127.0.0.1:9/v1'}]}"


@pytest.mark.parametrize("tools, needles", [
    (f"omdet_detector: {EP}", ["'omdet_detector' has no remote client", "['whisper_stt']"]),
    (f"opencv_scene_detector: {EP}", ["no remote client", "or set 'local: true'"]),
    ("whisper_stt: {local: true}", ["'whisper_stt' has no local implementation", "'python_interpreter'",
                                    "or give it endpoints"]),
    ("opencv_frame_extractor: {local: true, endpoints: [{base_url: 'http://x/v1'}]}", ["both"]),
])
def test_tools_without_a_client_or_implementation_are_refused(tools, needles):
    with pytest.raises(MurakkabError) as err:
        parse_backends(f"tools:\n  {tools}\n", "b.yaml")
    assert str(err.value).startswith("b.yaml: ")
    for n in needles:
        assert n in str(err.value)


def test_supported_tool_backends_load():
    cfg = parse_backends(f"tools:\n  whisper_stt: {EP}\n  python_interpreter: {{local: true}}\n"
                         "  opencv_scene_detector: {local: true}\n  opencv_frame_extractor: {local: true}\n")
    assert cfg.tools["whisper_stt"].endpoints[0].base_url.endswith("/v1")


def test_a_hardware_label_is_refused_because_accounting_uses_the_plans_pool():
    with pytest.raises(MurakkabError) as err:
        parse_backends("models:\n  qwen3-8b:\n    - {base_url: 'http://127.0.0.1:8080/v1', hardware: H100-80GB}\n",
                       "b.yaml")
    msg = str(err.value)
    assert "models.qwen3-8b.0" in msg and "'hardware' is not part of the format" in msg
    assert msg.count("(fix:") == 1 and "remove the key" in msg
