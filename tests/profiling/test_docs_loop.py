"""docs/profiling.md's walk-through, run as written: from a running llama.cpp server with a model to a plan
and a served request that use the model's measured profile (the tiny random-weight model stands in for
the user's GGUF file; ports are free ones)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("gguf", reason="LOUD SKIP: gguf is not installed; it is in the test extra (pip install gguf)")
pytest.importorskip("llama_cpp.server", reason="LOUD SKIP: llama-cpp-python[server] is not installed; it is in "
                                               "the test extra and builds from source in ~7 min")

from tests.runtime.tiny_gguf import write_tiny_llama  # noqa: E402
from tests.server.live import free_port  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "profiling.md"


def test_the_walk_through_runs_as_written(tmp_path):
    text = DOC.read_text()
    section = text[text.index("<!-- loop:start -->"):text.index("<!-- loop:end -->")]
    [script] = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    write_tiny_llama(str(tmp_path / "my-model.gguf"))
    env = {**os.environ, "LLAMA_PORT": str(free_port()), "MURAKKAB_PORT": str(free_port()), "COLUMNS": "1000",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MURAKKAB_CATALOG", None)
    r = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600, start_new_session=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    plan = json.loads((tmp_path / "plan.json").read_text())
    [pool] = plan["pools"]
    assert pool["model"] == "my-model" and pool["hardware"] == "CPU-HOST"
    rows = (tmp_path / "my-catalog" / "model_profiles.csv").read_text().splitlines()
    assert len(rows) == 4 and pool["max_num_seqs"] in (1, 2, 4)           # header + the three measured points
    assert any("user catalogue profile" in n for n in plan["notes"])
    answer = json.loads((tmp_path / "answer.json").read_text())
    assert answer["model"] == "reasoning:accuracy:good" and answer["choices"][0]["message"]["role"] == "assistant"
    assert "my-catalog/models.yaml" in r.stdout                           # step 5 shows where entries came from
