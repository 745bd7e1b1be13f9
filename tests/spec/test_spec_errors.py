"""Every kind of bad spec gives one SpecError naming the file, the line, the task and the fix.

Specs are written out by hand so the expected line numbers can be counted in the text.
"""

import textwrap

import pytest

from murakkab.errors import SpecError
from murakkab.spec import WorkflowBuilder, build_workflow, load_workflow

FILE = "wf.yaml"


def error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_workflow(textwrap.dedent(text).lstrip("\n"), FILE)
    return info.value


def test_malformed_yaml_reports_yaml_line():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
           inputs: {prompt: inputs.p}
        output: a
        """)
    assert e.file == FILE and e.line == 6  # the badly indented 'inputs' line
    assert "malformed YAML" in str(e) and "fix:" in str(e)


def test_duplicate_mapping_key_is_rejected_with_both_lines():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            capability: reasoning
            inputs: {prompt: inputs.p}
        output: a
        """)
    assert e.line == 6 and "duplicate key 'capability' (first on line 5)" in str(e)


def test_duplicate_task_names():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            inputs: {prompt: inputs.p}
          - name: a
            capability: chat
            inputs: {prompt: inputs.p}
        output: a
        """)
    assert (e.file, e.line, e.task) == (FILE, 7, "a")
    assert "duplicate task name 'a' (first on line 4)" in str(e)
    assert "unique name" in e.fix


def test_cycle_is_listed():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            inputs: {prompt: b}
          - name: b
            capability: chat
            inputs: {prompt: a}
        output: b
        """)
    assert e.line == 4 and e.task == "a"
    assert "a -> b -> a" in str(e) and "remove one of these edges" in e.fix


def test_self_loop_is_a_cycle():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            inputs: {prompt: a}
        output: a
        """)
    assert "a -> a" in str(e) and e.task == "a"


def test_unknown_capability_suggests_nearest():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: reasonin
            inputs: {problem: inputs.p}
        output: a
        """)
    assert (e.line, e.task) == (5, "a")
    assert "unknown capability 'reasonin'" in str(e) and "did you mean: reasoning" in e.fix


@pytest.mark.parametrize("source, expect", [
    ("inputs.q", "unknown workflow input 'q'"),
    ("nosuch", "unknown task 'nosuch'"),
])
def test_dangling_inputs(source, expect):
    e = error(f"""
        name: x
        inputs: {{p: text}}
        tasks:
          - name: a
            capability: chat
            inputs:
              prompt: {source}
        output: a
        """)
    assert (e.line, e.task) == (7, "a") and expect in str(e)


def test_workflow_input_named_without_prefix_gets_the_right_fix():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            inputs: {prompt: p}
        output: a
        """)
    assert "use 'inputs.p' for the workflow input" in e.fix


def test_missing_required_port():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: code_debate
            inputs: {problem: inputs.p}
          - name: t
            capability: code_test
            inputs: {candidates: a}
        output: t
        """)
    assert (e.line, e.task) == (9, "t")
    assert "required input port(s) problem" in str(e) and "map problem" in e.fix


def test_unknown_port_suggests_the_capability_ports():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            inputs: {promt: inputs.p}
        output: a
        """)
    assert (e.line, e.task) == (6, "a")
    assert "no input port 'promt'" in str(e) and "did you mean: prompt" in e.fix


def test_type_mismatch_names_both_types():
    e = error("""
        name: x
        inputs: {v: video, q: text}
        tasks:
          - name: s
            capability: scene_detection
            inputs: {video: inputs.v}
          - name: answer
            capability: vision_language_qa
            inputs:
              question: inputs.q
              frames: s
        output: answer
        """)
    assert (e.line, e.task) == (11, "answer")
    assert "gives 'scenes'" in str(e) and "expects 'frames'" in str(e)
    assert "type 'frames'" in e.fix


def test_workflow_input_type_mismatch():
    e = error("""
        name: x
        inputs: {v: text}
        tasks:
          - name: s
            capability: scene_detection
            inputs: {video: inputs.v}
        output: s
        """)
    assert "workflow input 'v' gives 'text'" in str(e) and e.line == 6


def test_unknown_knob_lists_the_capability_knobs():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: reasoning
            inputs: {problem: inputs.p}
            knobs: {sample: 5}
        output: a
        """)
    assert (e.line, e.task) == (7, "a")
    assert "unknown knob 'sample'" in str(e) and "knobs of 'reasoning': samples" in e.fix


def test_knob_value_outside_domain_names_the_domain():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: reasoning
            inputs: {problem: inputs.p}
            knobs:
              samples: 7
        output: a
        """)
    assert (e.line, e.task) == (8, "a")
    # The domain as written in catalog/data/executors.yaml (self_consistency.samples).
    assert "value 7 is outside its domain" in str(e) and "1, 3, 5, 8, 16" in e.fix


def test_model_is_not_a_knob():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: reasoning
            inputs: {problem: inputs.p}
            knobs: {model: qwen3-8b}
        output: a
        """)
    assert "'model' is not a knob" in str(e) and "prefer: {models: [qwen3-8b]}" in e.fix


