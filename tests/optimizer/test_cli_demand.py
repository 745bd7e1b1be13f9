"""`murakkab plan` demand options: --scale with --trace, --trace-chat, and clear errors."""

import csv
from importlib import resources

import pytest

from murakkab.errors import MurakkabError
from murakkab.optimizer.cli import demand_of


def _conversations() -> int:
    path = resources.files("murakkab.sim").joinpath("data/azure_llm_trace_2023/conv.csv")
    with path.open() as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_scale_multiplies_the_trace_demand():
    one = demand_of([], False, 1.0, ["code_gen"], 60.0)
    ten = demand_of([], False, 10.0, ["code_gen"], 60.0)
    assert one.keys() == ten.keys() and one
    for k in one:
        assert ten[k].peak_rps == pytest.approx(10 * one[k].peak_rps)
        assert ten[k].avg_rps == pytest.approx(10 * one[k].avg_rps)


def test_trace_chat_sends_every_conversation_to_one_workflow():
    split = demand_of([], False, 1.0, ["video_qa"], 24 * 60.0 * 30)
    whole = demand_of([], False, 1.0, ["video_qa"], 24 * 60.0 * 30, trace_chat="video_qa")
    avg_split = sum(d.avg_rps for d in split.values())
    avg_whole = sum(d.avg_rps for d in whole.values())
    window = 24 * 3600.0 * 30                     # longer than the trace: every arrival is in it
    assert avg_whole * window == pytest.approx(_conversations())
    assert avg_split < avg_whole                  # the default split sends about half to reasoning


@pytest.mark.parametrize("args, what", [
    (dict(rate=["video_qa:accuracy:good=1"], standard=False, scale=2.0, trace=[]), "--scale multiplies"),
    (dict(rate=[], standard=True, scale=0.0, trace=[]), "--scale must be a positive"),
    (dict(rate=[], standard=True, scale=1.0, trace=[], trace_chat="video_qa"), "needs --trace"),
])
def test_options_that_cannot_apply_are_refused(args, what):
    with pytest.raises(MurakkabError, match=what):
        demand_of(window_min=60.0, **args)


def test_slots_give_each_trace_demand_its_slot_peaks():
    d = demand_of([], False, 2.0, ["code_gen"], 60.0, slots=4)
    for v in d.values():
        assert len(v.slot_peaks) == 4 and max(v.slot_peaks) == pytest.approx(v.peak_rps)
    with pytest.raises(MurakkabError, match="--slots .* needs --trace"):
        demand_of([], True, 1.0, [], 60.0, slots=4)
