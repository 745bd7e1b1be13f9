"""ML.ENERGY and splitwise loaders: row accounting, values from the files, validation errors."""

import csv
import statistics
from importlib import resources

import pytest

from murakkab.errors import ProfileError
from murakkab.profiles.mlenergy import load_mlenergy
from murakkab.profiles.splitwise import load_splitwise

DATA = resources.files("murakkab.profiles").joinpath("data")


def _csv(*parts):
    return list(csv.DictReader(DATA.joinpath(*parts).read_text(encoding="utf-8").splitlines()))


def _rows_of(point):
    return point.source.rows or (point.source.row,)


# ---- ML.ENERGY ------------------------------------------------------------------------------
def test_every_mlenergy_row_is_exactly_one_point_or_part_of_one_averaged_repeat():
    rows = _csv("ml_energy_v3", "llm_configs.csv")
    assert len(rows) == 838
    profiles = load_mlenergy(repeats="mean")
    covered = [r for p in profiles for pt in p.points for r in _rows_of(pt)]
    assert sorted(covered) == list(range(1, 839))
    merged = [pt for p in profiles for pt in p.points if len(pt.source.rows) > 1]
    # the file measures three configurations twice (rows 177/178, 283/284, 286/287)
    assert sorted(pt.source.rows for pt in merged) == [(177, 178), (283, 284), (286, 287)]
    assert sum(len(p.points) for p in profiles) == 838 - 3


def test_mlenergy_repeats_are_rejected_by_default_naming_both_rows():
    with pytest.raises(ProfileError, match=r"llm_configs.csv row 178: duplicate .*row 177"):
        load_mlenergy()


def test_mlenergy_point_matches_its_source_row():
    rows = _csv("ml_energy_v3", "llm_configs.csv")
    profiles = load_mlenergy(repeats="mean")
    by_row = {pt.source.row: (p, pt) for p in profiles for pt in p.points}
    for n in (1, 300, 838):
        r, (profile, pt) = rows[n - 1], by_row[n]
        assert profile.key.model == r["model_id"]
        assert profile.key.hardware == {"H100": "H100-80GB", "B200": "B200-180GB"}[r["gpu_model"]]
        assert profile.key.workload == r["task"] and pt.max_num_seqs == int(r["max_num_seqs"])
        assert pt.tpot_median_s == pytest.approx(float(r["median_itl_ms"]) / 1000)
        assert pt.tpot_p90_s == pytest.approx(float(r["p90_itl_ms"]) / 1000)
        assert pt.power_w == pytest.approx(float(r["avg_power_watts"]))
        assert pt.energy_per_token_j == pytest.approx(float(r["energy_per_token_joules"]))
        assert pt.ttft_s is None


def test_averaged_repeat_is_the_mean_of_its_two_rows():
    rows = _csv("ml_energy_v3", "llm_configs.csv")
    pt = next(pt for p in load_mlenergy(repeats="mean") for pt in p.points if pt.source.rows == (177, 178))
    assert pt.power_w == pytest.approx((float(rows[176]["avg_power_watts"]) + float(rows[177]["avg_power_watts"])) / 2)
    assert pt.source.basis == "derived"


HEADER = ("task,model_id,gpu_model,num_gpus,tensor_parallel,expert_parallel,data_parallel,max_num_seqs,"
          "avg_batch_size,weight_precision,avg_power_watts,energy_per_token_joules,avg_output_len,"
          "output_throughput_tokens_per_sec,median_itl_ms,p90_itl_ms")


def _row(seqs=8, power="300", tput="200", itl="20"):
    return f"gpqa,m/x,H100,1,1,1,1,{seqs},{seqs},bfloat16,{power},1.5,1000,{tput},{itl},30"


@pytest.mark.parametrize("bad_row, what", [
    (_row(power="nan"), "avg_power_watts"), (_row(power="-5"), "avg_power_watts"),
    (_row(tput="0"), "output_throughput_tokens_per_sec"), (_row(tput="abc"), "output_throughput_tokens_per_sec"),
])
def test_mlenergy_rejects_bad_values_with_file_and_row(tmp_path, bad_row, what):
    f = tmp_path / "configs.csv"
    f.write_text("\n".join([HEADER, _row(seqs=4), bad_row]) + "\n")
    with pytest.raises(ProfileError, match=rf"configs.csv row 2: column '{what}'"):
        load_mlenergy(f)


def test_mlenergy_rejects_duplicate_with_file_and_rows(tmp_path):
    f = tmp_path / "configs.csv"
    f.write_text("\n".join([HEADER, _row(), _row(seqs=16), _row()]) + "\n")
    with pytest.raises(ProfileError, match=r"configs.csv row 3: duplicate .*max_num_seqs=8.*row 1"):
        load_mlenergy(f)


