"""The failover scenario's figures as a markdown section (appended to docs/CHAOS.md) and a console table."""

from __future__ import annotations

from devtools.chaos.failover import Figures


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def markdown(runs: list[Figures], *, command: str, machine: str, date: str) -> str:
    """One section: a row per run, then a row per kill."""
    lines = [
        "",
        "## Redis failover (Sentinel)",
        "",
        f"`{command}` on {machine}, {date}. A master, two replicas and three sentinels "
        "(`redis-server --sentinel`, down-after 1 s); the API (2 processes), 2 workers, 3 submitters "
        "retrying each job under one `Idempotency-Key` and 2 long-waiting readers. Each run SIGKILLs "
        "the master twice, waits for the promotion, then brings the old master back as a replica.",
        "",
        "| `LLMB_REDIS_WRITE_REPLICAS` | `min-replicas-to-write` | accepted | succeeded | failed "
        "| unfinished | lost (404) "
        "| duplicated (a key, two jobs) | started twice (attempts > 1) "
        "| refusals retried (503, 429, broken connection) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in runs:
        lines.append(
            f"| {f.write_replicas} | {f.min_replicas} | {f.accepted} | {f.succeeded} | {f.failed} "
            f"| {len(f.unfinished)} | {len(f.lost)} | {len(f.duplicated)} | {len(f.rerun)} | {f.refused} |"
        )
    lines += [
        "",
        "| run | kill | to promotion | to the first job accepted (sent after the kill) "
        "| to the first job sent after the kill started by a worker |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in runs:
        for n, k in enumerate(f.kills, 1):
            lines.append(
                f"| wait={f.write_replicas} min={f.min_replicas} | {n} | {_s(k.promoted_s)} "
                f"| {_s(k.accepted_s)} | {_s(k.consumed_s)} |"
            )
    return "\n".join(lines) + "\n"


def holds(runs: list[Figures]) -> bool:
    """Every kill was followed by a job accepted; with a replica waited for (WAIT or min-replicas-to-write)
    nothing accepted was lost, left unfinished or made twice (without, a loss is the figure measured)."""
    recovered = all(k.accepted_s is not None for f in runs for k in f.kills)
    kept = all(
        not (f.lost or f.unfinished or f.duplicated) for f in runs if f.write_replicas or f.min_replicas
    )
    return recovered and kept
