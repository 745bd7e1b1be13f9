"""Workflow profiles: configuration (knobs + model per LLM step) -> accuracy and tokens per call.

- video_qa (answer step): Murakkab paper Fig.2a/2b (VideoMME) for its three models; derived for
  qwen3-omni-30b-a3b and nemotron-nano-12b-v2-vl from their own Video-MME score (see VIDEO_DERIVED).
- code_gen (debate, tests, pick): paper Fig.2c/2d (HumanEval); request tokens split over calls.
- reasoning (solve): single-sample GPQA-Diamond scores + a majority-vote model (`majority`).
Every derived or estimated number says so in its Source.
"""

from __future__ import annotations

import csv
import math
import statistics
from functools import cache
from importlib import resources

from murakkab.errors import ProfileError
from murakkab.profiles.majority import CONCENTRATION, OPTIONS, majority_accuracy
from murakkab.profiles.schema import Source, TokenStats, WorkflowConfigProfile

PAPER = "profiles/data/murakkab_paper"
VIDEO_FILE = f"{PAPER}/video_qa_configs.csv"
CODE_FILE = f"{PAPER}/code_gen_configs.csv"
ACCURACY_FILE = "profiles/data/model_accuracy/model_accuracy.csv"
MLENERGY_FILE = "profiles/data/ml_energy_v3/llm_configs.csv"

PAPER_MODELS = {"Gemma-3-27B": "gemma-3-27b", "Llava-OneVision-7B": "llava-onevision-7b",
                "NVLM-D-72B": "nvlm-d-72b", "DeepSeek-Qwen-32B": "deepseek-r1-distill-qwen-32b",
                "Phi-4": "phi-4"}

# --- stated estimates -----------------------------------------------------------------------
TOKENS_PER_FRAME = 258        # estimate: Gemma 3 encodes an image as 256 soft tokens + 2 markers (report)
SCENES_PER_VIDEO = 8          # estimate: scenes the detector keeps per VideoMME video (not published)
TRANSCRIPT_TOKENS = 3300      # estimate: ~17 min mean VideoMME duration x ~150 words/min x 1.3 tokens/word
QUESTION_TOKENS = 120         # estimate: VideoMME question + 4 options + instructions
VIDEO_P99_OVER_P50 = 1200 / 600   # paper prose: Llava-OneVision-7B, 10 frames + STT: p50 600, p99 1200
HUMANEVAL_PROMPT_TOKENS = 150     # estimate: HumanEval prompt (signature + docstring) + instructions
GPQA_PROMPT_TOKENS = 300          # estimate: GPQA-Diamond question + 4 options + instructions
Z90, Z99 = 1.2815515655446004, 2.3263478740408408  # standard normal quantiles (log-normal tail)


@cache
def _text(*parts: str) -> str:
    return resources.files("murakkab.profiles").joinpath("data", *parts).read_text(encoding="utf-8")


@cache
def _rows(*parts: str) -> tuple[dict[str, str], ...]:
    return tuple(csv.DictReader(_text(*parts).splitlines()))


def lognormal_p99(p50: float, p90: float) -> float:
    """p99 of the log-normal through (p50, p90): p50 * (p90/p50)^(z99/z90)."""
    return p50 * (p90 / p50) ** (Z99 / Z90)


# --- video Q/A ------------------------------------------------------------------------------
def _video_tokens(frames: int, stt: str, p50: float, p90: float, src: Source) -> dict[str, TokenStats]:
    p99 = max(VIDEO_P99_OVER_P50 * p50, p90)
    inp = QUESTION_TOKENS + SCENES_PER_VIDEO * frames * TOKENS_PER_FRAME + (TRANSCRIPT_TOKENS if stt == "on" else 0)
    note = (f"{src.note}; p99 = max(2.0 x p50, p90) [derived: paper prose p99/p50 = 1200/600 for "
            f"Llava 10 frames + STT; floored at p90]; input = {QUESTION_TOKENS} + {SCENES_PER_VIDEO} scenes x "
            f"frames x {TOKENS_PER_FRAME} tok/frame (+ {TRANSCRIPT_TOKENS} transcript tokens with STT) [estimate]")
    return {"answer": TokenStats(input_tokens=inp, output_p50=p50, output_p90=p90, output_p99=p99,
                                 source=src.model_copy(update={"basis": "derived", "note": note}))}


def video_profiles() -> list[WorkflowConfigProfile]:
    """Measured (paper) configurations, then derived ones for the two ML.ENERGY video models."""
    out = []
    for i, r in enumerate(_rows("murakkab_paper", "video_qa_configs.csv"), start=1):
        if not r["accuracy_percent"].strip():
            continue  # unresolved in the paper: unknown stays unknown
        model = PAPER_MODELS.get(r["model"])
        if model is None:
            raise ProfileError(f"{VIDEO_FILE} row {i}: model '{r['model']}' has no catalogue id")
        frames, stt = int(r["frames"]), {"Y": "on", "N": "off"}[r["stt"]]
        tsrc = Source(file=VIDEO_FILE, row=i, basis="measured", note="p50/p90 = _mid of digitized CDF (Fig.2b)")
        out.append(WorkflowConfigProfile(
            workflow="video_qa", knobs={"frames_per_scene": frames, "stt": stt}, models={"answer": model},
            accuracy_percent=float(r["accuracy_percent"]), benchmark="VideoMME",
            accuracy_source=Source(file=VIDEO_FILE, row=i, basis="measured",
                                   note=f"digitized bar, +/-{r['accuracy_band_pp']} pp"),
            tokens=_video_tokens(frames, stt, float(r["tokens_p50_mid"]), float(r["tokens_p90_mid"]), tsrc)))
    return out + _derived_video(out)


