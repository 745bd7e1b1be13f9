"""`murakkab validate` and `murakkab workflows` as a user runs them."""

from typer.testing import CliRunner

from murakkab.cli import app

runner = CliRunner()

GOOD = "name: g\ninputs: {p: text}\ntasks:\n  - {name: a, capability: chat, inputs: {prompt: inputs.p}}\noutput: a\n"
BAD = "name: b\ninputs: {p: text}\ntasks:\n  - {name: a, capability: chat, inputs: {prompt: inputs.p}}\noutput: z\n"


def test_validate_good_and_bad_files(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text(BAD)
    ok = runner.invoke(app, ["validate", str(good)])
    assert ok.exit_code == 0 and "ok: g (1 tasks)" in ok.stdout
    res = runner.invoke(app, ["validate", str(good), str(bad)])
    assert res.exit_code == 2
    assert "ok: g (1 tasks)" in res.stdout
    assert f"{bad}:5: output names unknown task 'z'" in res.stderr.replace("\n", "")


def test_validate_builtin():
    res = runner.invoke(app, ["validate", "--builtin"])
    assert res.exit_code == 0
    for line in ("ok: code_gen (3 tasks)", "ok: reasoning (1 tasks)", "ok: video_qa (5 tasks)"):
        assert line in res.stdout


def test_validate_without_arguments_and_missing_file(tmp_path):
    assert runner.invoke(app, ["validate"]).exit_code == 2
    res = runner.invoke(app, ["validate", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2 and "file not found" in res.stderr


def test_workflows_lists_builtins_and_tasks():
    res = runner.invoke(app, ["workflows"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for word in ("video_qa", "code_gen", "reasoning", "transcript", "detections", "debate", "pick", "solve"):
        assert word in res.stdout


def test_validate_a_spec_nested_hundreds_of_levels_deep_is_one_error_line(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: deep\ninputs: " + "[" * 500 + "]" * 500 + "\ntasks: []\noutput: x\n")
    res = runner.invoke(app, ["validate", str(deep)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "nested far more than 32 levels deep" in res.stderr.replace("\n", " ")