def test_non_monotone_points_are_kept_and_reported(tmp_path):
    f = tmp_path / "configs.csv"
    # TPOT 20 ms at 8, 15 ms at 16 (falls); throughput 200 -> 150 (falls)
    f.write_text("\n".join([HEADER, _row(seqs=8, itl="20", tput="200"), _row(seqs=16, itl="15", tput="150")]) + "\n")
    (p,) = load_mlenergy(f)
    assert [pt.max_num_seqs for pt in p.points] == [8, 16]
    assert len(p.warnings) == 2
    assert "TPOT falls" in p.warnings[0] and "row 1" in p.warnings[0] and "row 2" in p.warnings[0]
    assert "throughput falls" in p.warnings[1]


# ---- splitwise ------------------------------------------------------------------------------
def test_every_a100_and_capped_h100_row_is_in_exactly_one_point():
    rows = _csv("splitwise_perf_model", "perf_model.csv")
    wanted = [i for i, r in enumerate(rows, start=1) if r["hardware"] in ("a100-80gb", "h100-80gb-pcap")]
    assert len(wanted) == 840
    covered = [r for p in load_splitwise() for pt in p.points for r in _rows_of(pt)]
    assert sorted(covered) == wanted


def test_splitwise_point_is_the_median_of_its_runs_and_power_is_normalised_times_tdp():
    rows = _csv("splitwise_perf_model", "perf_model.csv")
    runs = [r for r in rows if (r["model"], r["hardware"], r["tensor_parallel"], r["prompt_size"],
                                r["batch_size"], r["token_size"]) == ("llama2-70b", "a100-80gb", "2", "512", "8", "128")]
    assert len(runs) == 5
    prof = next(p for p in load_splitwise() if p.key.label() == "llama2-70b@2xA100-80GB/tp2/float16/prompt512-gen128")
    pt = next(pt for pt in prof.points if pt.max_num_seqs == 8)
    tpot = statistics.median(float(r["token_time"]) for r in runs) / 1000
    assert pt.tpot_median_s == pytest.approx(tpot)
    assert pt.throughput_tok_s == pytest.approx(8 / tpot)
    assert pt.power_w == pytest.approx(float(runs[0]["average_power"]) * 2 * 400)  # A100 TDP 400 W
    assert pt.energy_per_token_j == pytest.approx(pt.power_w * tpot / 8)
    assert pt.ttft_s == pytest.approx(statistics.median(float(r["prompt_time"]) for r in runs) / 1000)
    # batch 32 and 64 have no power in the file: unknown, not guessed
    assert all(p.power_w is None and p.energy_per_token_j is None for p in prof.points if p.max_num_seqs >= 32)
    # and the TPOT drop from batch 32 to 64 is reported, not dropped
    assert any("TPOT falls" in w and "max_num_seqs=32" in w for w in prof.warnings)


def test_capped_h100_has_no_power():
    capped = [p for p in load_splitwise() if p.key.hardware == "H100-80GB-CAP70"]
    assert capped and all(pt.power_w is None for p in capped for pt in p.points)


SW_HEADER = ("model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,"
             "token_time,e2e_time,tensor_parallel")


@pytest.mark.parametrize("cell, msg", [("nan", "token_time' is nan"), ("-3", "token_time' is -3"),
                                       ("0", "token_time' is 0")])
def test_splitwise_rejects_bad_values_with_file_and_row(tmp_path, cell, msg):
    f = tmp_path / "perf.csv"
    f.write_text("\n".join([SW_HEADER, "m,a100-80gb,512,1,128,1.0,0.7,100,50,5000,2",
                            f"m,a100-80gb,512,2,128,1.0,0.7,100,{cell},5000,2"]) + "\n")
    with pytest.raises(ProfileError, match=rf"perf.csv row 2: column '{msg}"):
        load_splitwise(f, tdp_w={"A100-80GB": 400})


def test_splitwise_rejects_unknown_hardware(tmp_path):
    f = tmp_path / "perf.csv"
    f.write_text("\n".join([SW_HEADER, "m,tpu-v5,512,1,128,1.0,0.7,100,50,5000,2"]) + "\n")
    with pytest.raises(ProfileError, match=r"perf.csv row 1: unknown hardware 'tpu-v5'"):
        load_splitwise(f, tdp_w={"A100-80GB": 400})


def test_splitwise_hand_built_file_median_and_power(tmp_path):
    f = tmp_path / "perf.csv"
    f.write_text("\n".join([SW_HEADER] + [f"m,a100-80gb,512,1,128,1.0,0.5,100,{t},5000,2" for t in (60, 50, 52)]) + "\n")
    (p,) = load_splitwise(f, tdp_w={"A100-80GB": 400})
    (pt,) = p.points
    assert pt.tpot_median_s == pytest.approx(0.052)              # median of 60, 50, 52 ms
    assert pt.power_w == pytest.approx(0.5 * 2 * 400)             # fraction x GPUs x TDP = 400 W
    assert pt.energy_per_token_j == pytest.approx(400 * 0.052)    # power x TPOT / batch 1 = 20.8 J
    assert pt.source.rows == (1, 2, 3)
