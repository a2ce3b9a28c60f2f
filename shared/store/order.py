"""The order of a queue's waiting jobs: priority classes, fair share between tenants, aging.

A waiting job's score in its queue's waiting index is its place in line; the lowest is claimed next
(claim_next.lua). The score is `class_base(priority) + tag * 1024 + arrival % 1024`, where the tag
comes from start-time fair queueing across tenants (create.lua): an interactive job is therefore
always ahead of a batch one, and within a class tenants take turns in proportion to their weights,
each tenant's jobs in arrival order.
Aging keeps batch work moving: once the first batch job has waited `aging_s`, one claim in every
`aging_every` goes to it even while interactive jobs wait.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIORITIES = ("interactive", "batch")

# A score is class base + tag * 1024 + arrival number % 1024 (create.lua), an integer: tags grow by
# 1000/weight a job, so batch scores sort after interactive ones for any tag below 2**42 (4 billion
# jobs of weight 1 in one class), and every score stays exact in a double (below 2**53).
BATCH_BASE = float(2**52)
# Wake-ups kept for interactive jobs that arrive behind batch jobs (create.lua); a worker with room for
# one pops one and claims the first interactive job (worker/interactive.py). Each wakes one claim, so a
# few are enough; the cap keeps a list nobody pops (no worker running) small.
MAX_WAKES = 64


def class_base(priority: str) -> float:
    """The offset of a priority class's scores: 0 for `interactive`, BATCH_BASE for `batch`.

    Raises ValueError for another priority.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; one of {', '.join(PRIORITIES)}")
    return 0.0 if priority == "interactive" else BATCH_BASE


@dataclass(frozen=True)
class Aging:
    """When waiting batch work is served ahead of interactive work: after `after_s` s, 1 claim in `every`."""

    after_s: float = 300.0
    every: int = 5


AGING = Aging()  # the defaults (LLMB_PRIORITY_AGING_S, LLMB_PRIORITY_AGING_EVERY)
