"""`murakkab compile SPEC [--write]` as a developer runs it."""

from typer.testing import CliRunner

from murakkab.cli import app
from murakkab.spec import load_builtin, load_file
from tests.orchestrator.scripted_server import ScriptedServer
from tests.orchestrator.test_resolve import RIGHT, sentences, wrong_types
from tests.server.live import free_port

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def test_compile_prints_the_workflow_and_write_saves_a_spec_that_loads_without_a_resolver(tmp_path):
    f = tmp_path / "vqa.yaml"
    f.write_text(sentences("video_qa"))
    shown = runner.invoke(app, ["compile", str(f)], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "resolved by matcher" in shown.stdout and "whisper_stt" in shown.stdout
    assert "transcribe the scenes' audio" in shown.stdout and "confidence" in shown.stdout
    assert f.read_text() == sentences("video_qa")          # nothing written without --write
    wrote = runner.invoke(app, ["compile", str(f), "--write"], env=WIDE)
    assert wrote.exit_code == 0 and f"wrote {f}" in wrote.stdout.replace("\n", "")
    assert load_file(f) == load_builtin("video_qa")
    assert runner.invoke(app, ["validate", str(f)]).exit_code == 0
    # compiling the written spec again needs nothing resolved
    again = runner.invoke(app, ["compile", str(f)], env=WIDE)
    assert again.exit_code == 0 and "none needed" in again.stdout


def test_compile_with_an_orchestrator_shows_the_rejected_answer(tmp_path):
    f, out = tmp_path / "vqa.yaml", tmp_path / "resolved.yaml"
    f.write_text(sentences("video_qa"))
    with ScriptedServer([wrong_types(), RIGHT]) as srv:
        res = runner.invoke(app, ["compile", str(f), "--orchestrator", srv.base_url, "--model", "m",
                                  "--out", str(out)], env=WIDE)
    assert res.exit_code == 0, res.output
    assert "answer 1 was sent back" in res.stdout and "type mismatch" in res.stdout
    assert load_file(out) == load_builtin("video_qa") and f.read_text() == sentences("video_qa")


def test_compile_errors_exit_2_and_leave_the_file_alone(tmp_path):
    f = tmp_path / "r.yaml"
    text = sentences("reasoning").replace("solve the math problem and return the final answer", "bake a cake")
    f.write_text(text)
    res = runner.invoke(app, ["compile", str(f), "--write"])
    assert res.exit_code == 2 and "no executor matches 'bake a cake'" in res.stderr.replace("\n", " ")
    assert f.read_text() == text
    down = runner.invoke(app, ["compile", str(f), "--write", "--orchestrator", f"http://127.0.0.1:{free_port()}/v1"])
    assert down.exit_code == 2 and "unreachable" in down.stderr and f.read_text() == text
    bad_mode = runner.invoke(app, ["compile", str(f), "--orchestrator", "http://127.0.0.1:1/v1", "--mode", "xml"])
    assert bad_mode.exit_code == 2 and "mode 'xml' is unknown" in bad_mode.stderr
    missing = runner.invoke(app, ["compile", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "file not found" in missing.stderr