@pytest.mark.parametrize("key, kind, value, near", [
    ("prefer", "models", "qwen3-8", "qwen3-8b"),
    ("forbid", "models", "qwen3-32", "qwen3-32b"),
    ("prefer", "hardware", "H100-80G", "H100-80GB"),
    ("forbid", "hardware", "A100-80G", "A100-80GB"),
])
def test_unknown_model_or_hardware_suggests_nearest(key, kind, value, near):
    e = error(f"""
        name: x
        inputs: {{p: text}}
        tasks:
          - name: a
            capability: reasoning
            inputs: {{problem: inputs.p}}
            {key}:
              {kind}: [{value}]
        output: a
        """)
    assert (e.line, e.task) == (8, "a")
    assert f"{key}: unknown {'model' if kind == 'models' else 'hardware'} '{value}'" in str(e)
    assert near in e.fix


def test_preferred_model_that_cannot_serve_the_capability():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: reasoning
            inputs: {problem: inputs.p}
            prefer: {models: [gemma-3-27b]}
        output: a
        """)
    assert "cannot serve capability 'reasoning'" in str(e) and "qwen3-8b" in e.fix


def test_all_candidate_models_forbidden():
    # self_consistency is the only executor of 'reasoning'; these are all of its models (executors.yaml).
    all_models = ("qwen3-8b, qwen3-14b, qwen3-32b, qwen3-30b-a3b-thinking, nemotron-nano-9b-v2, "
                  "gpt-oss-20b, gpt-oss-120b, deepseek-r1-0528")
    e = error(f"""
        name: x
        inputs: {{p: text}}
        tasks:
          - name: a
            capability: reasoning
            inputs: {{problem: inputs.p}}
            forbid: {{models: [{all_models}]}}
        output: a
        """)
    assert (e.line, e.task) == (4, "a")
    assert "every candidate executor is excluded" in str(e) and "self_consistency (all its models forbidden)" in str(e)
    assert "forbid fewer models" in e.fix


def test_all_hardware_of_a_tool_forbidden():
    # The scene detector is placed on CPU only (executors.yaml); CPU-64C is the catalogue's only CPU.
    e = error("""
        name: x
        inputs: {v: video}
        tasks:
          - name: s
            capability: scene_detection
            inputs: {video: inputs.v}
            forbid: {hardware: [CPU-64C]}
        output: s
        """)
    assert "opencv_scene_detector (all its hardware forbidden)" in str(e)


def test_output_naming_unknown_task():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: answer
            capability: chat
            inputs: {prompt: inputs.p}
        output: answr
        """)
    assert e.line == 7 and "output names unknown task 'answr'" in str(e) and "did you mean: answer" in e.fix


def test_python_tags_are_rejected_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    e = error(f"""
        name: x
        inputs: {{p: text}}
        tasks:
          - name: a
            capability: !!python/object/apply:os.system ["touch {marker}"]
            inputs: {{prompt: inputs.p}}
        output: a
        """)
    assert e.line == 5 and "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in str(e)
    assert not marker.exists()


def test_unknown_key_suggests_allowed_keys():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capabilty: chat
            inputs: {prompt: inputs.p}
        output: a
        """)
    assert (e.line, e.task) == (5, "a")
    assert "unknown key 'capabilty'" in str(e) and "capability" in e.fix


def test_missing_key_points_at_the_task():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            inputs: {prompt: inputs.p}
        output: a
        """)
    assert (e.line, e.task) == (4, "a") and "missing required key 'capability'" in str(e)


def test_unknown_workflow_input_type():
    e = error("""
        name: x
        inputs: {p: txt}
        tasks:
          - name: a
            capability: chat
            inputs: {prompt: inputs.p}
        output: a
        """)
    assert e.line == 2 and "unknown type 'txt'" in str(e) and "did you mean: text" in e.fix


def test_message_has_file_line_task_and_fix_in_one_line():
    e = error("""
        name: x
        inputs: {p: text}
        tasks:
          - name: a
            capability: chat
            inputs: {prompt: inputs.p}
            knobs: {samples: 3}
        output: a
        """)
    text = str(e)
    assert text.startswith("wf.yaml:7: task 'a': unknown knob 'samples'") and "(fix: remove it;" in text
    assert "\n" not in text


def test_python_api_errors_name_the_task_without_a_file():
    wf = WorkflowBuilder("x", inputs={"p": "text"})
    wf.task("a", "chat", prompt="b")
    with pytest.raises(SpecError) as info:
        build_workflow(wf.build(output="a"))
    assert info.value.file is None and info.value.line is None and info.value.task == "a"
    assert "unknown task 'b'" in str(info.value)


def test_alias_bomb_is_refused_quickly():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    e = error("\n".join(levels) + "\nname: x\n")  # 10^9 leaves if expanded
    assert "more than 100000 nodes" in str(e)


def test_two_documents_are_refused():
    e = error("name: x\n---\nname: y\n")
    assert e.line == 2 and "malformed YAML" in str(e)


def test_builder_rejects_bad_preferences_with_a_spec_error():
    wf = WorkflowBuilder("x", inputs={"p": "text"})
    with pytest.raises(SpecError) as info:
        wf.task("a", "chat", prompt=wf.input("p"), prefer={"model": ["qwen3-8b"]})
    assert info.value.task == "a" and "model" in str(info.value)
