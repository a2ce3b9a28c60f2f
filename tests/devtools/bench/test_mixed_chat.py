"""The mixed chat benchmark's pure parts: its seeded draws, its figures from job timings, its table."""

from __future__ import annotations

from typing import cast

import pytest

from devtools.bench.models.mixed import run
from devtools.bench.models.mixed.client import JobTiming, LoadRun
from devtools.bench.models.mixed.plan import at_once, draw_max_tokens, job_inputs, steady_offsets
from devtools.bench.models.mixed.report import HEADING, Summary, render, summarise, table
from devtools.bench.models.mixed.run import parse
from devtools.bench.models.mixed.stacks import VariantStack


def test_max_tokens_are_drawn_from_8_to_256_the_same_for_a_seed() -> None:
    drawn = draw_max_tokens(17, 96)
    assert drawn == draw_max_tokens(17, 96)
    assert drawn != draw_max_tokens(18, 96)
    assert len(drawn) == 96
    assert all(8 <= n <= 256 for n in drawn)
    assert len(set(drawn)) > 40  # mixed lengths, not one value
    assert draw_max_tokens(17, 10) == drawn[:10]  # more jobs extend the same draw


def test_job_inputs_carry_the_drawn_lengths_and_a_seed_each() -> None:
    inputs = job_inputs(5, 4)
    assert [job["max_tokens"] for job in inputs] == draw_max_tokens(5, 4)
    assert [job["seed"] for job in inputs] == [0, 1, 2, 3]
    assert inputs[0]["messages"][0]["role"] == "user"


def test_steady_gaps_are_seeded_and_average_the_rate() -> None:
    offsets = steady_offsets(17, 2000, 20.0)
    assert offsets == steady_offsets(17, 2000, 20.0)
    assert offsets[0] == 0.0
    assert offsets == sorted(offsets)
    assert offsets[-1] / 1999 == pytest.approx(1 / 20, rel=0.1)  # mean gap 50 ms
    assert at_once(3) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="rate"):
        steady_offsets(17, 5, 0.0)


def _run(ttfts_ms: list[float | None], tokens: int = 10, status: str = "succeeded") -> LoadRun:
    jobs = [
        JobTiming(i * 0.1, None if t is None else i * 0.1 + t / 1000, i * 0.1 + 2.0, status, tokens)
        for i, t in enumerate(ttfts_ms)
    ]
    return LoadRun(jobs)


def test_a_load_counts_tokens_of_succeeded_jobs_over_first_submit_to_last_done() -> None:
    run = LoadRun([JobTiming(0.0, 0.5, 2.0, "succeeded", 100), JobTiming(1.0, None, 4.0, "failed", 7)])
    assert run.wall_s == 4.0
    assert run.tokens == 100
    assert run.rate == 25.0
    assert run.succeeded == 1
    assert run.ttfts_ms() == [500.0]


def test_summary_pools_every_rounds_ttfts_and_takes_the_median_rate() -> None:
    first = _run([float(v) for v in range(1, 51)])
    second = _run([float(v) for v in range(51, 101)], tokens=20)
    s = summarise("before", "all at once", [first, second])
    assert (s.ttft_p50_ms, s.ttft_p99_ms) == pytest.approx((50.0, 99.0))  # nearest rank over 1..100
    assert s.rates == [first.rate, second.rate]
    assert s.rate == pytest.approx((first.rate + second.rate) / 2)
    assert s.tokens == [500, 1000]
    assert (s.succeeded, s.jobs) == (100, 100)


def _summary(variant: str, load: str, figures: tuple[float, float, float], ok: int = 96) -> Summary:
    rate, p50, p99 = figures
    return Summary(variant, load, [rate], [1000], [0.05], 1, p50, p99, ok, 96)


def test_the_table_gives_ratios_to_the_first_variant_under_the_same_load() -> None:
    rows = [
        _summary("before", "steady", (100.0, 200.0, 800.0)),
        _summary("before", "all at once", (300.0, 1000.0, 2000.0)),
        _summary("now", "steady", (150.0, 100.0, 200.0)),
        _summary("now", "all at once", (450.0, 500.0, 400.0), ok=95),
    ]
    lines = table(rows).splitlines()
    assert lines[0].startswith("| variant | load | tokens/s")
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
    assert lines[2] == (
        "| before | steady | 100 (100) | 1.00× | 200 ms | 1.00× | 800 ms | 1.00× | 1,000 | 96 of 96 "
        "| 0.05; 1 |"
    )
    assert lines[4] == (
        "| now | steady | 150 (150) | 1.50× | 100 ms | 0.50× | 200 ms | 0.25× | 1,000 | 96 of 96 | 0.05; 1 |"
    )
    assert lines[5].startswith("| now | all at once | 450 (450) | 1.50× | 500 ms | 0.50× | 400 ms | 0.20× |")
    assert "| 95 of 96 |" in lines[5]
    section = render(["Command: `x`"], rows, jobs=96, seed=17, rate=20, max_other=0.3, reruns=2)
    assert section.startswith(HEADING + "\n\nCommand: `x`\n")
    assert "96 chat jobs" in section
    assert "seed 17" in section
    assert "passed 0.3 cores was run again (reruns allowed: 2)" in " ".join(section.split())


def test_a_disturbed_load_is_run_again_and_the_least_disturbed_try_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    others = iter([0.9, 0.5, 0.7, 0.1])
    monkeypatch.setattr(run, "one_load", lambda *_: LoadRun([], other_cores=next(others)))
    args = parse(["--max-other", "0.3", "--reruns", "2"])
    kept = run.settled_load(cast(VariantStack, None), [], [], args)
    assert (kept.other_cores, kept.reruns) == (0.5, 2)  # three tries, none quiet: the least disturbed
    assert run.settled_load(cast(VariantStack, None), [], [], args).other_cores == 0.1  # quiet: kept at once


def test_the_command_line_defaults_to_the_previous_commit_against_this_tree() -> None:
    args = parse([])
    assert args.variants == ["before@HEAD~1", "now"]
    assert (args.jobs, args.rate, args.rounds) == (96, 20.0, 2)
    assert parse(["--variants", "before@5aeb237", "now"]).variants == ["before@5aeb237", "now"]
