"""Every CLI error is one line on stderr and exit code 2, with what is wrong and how to fix it, and
changes nothing (issue 12, finding 6)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from murakkab.cli import app


def one_line_error(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    text = res.output
    assert text.startswith("error: ") and text.count("\n") == 1, text
    for n in needles:
        assert n in text, text
    return text


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    res = CliRunner().invoke(app, ["plan", "--rate", "reasoning:accuracy:good=0.5", "--out", str(path)])
    assert res.exit_code == 0, res.output
    return path


def test_serve_with_a_journal_in_a_missing_directory(tmp_path):
    db = tmp_path / "nonexistent" / "dir" / "x.db"
    one_line_error(CliRunner().invoke(app, ["serve", "--db", str(db)]), f"cannot open the journal {db}",
                   "does not exist")
    assert not db.parent.exists()


def test_tenant_add_to_a_file_that_is_not_a_journal(tmp_path):
    db = tmp_path / "notadb.db"
    db.write_text("these are my notes, not a database\n")
    one_line_error(CliRunner().invoke(app, ["tenant", "add", "x", "--db", str(db)]),
                   "file is not a database", "fix:")
    assert db.read_text() == "these are my notes, not a database\n"


def test_simulate_into_an_existing_file(plan_file, tmp_path):
    taken = tmp_path / "results.txt"
    taken.write_text("keep me")
    one_line_error(CliRunner().invoke(app, ["simulate", "--plan", str(plan_file), "--hours", "0.1", "--out", str(taken)]),
                   f"--out {taken} is a file, not a directory")
    assert taken.read_text() == "keep me"


def test_simulate_into_a_directory_below_a_file(plan_file, tmp_path):
    taken = tmp_path / "results.txt"
    taken.write_text("keep me")
    one_line_error(CliRunner().invoke(app, ["simulate", "--plan", str(plan_file), "--hours", "0.1",
                                            "--out", str(taken / "run")]), f"is inside {taken}")


@pytest.mark.parametrize("rate", ["reasoning:accuracy:good=1e308", "reasoning:latency:good=1e6"])
def test_plan_a_rate_no_budget_could_hold(rate):
    one_line_error(CliRunner().invoke(app, ["plan", "--rate", rate]), "the 2,000,000", "lower the request rates")


def test_plan_out_in_a_missing_directory(tmp_path):
    out = tmp_path / "no" / "such" / "plan.json"
    one_line_error(CliRunner().invoke(app, ["plan", "--rate", "reasoning:accuracy:good=0.5", "--out", str(out)]),
                   f"cannot write the plan to {out}")


@pytest.mark.parametrize("args, needle", [
    (["simulate", "--plan", "no-such-plan.json"], "Invalid value for '--plan'"),
    (["plan", "--rate"], "Option '--rate' requires an argument"),
    (["no-such-command"], "No such command 'no-such-command'"),
    (["tenant", "add"], "Missing argument"),
    (["plan", "--time-limit", "soon"], "'--time-limit'"),
])
def test_usage_errors_are_one_line_too(args, needle):
    # click's usage block and boxed panel were several lines; the same facts now fit in one
    one_line_error(CliRunner().invoke(app, args), needle, "--help')")


def test_help_still_prints_and_exits_0():
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0 and "Usage" in res.output and "plan" in res.output


def test_report_into_an_existing_file(tmp_path):
    taken = tmp_path / "report.html"
    taken.write_text("keep me")
    one_line_error(CliRunner().invoke(app, ["report", str(tmp_path), "--out", str(taken)]),
                   f"--out {taken} is a file, not a directory")
    assert taken.read_text() == "keep me"
