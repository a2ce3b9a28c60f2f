"""`python -m devtools.chaos [--quick] [--out docs/CHAOS.md] [--json PATH]`: `make chaos`."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import shutil
import sys
import tempfile
from pathlib import Path

from devtools.bench.document import commit, machine
from devtools.chaos.failover_main import failover_main
from devtools.chaos.plan import FULL, QUICK
from devtools.chaos.report import markdown, table
from devtools.chaos.soak import Outcome, run
from devtools.chaos.summary import batch_figure, batch_violations, fault_rows, holds, rules


def summary(o: Outcome) -> dict[str, object]:
    """The rules and faults as JSON, for the quick run's test."""
    return {
        "ok": holds(o),
        "wall_s": o.wall_s,
        "accepted": len(o.tally.accepted),
        "rules": [dataclasses.asdict(line) for line in rules(o)],
        "faults": [
            dict(zip(("at_s", "kind", "detail", "figure"), row, strict=True)) for row in fault_rows(o)
        ],
        "findings": {f.name: getattr(o.findings, f.name) for f in dataclasses.fields(o.findings)},
        "held": o.held,
        "batch": {
            "id": o.batch.run.batch_id,
            "status": o.batch.batch.get("status"),
            "request_counts": o.batch.counts,
            "lines_sent": len(o.batch.run.custom_ids),
            "output_ids": [x.get("custom_id") for x in o.batch.output],
            "error_ids": [x.get("custom_id") for x in o.batch.errors],
            "figure": batch_figure(o),
            "violations": batch_violations(o),
        },
        "usage": {
            "window": o.usage.window,
            "jobs_read": o.usage.jobs_read,
            "summed": o.usage.summed,
            "reported": o.usage.reported,
            "metrics": o.usage.metrics,
            "violations": o.usage.violations(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print the table; write the files asked for; 0 when every rule held."""
    parser = argparse.ArgumentParser(prog="python -m devtools.chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 200 jobs, one fault of each kind")
    parser.add_argument("--out", type=Path, help="write this markdown file (docs/CHAOS.md)")
    parser.add_argument("--json", type=Path, help="write the rules and faults as JSON here")
    parser.add_argument("--root", type=Path, help="data and logs here (default: a temporary folder)")
    parser.add_argument("--failover", action="store_true", help="the Redis Sentinel failover scenario only")
    parser.add_argument("--append", type=Path, help="with --failover: append its figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data and logs even when all is well")
    args = parser.parse_args(argv)
    if args.failover:
        return failover_main(args.append)
    plan = QUICK if args.quick else FULL
    root = args.root or Path(tempfile.mkdtemp(prefix="llmb-chaos-"))
    print(f"chaos soak ({plan.name}): data and logs under {root}", flush=True)
    outcome = run(plan, root)
    print(table(outcome), flush=True)
    if args.json:
        args.json.write_text(json.dumps(summary(outcome), indent=2))
    if args.out:
        command = "python -m devtools.chaos" + (" --quick" if args.quick else "") + f" --out {args.out}"
        date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        args.out.write_text(markdown(outcome, command=command, machine=machine(), commit=commit(), date=date))
        print(f"wrote {args.out}")
    if holds(outcome) and not args.keep and args.root is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if holds(outcome) else 1


if __name__ == "__main__":
    sys.exit(main())
