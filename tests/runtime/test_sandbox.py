from murakkab.runtime.sandbox import run_python


def test_passing_and_failing_tests():
    ok = run_python("def add(a, b):\n    return a + b\nassert add(2, 2) == 4\n")
    bad = run_python("def add(a, b):\n    return a - b\nassert add(2, 2) == 4\n")
    assert ok.passed and ok.reason == "ok"
    assert not bad.passed and bad.reason == "failed" and "AssertionError" in bad.stderr


def test_limits_stop_runaway_code():
    spin = run_python("while True:\n    pass\n", wall_s=10, cpu_s=1)
    assert not spin.passed and spin.reason in ("cpu", "timeout")
    hog = run_python("x = bytearray(2_000_000_000)\n", memory_mb=256)
    assert not hog.passed and hog.reason == "memory"
    sleepy = run_python("import time\ntime.sleep(30)\n", wall_s=0.5)
    assert sleepy.reason == "timeout" and sleepy.returncode is None


def test_code_runs_in_an_empty_isolated_directory():
    r = run_python("import os\nassert os.listdir('.') == ['main.py'], os.listdir('.')\n"
                   "import sys\nassert sys.flags.isolated\n")
    assert r.passed, r.stderr
