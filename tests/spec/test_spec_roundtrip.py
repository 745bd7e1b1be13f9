"""Property: random valid DAG specs survive YAML <-> Python <-> LogicalWorkflow unchanged.

Specs chain the text->text capabilities (chat, reasoning) and optionally the video chain, whose
question may come from a text task. Every task reads only from tasks generated before it, so the
graph is a DAG by construction; the list is then shuffled, since specs may list tasks in any order.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from murakkab.catalog import load_catalog
from murakkab.spec import WorkflowBuilder, WorkflowSpec, build_workflow, parse_spec
from murakkab.spec.model import Preferences, TaskSpec

CAT = load_catalog()
GPUS = [h.name for h in CAT.hardware.values() if h.kind == "gpu"]
TEXT_PORT = {"chat": "prompt", "reasoning": "problem"}

names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(lambda s: s != "inputs")
# Characters that YAML treats specially, so the writer's quoting is exercised, plus ordinary letters.
prose = st.text(alphabet=st.one_of(st.sampled_from(list("a :#'\"-!&*|>{}[],%@`?~é")),
                                   st.characters(codec="utf-8", categories=("L", "N", "P", "Zs"))), max_size=40)


@st.composite
def preferences(draw, models: list[str]) -> tuple[Preferences, Preferences]:
    """Prefer/forbid that leave at least one model and one GPU, and never both prefer and forbid one."""
    prefer_m = draw(st.lists(st.sampled_from(models), unique=True, max_size=2))
    rest = [m for m in models if m not in prefer_m]
    forbid_m = draw(st.lists(st.sampled_from(rest), unique=True, max_size=len(rest) - 1)) if len(rest) > 1 else []
    prefer_h = draw(st.lists(st.sampled_from(GPUS), unique=True, max_size=2))
    free = [h for h in GPUS if h not in prefer_h]
    forbid_h = draw(st.lists(st.sampled_from(free), unique=True, max_size=len(free) - 1)) if len(free) > 1 else []
    return Preferences(models=prefer_m, hardware=prefer_h), Preferences(models=forbid_m, hardware=forbid_h)


@st.composite
def specs(draw) -> WorkflowSpec:
    n_text = draw(st.integers(1, 6))
    video = draw(st.booleans())
    tnames = draw(st.lists(names, min_size=n_text + 5, max_size=n_text + 5, unique=True))
    inputs = {"prompt": "text"}
    if video:
        inputs["video"] = "video"
    tasks: list[TaskSpec] = []
    for i in range(n_text):
        cap = draw(st.sampled_from(sorted(TEXT_PORT)))
        src = draw(st.sampled_from(["inputs.prompt"] + [t.name for t in tasks]))
        [ex] = CAT.executors_for(cap)
        prefer, forbid = draw(preferences(list(ex.models)))
        knobs = {}
        if cap == "reasoning" and draw(st.booleans()):
            knobs["samples"] = draw(st.sampled_from(ex.knobs["samples"]))
        tasks.append(TaskSpec(name=tnames[i], capability=cap, inputs={TEXT_PORT[cap]: src},
                              prefer=prefer, forbid=forbid, knobs=knobs))
    if video:
        s, f, tr, d, a = tnames[n_text:]
        question = draw(st.sampled_from(["inputs.prompt"] + [t.name for t in tasks]))
        fps = draw(st.sampled_from([{}, {"frames_per_scene": 1}, {"frames_per_scene": 10}]))
        stt = draw(st.sampled_from([{}, {"stt": "on"}, {"stt": "off"}]))
        tasks += [TaskSpec(name=s, capability="scene_detection", inputs={"video": "inputs.video"}),
                  TaskSpec(name=f, capability="frame_extraction", inputs={"scenes": s}, knobs=fps),
                  TaskSpec(name=tr, capability="speech_to_text", inputs={"scenes": s}, knobs=stt),
                  TaskSpec(name=d, capability="object_detection", inputs={"frames": f})]
        ports = {"question": question, "frames": f}
        if draw(st.booleans()):
            ports["transcript"] = tr
        if draw(st.booleans()):
            ports["detections"] = d
        prefer, forbid = draw(preferences(list(CAT.executors["vlm_answer"].models)))
        tasks.append(TaskSpec(name=a, capability="vision_language_qa", inputs=ports, prefer=prefer, forbid=forbid))
    order = draw(st.permutations(tasks))
    return WorkflowSpec(name=draw(names), description=draw(prose), inputs=inputs, tasks=list(order),
                        output=draw(st.sampled_from([t.name for t in tasks])))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(specs())
def test_yaml_python_logical_round_trip(spec):
    text = spec.to_yaml()
    parsed, _ = parse_spec(text)
    assert parsed == spec
    wf = build_workflow(spec)
    assert wf.to_spec() == spec
    again = build_workflow(parse_spec(wf.to_yaml())[0])
    assert again == wf


@SETTINGS
@given(specs())
def test_builder_gives_the_same_spec(spec):
    b = WorkflowBuilder(spec.name, inputs=spec.inputs, description=spec.description)
    for t in spec.tasks:
        b.task(t.name, t.capability, prefer=t.prefer.model_dump(), forbid=t.forbid.model_dump(), knobs=t.knobs,
               **t.inputs)
    assert b.build(spec.output) == spec


@SETTINGS
@given(specs())
def test_order_and_paths_respect_every_edge(spec):
    wf = build_workflow(spec)
    edges = {(b.name, t.name) for t in spec.tasks for b in wf.tasks[t.name].bindings.values() if b.kind == "task"}
    order = wf.topological_order()
    pos = {n: i for i, n in enumerate(order)}
    assert sorted(order) == sorted(wf.tasks)
    assert all(pos[u] < pos[v] for u, v in edges)
    sources = {n for n in wf.tasks if not any(v == n for _, v in edges)}
    sinks = {n for n in wf.tasks if not any(u == n for u, _ in edges)}
    paths = wf.paths()
    assert len(set(paths)) == len(paths)
    for p in paths:
        assert p[0] in sources and p[-1] in sinks
        assert all((u, v) in edges for u, v in zip(p, p[1:]))
    # Every edge lies on some path, and every source starts one.
    assert {(u, v) for p in paths for u, v in zip(p, p[1:])} == edges
    assert {p[0] for p in paths} == sources
