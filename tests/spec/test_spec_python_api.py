"""The Python API builds the same spec as YAML; preferences and fixed knobs narrow the candidates."""

import textwrap

from murakkab.spec import WorkflowBuilder, build_workflow, load_builtin, load_workflow, parse_spec


def test_builder_equals_builtin_yaml():
    wf = WorkflowBuilder("code_gen", inputs={"problem": "text"},
                         description=load_builtin("code_gen").description)
    debate = wf.task("debate", "code_debate", problem=wf.input("problem"))
    tests = wf.task("tests", "code_test", problem=wf.input("problem"), candidates=debate)
    pick = wf.task("pick", "rank", candidates=debate, tests=tests)
    assert build_workflow(wf.build(output=pick)) == load_builtin("code_gen")


def test_preferences_and_knobs_narrow_candidates():
    text = textwrap.dedent("""
        name: r
        inputs: {p: text}
        tasks:
          - name: solve
            capability: reasoning
            inputs: {problem: inputs.p}
            prefer: {models: [qwen3-32b], hardware: [H100-80GB]}
            forbid: {models: [deepseek-r1-0528, gpt-oss-120b], hardware: [A100-80GB]}
            knobs: {samples: 5}
        output: solve
        """).lstrip("\n")
    wf = load_workflow(text)
    [c] = wf.tasks["solve"].candidates
    assert c.models == ("qwen3-8b", "qwen3-14b", "qwen3-32b", "qwen3-30b-a3b-thinking", "nemotron-nano-9b-v2",
                        "gpt-oss-20b")
    assert c.knobs == {"samples": (5,)}
    assert c.hardware == ("H100-80GB", "H100-80GB-CAP70", "H200-141GB", "B200-180GB", "CPU-64C")
    assert wf.tasks["solve"].preferred_models == ("qwen3-32b",)
    assert wf.tasks["solve"].line == 4


def test_yaml_on_off_stay_strings():
    # YAML 1.1 would read a bare `off` as false; the spec loader keeps it the knob value 'off'.
    text = textwrap.dedent("""
        name: v
        inputs: {v: video}
        tasks:
          - {name: s, capability: scene_detection, inputs: {video: inputs.v}}
          - {name: t, capability: speech_to_text, inputs: {scenes: s}, knobs: {stt: off}}
        output: t
        """)
    spec, _ = parse_spec(text)
    assert spec.tasks[1].knobs == {"stt": "off"}
    assert load_workflow(text).tasks["t"].candidates[0].knobs == {"stt": ("off",)}