VIDEO_DERIVED = {"qwen3-omni-30b-a3b": "Qwen/Qwen3-Omni-30B-A3B-Instruct",
                 "nemotron-nano-12b-v2-vl": "nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16"}


def _accuracy_row(model_id: str, benchmark: str) -> tuple[int, dict[str, str]] | None:
    for i, r in enumerate(_rows("model_accuracy", "model_accuracy.csv"), start=1):
        if r["model_id"] == model_id and r["benchmark"] == benchmark:
            return i, r
    return None


def _derived_video(paper: list[WorkflowConfigProfile]) -> list[WorkflowConfigProfile]:
    """acc(m, f, s) = S_m x mean over paper models of acc(f, s) / acc(10 frames, STT off).

    Model: a model's standalone Video-MME score (no subtitles, many frames) plays the role of the
    paper's 10-frames/no-STT configuration, and the knobs scale accuracy by the same ratio as they do,
    on average, for the paper's three models. Tokens: the paper-model mean at the same knobs.
    """
    by_model: dict[str, dict[tuple, WorkflowConfigProfile]] = {}
    for p in paper:
        by_model.setdefault(p.models["answer"], {})[(p.knobs["frames_per_scene"], p.knobs["stt"])] = p
    ref = (10, "off")
    out = []
    for model, hf_id in VIDEO_DERIVED.items():
        found = _accuracy_row(hf_id, "Video-MME")
        if found is None:
            continue  # no standalone score: nothing to derive from
        row, r = found
        score = float(r["score_percent"])
        for knobs in sorted(next(iter(by_model.values()))):
            ratios = [m[knobs].accuracy_percent / m[ref].accuracy_percent for m in by_model.values()
                      if knobs in m and ref in m]
            ratio = statistics.fmean(ratios)
            acc = min(100.0, score * ratio)
            p50 = statistics.fmean(m[knobs].tokens["answer"].output_p50 for m in by_model.values() if knobs in m)
            p90 = statistics.fmean(m[knobs].tokens["answer"].output_p90 for m in by_model.values() if knobs in m)
            note = (f"Video-MME {score:g} (row {row}) x {ratio:.4f} = mean over {len(ratios)} paper models of "
                    f"acc(frames={knobs[0]}, stt={knobs[1]}) / acc(10, off) from {VIDEO_FILE}")
            tsrc = Source(file=VIDEO_FILE, basis="derived", note="p50/p90 = mean of the paper models at these knobs")
            out.append(WorkflowConfigProfile(
                workflow="video_qa", knobs={"frames_per_scene": knobs[0], "stt": knobs[1]}, models={"answer": model},
                accuracy_percent=acc, benchmark="VideoMME",
                accuracy_source=Source(file=ACCURACY_FILE, row=row, basis="derived", note=note),
                tokens=_video_tokens(knobs[0], knobs[1], p50, p90, tsrc)))
    return out


# --- code generation ------------------------------------------------------------------------
CODE_TOKEN_STANDIN = {"nvlm-d-72b": "gemma-3-27b"}  # no token CDF in the paper: nearest non-reasoning model


def _code_tokens(debaters: int, rounds: int, p50: float, p90: float, src: Source) -> dict[str, TokenStats]:
    """Split request tokens evenly over D x R debate calls + 1 tester + 1 ranker (derived)."""
    calls = debaters * rounds + 2
    o50, o90 = p50 / calls, p90 / calls
    o99 = lognormal_p99(o50, o90)
    rule = (f"request tokens / {calls} calls (D x R + tester + ranker, equal split) [derived]; "
            f"p99 from a log-normal through p50, p90 [derived]")
    prev = debaters * o50  # the other candidates seen as input, an estimate
    inputs = {"debate": HUMANEVAL_PROMPT_TOKENS + prev * (rounds - 1) / rounds,
              "tests": HUMANEVAL_PROMPT_TOKENS + prev, "pick": HUMANEVAL_PROMPT_TOKENS + prev + o50}
    s = src.model_copy(update={"basis": "derived", "note": f"{src.note}; {rule}; input tokens [estimate]: "
                               f"prompt {HUMANEVAL_PROMPT_TOKENS} + candidates of the previous round"})
    return {t: TokenStats(input_tokens=inputs[t], output_p50=o50, output_p90=o90, output_p99=o99, source=s)
            for t in ("debate", "tests", "pick")}


