"""The queueing benchmark's pure parts: percentiles, ratios against targets, its table, its batch files,
its command line, and the peak-RSS reading."""

from __future__ import annotations

import json
import os

from devtools.bench.api.report import markdown
from devtools.bench.queueing.batches import chat_lines, image_lines
from devtools.bench.queueing.client import IMAGE_INPUT
from devtools.bench.queueing.memory import PeakRss
from devtools.bench.queueing.report import at_least, at_most, backlog_row, summary_ms, wait_rows
from devtools.bench.queueing.run import Sizes, parse


def test_summary_is_the_nearest_rank_p50_and_p99() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100 ms
    assert summary_ms(values) == "50.0 / 99.0 ms"
    assert summary_ms([7.0]) == "7.0 / 7.0 ms"


def test_wait_rows_hold_each_quantile_to_the_limit_against_the_idle_queue() -> None:
    idle = [1.0] * 98 + [2.0, 2.0]  # p50 1, p99 2
    loaded = [1.4] * 98 + [5.0, 5.0]  # p50 1.4 (1.4×), p99 5 (2.5×)
    p50, p99 = wait_rows("wait", idle, loaded, 1.5, p99=True)
    assert (p50.metric, p99.metric) == ("wait p50", "wait p99")
    assert p50.ratio is not None
    assert abs(p50.ratio - 1.4) < 1e-9
    assert p50.ok is True
    assert p99.ratio is not None
    assert abs(p99.ratio - 2.5) < 1e-9
    assert p99.ok is False
    assert len(wait_rows("wait", idle, loaded, 2.0, p99=False)) == 1


def test_ratios_against_a_baseline_and_a_zero_one() -> None:
    assert at_most("m", 3.0, 2.0, 1.5, "idle").ok is True
    assert at_most("m", 3.1, 2.0, 1.5, "idle").ok is False
    assert at_most("m", 1.0, 0.0, 1.5, "idle").ok is False  # no baseline: never a pass
    row = at_least("m", 90.0, 100.0, 0.9, "one by one")
    assert row.ok is True
    assert row.ratio == 0.9
    assert row.measured == "90.0 jobs/s"
    assert "one by one 100.0 jobs/s; target ≥ 0.9×" in row.baseline
    assert at_least("m", 89.0, 100.0, 0.9, "one by one").ok is False


def test_a_drained_backlog_marks_the_round_invalid() -> None:
    assert backlog_row("batch lines", 120, 2000).ok is True
    drained = backlog_row("batch lines", 0, 2000)
    assert drained.ok is False
    assert "not valid" in drained.baseline


def test_the_table_shows_ratios_and_verdicts() -> None:
    rows = wait_rows("wait", [1.0, 1.0], [3.0, 3.0], 1.5, p99=True)
    table = markdown(rows).splitlines()
    assert table[0] == "| metric | measured | baseline / target | ratio | result |"
    assert table[2] == "| wait p50 | 3.0 ms | idle queue p50 1.0 ms; target ≤ 1.5× | 3.00 | **FAIL** |"
    assert len(table) == 4


def test_batch_files_hold_one_request_a_line() -> None:
    chat = [json.loads(line) for line in chat_lines(3, "tiny-chat").decode().splitlines()]
    assert [line["custom_id"] for line in chat] == ["r0", "r1", "r2"]
    assert chat[0]["url"] == "/v1/chat/completions"
    assert chat[0]["body"]["max_tokens"] == 1
    image = json.loads(image_lines(1, "tiny-sd").decode())
    assert image["url"] == "/v1/images/generations"
    assert image["body"]["prompt"] == IMAGE_INPUT["prompt"]
    assert image["body"]["steps"] == IMAGE_INPUT["steps"]
    assert image["body"]["size"] == f"{IMAGE_INPUT['width']}x{IMAGE_INPUT['height']}"


def test_the_command_line_sets_each_size() -> None:
    args = [
        "--lines",
        "7",
        "--batch-lines",
        "8",
        "--jobs",
        "9",
        "--flood",
        "10",
        "--rate",
        "5",
        "--rounds",
        "1",
    ]
    sizes, out = parse(args)
    assert sizes == Sizes(upload_lines=7, batch_lines=8, throughput_jobs=9, flood_jobs=10, rate=5.0, rounds=1)
    assert out is None
    assert parse([])[0] == Sizes()


def test_peak_rss_counts_the_growth_inside_the_block_only() -> None:
    before = b"x" * (60 * 2**20)  # a peak before the block, which must not count
    del before
    with PeakRss(os.getpid()) as peak:
        inside = b"y" * (24 * 2**20)
        del inside
    assert 20 <= peak.growth_mib < 50, (peak.growth_mib, peak.how)
