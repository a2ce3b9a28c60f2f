"""What each answer means for a delivery, and the pauses between its tries."""

from __future__ import annotations

import pytest

from shared.webhook import Outcome
from webhooks.policy import BACKOFF_CAP_S, Answer, Window, backoff_s, schedule, verdict


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (Answer(status_code=200), Outcome.DELIVERED),
        (Answer(status_code=299), Outcome.DELIVERED),
        (Answer(status_code=410), Outcome.STOPPED),
        (Answer(status_code=302), Outcome.STOPPED),
        (Answer(status_code=401), Outcome.STOPPED),
        (Answer(status_code=408), Outcome.RETRYING),
        (Answer(status_code=429), Outcome.RETRYING),
        (Answer(status_code=500), Outcome.RETRYING),
        (Answer(status_code=599), Outcome.RETRYING),
        (Answer(error="timed out", transient=True), Outcome.RETRYING),
        (Answer(error="refused: 10.0.0.1 is private"), Outcome.STOPPED),
    ],
)
def test_each_answer_delivers_retries_or_stops(answer: Answer, outcome: Outcome) -> None:
    assert verdict(answer) == outcome


def test_the_pause_doubles_from_the_base_up_to_an_hour_and_half_of_it_is_random() -> None:
    lowest = [backoff_s(n, base_s=5, rand=lambda: 0.0) for n in range(1, 13)]
    highest = [backoff_s(n, base_s=5, rand=lambda: 1.0) for n in range(1, 13)]
    assert highest[:4] == [5, 10, 20, 40]
    assert lowest[:4] == [2.5, 5, 10, 20]
    assert highest[-1] == BACKOFF_CAP_S
    assert backoff_s(10_000, base_s=5, rand=lambda: 1.0) == BACKOFF_CAP_S


def test_retry_after_lengthens_the_pause_and_the_window_ends_the_retries() -> None:
    window = Window(base_s=5, retry_for_s=86_400)
    busy = Answer(status_code=429, retry_after_s=120)
    assert schedule(busy, tries=1, first_at=0, now=0, window=window, rand=lambda: 1.0) == (
        Outcome.RETRYING,
        120,
    )
    late = schedule(
        Answer(status_code=503), tries=20, first_at=0, now=86_000, window=window, rand=lambda: 1.0
    )
    assert late == (Outcome.GAVE_UP, None)
    assert schedule(Answer(status_code=204), tries=20, first_at=0, now=90_000, window=window) == (
        Outcome.DELIVERED,
        None,
    )