def code_profiles() -> list[WorkflowConfigProfile]:
    rows = list(enumerate(_rows("murakkab_paper", "code_gen_configs.csv"), start=1))
    tokens_by = {}
    for i, r in rows:
        if r["tokens_p50_mid"].strip():
            tokens_by[(PAPER_MODELS[r["model"]], int(r["debaters"]), int(r["rounds"]))] = (
                i, float(r["tokens_p50_mid"]), float(r["tokens_p90_mid"]))
    out = []
    for i, r in rows:
        if not r["accuracy_percent"].strip() or r["model"] not in PAPER_MODELS:
            continue  # DeepSeek-Llama-70B: not attributable in the paper, left out
        model, d, rd = PAPER_MODELS[r["model"]], int(r["debaters"]), int(r["rounds"])
        stand_in = CODE_TOKEN_STANDIN.get(model, model)
        if (stand_in, d, rd) not in tokens_by:
            continue
        trow, p50, p90 = tokens_by[(stand_in, d, rd)]
        note = "p50/p90 = _mid of digitized CDF (Fig.2d)"
        if stand_in != model:
            note += f"; {model} has no token CDF: tokens of {stand_in} at the same (D, R) [derived]"
        out.append(WorkflowConfigProfile(
            workflow="code_gen", knobs={"debaters": d, "rounds": rd},
            models={"debate": model, "tests": model, "pick": model},
            accuracy_percent=float(r["accuracy_percent"]), benchmark="HumanEval",
            accuracy_source=Source(file=CODE_FILE, row=i, basis="measured",
                                   note=f"digitized, +/-{r['accuracy_band_pp']} pp"),
            tokens=_code_tokens(d, rd, p50, p90, Source(file=CODE_FILE, row=trow, note=note))))
    return out


# --- reasoning (self-consistency) -----------------------------------------------------------
SAMPLES = (1, 3, 5, 8, 16)


def _gpqa_score(hf_id: str) -> tuple[int, float, str] | None:
    """(row, score, note): GPQA-Diamond (thinking where two settings), else GPQA (noted)."""
    rows = list(enumerate(_rows("model_accuracy", "model_accuracy.csv"), start=1))
    for bench in ("GPQA-Diamond", "GPQA"):
        hits = [(i, r) for i, r in rows if r["model_id"] == hf_id and r["benchmark"] == bench]
        if not hits:
            continue
        thinking = [(i, r) for i, r in hits if r["setting"].startswith("thinking")]
        i, r = (thinking or hits)[0]
        note = f"{bench}, setting: {r['setting']}"
        if bench == "GPQA":
            note += "; source names only 'GPQA' (subset not stated), used because no GPQA-Diamond row exists"
        return i, float(r["score_percent"]), note
    return None


def _gpqa_output_len(hf_id: str) -> tuple[float, list[int]] | None:
    hits = [(i, float(r["avg_output_len"])) for i, r in enumerate(_rows("ml_energy_v3", "llm_configs.csv"), start=1)
            if r["model_id"] == hf_id and r["task"] == "gpqa"]
    if not hits:
        return None
    return statistics.median(v for _, v in hits), [i for i, _ in hits]


def reasoning_profiles(catalog=None) -> list[WorkflowConfigProfile]:
    if catalog is None:
        from murakkab.catalog import load_catalog
        catalog = load_catalog()
    out = []
    for model in catalog.executors["self_consistency"].models:
        hf_id = catalog.model(model).profiled_as
        score, length = _gpqa_score(hf_id), _gpqa_output_len(hf_id)
        if score is None or length is None:
            continue  # unknown stays unknown
        row, base, note = score
        mean_len, len_rows = length
        tok = TokenStats(
            input_tokens=GPQA_PROMPT_TOKENS, output_p50=mean_len * math.log(2), output_p90=mean_len * math.log(10),
            output_p99=mean_len * math.log(100),
            source=Source(file=MLENERGY_FILE, row=len_rows[0], rows=tuple(len_rows), basis="derived",
                          note=f"mean = median avg_output_len {mean_len:.0f} over {len(len_rows)} gpqa rows; "
                               f"exponential tail (p50 = mean ln2, p90 = mean ln10, p99 = mean ln100); "
                               f"input {GPQA_PROMPT_TOKENS} [estimate]"))
        for n in SAMPLES:
            acc = 100.0 * majority_accuracy(base / 100.0, n)
            src = Source(file=ACCURACY_FILE, row=row, basis="measured" if n == 1 else "derived",
                         note=note if n == 1 else
                         f"{note}; majority vote of {n}: Beta(k*a, k*(1-a)) per-question correctness, k={CONCENTRATION:g}, "
                         f"{OPTIONS} options, wrong answers uniform, random tie-break (murakkab.profiles.majority)")
            out.append(WorkflowConfigProfile(workflow="reasoning", knobs={"samples": n}, models={"solve": model},
                                             accuracy_percent=acc, benchmark="GPQA-Diamond",
                                             accuracy_source=src, tokens={"solve": tok}))
    return out


@cache
def load_workflow_profiles() -> tuple[WorkflowConfigProfile, ...]:
    """Every packaged workflow configuration profile (cached: packaged data is immutable)."""
    return tuple(video_profiles() + code_profiles() + reasoning_profiles())
