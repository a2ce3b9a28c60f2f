"""`python -m devtools.chaos --failover`: both runs of the failover scenario, printed (and appended)."""

from __future__ import annotations

import datetime
import shutil
import tempfile
from pathlib import Path

from devtools.bench.document import machine
from devtools.chaos.failover import run
from devtools.chaos.failover_report import holds, markdown


def failover_main(append: Path | None) -> int:
    """Run plain, with WAIT, with min-replicas-to-write; print (and append) the figures; 0 when all held."""
    root = Path(tempfile.mkdtemp(prefix="llmb-failover-"))
    print(f"chaos failover: data and logs under {root}", flush=True)
    variants = [(0, 0), (1, 0), (0, 1)]  # (LLMB_REDIS_WRITE_REPLICAS, min-replicas-to-write)
    runs = [run(root / f"wait-{w}-min-{m}", write_replicas=w, min_replicas=m) for w, m in variants]
    command = "python -m devtools.chaos --failover" + (f" --append {append}" if append else "")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = markdown(runs, command=command, machine=machine(), date=date)
    print(text, flush=True)
    if append:
        with append.open("a") as out:
            out.write(text)
        print(f"appended to {append}")
    if holds(runs):
        shutil.rmtree(root, ignore_errors=True)
        return 0
    for f in runs:
        print(
            f"replicas={f.write_replicas}: lost {f.lost[:10]}, duplicated {f.duplicated[:10]}, "
            f"started twice {f.rerun[:10]}"
        )
    return 1
