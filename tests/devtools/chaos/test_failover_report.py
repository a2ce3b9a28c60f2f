"""The failover scenario's verdict and table: a loss fails the run only where replicas were waited for."""

from __future__ import annotations

from devtools.chaos.failover import Figures, Kill
from devtools.chaos.failover_report import holds, markdown


def runs(*, lost_without: int, lost_with: int) -> list[Figures]:
    kills = [Kill(promoted_s=2.0, accepted_s=2.3, consumed_s=3.0)]
    return [
        Figures(0, accepted=10, succeeded=10 - lost_without, lost=["x"] * lost_without, kills=kills),
        Figures(1, accepted=10, succeeded=10 - lost_with, lost=["y"] * lost_with, kills=kills),
    ]


def test_a_loss_without_waiting_for_replicas_is_a_figure_not_a_failure() -> None:
    assert holds(runs(lost_without=3, lost_with=0))
    assert not holds(runs(lost_without=0, lost_with=1))


def test_a_kill_never_followed_by_an_accepted_job_fails_the_run() -> None:
    stuck = runs(lost_without=0, lost_with=0)
    stuck[0].kills = [Kill(promoted_s=2.0, accepted_s=None)]
    assert not holds(stuck)


def test_the_section_has_a_row_per_run_and_per_kill() -> None:
    text = markdown(runs(lost_without=3, lost_with=0), command="cmd", machine="m", date="d")
    assert "| 0 | 0 | 10 | 7 | 0 | 0 | 3 | 0 | 0 | 0 |" in text
    assert "| wait=1 min=0 | 1 | 2.0 s | 2.3 s | 3.0 s |" in text
