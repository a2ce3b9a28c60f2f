"""The table printed at the end of a run, and docs/CHAOS.md."""

from __future__ import annotations

from dataclasses import fields

from devtools.chaos.notes import FINDINGS, how_it_runs
from devtools.chaos.promises import lines as promise_lines
from devtools.chaos.soak import Outcome
from devtools.chaos.summary import Line, batch_violations, fault_rows, figures, holds, rules

SHOWN = 10  # violations listed per rule


def _verdict(line: Line) -> str:
    """A rule's verdict in one word (empty for a figure without a rule)."""
    return "" if line.ok is None else "ok" if line.ok else "BROKEN"


def _violations(o: Outcome) -> list[str]:
    """Every job, object or delivery that broke a rule, SHOWN per rule at most."""
    out = [f"held: {item}" for item in o.held[:SHOWN]]
    for f in fields(o.findings):
        if f.name == "unacknowledged":
            continue
        found = getattr(o.findings, f.name)
        out += [f"{f.name}: {item}" for item in found[:SHOWN]]
        if len(found) > SHOWN:
            out.append(f"{f.name}: … {len(found) - SHOWN} more")
    out += [f"batch: {item}" for item in batch_violations(o)[:SHOWN]]
    return out + [f"usage: {item}" for item in o.usage.violations()[:SHOWN]]


def table(o: Outcome) -> str:
    """The run as text: figures, rules with verdicts, the faults as executed, any violation."""
    verdict = "every rule holds" if holds(o) else "RULES BROKEN"
    head = f"chaos soak ({o.plan.name}): {len(o.tally.accepted)} jobs, load {o.load_s:.0f} s, "
    head += f"wall {o.wall_s:.0f} s: {verdict}"
    rows = [(x.name, x.value, _verdict(x)) for x in [*figures(o), *rules(o)]]
    width = max(len(r[0]) for r in rows)
    out = [head, ""] + [f"  {n:<{width}}  {v}{'  [' + ok + ']' if ok else ''}" for n, v, ok in rows]
    out += ["", "faults as executed (seconds after the load began):"]
    for at, kind, detail, figure in fault_rows(o):
        out += [f"  {at:>6}  {kind}: {detail}", f"          → {figure}"]
    violations = _violations(o)
    if violations:
        out += ["", "violations:", *[f"  {v}" for v in violations]]
    return "\n".join(out)


def _cell(text: str) -> str:
    """Text safe in a markdown table cell."""
    return text.replace("|", "\\|")


def _run_lines(o: Outcome, *, command: str, machine: str, commit: str, date: str) -> list[str]:
    """The run's command, machine, commit, date and times."""
    verdict = "every rule held" if holds(o) else "**rules were broken** (see Violations)"
    return [
        "## The last run",
        "",
        f"- Command: `{command}` ({o.plan.name} plan, seed {o.plan.seed})",
        f"- Machine: {machine}",
        f"- Commit: {commit}",
        f"- Date: {date}",
        f"- Time: load {o.load_s:.0f} s, wall {o.wall_s:.0f} s (start-up and audit included); "
        f"{o.workers_started} workers started in all; {verdict}.",
        "",
    ]


def _tables(o: Outcome) -> list[str]:
    """The figures table and the faults-as-executed table."""
    out = ["### Figures", "", "| figure | value | rule | verdict |", "| --- | --- | --- | --- |"]
    out += [f"| {x.name} | {_cell(x.value)} | {x.rule} | {_verdict(x)} |" for x in [*figures(o), *rules(o)]]
    out += ["", "### Faults as executed", "", "| at (s) | fault | what it hit | what followed |"]
    out += ["| ---: | --- | --- | --- |"]
    out += [f"| {at} | {kind} | {_cell(what)} | {_cell(then)} |" for at, kind, what, then in fault_rows(o)]
    return [*out, ""]


def markdown(o: Outcome, *, command: str, machine: str, commit: str, date: str) -> str:
    """docs/CHAOS.md for this run."""
    out = ["# Chaos soak", "", how_it_runs(o.plan)]
    out += _run_lines(o, command=command, machine=machine, commit=commit, date=date)
    out += _tables(o)
    out += ["### RELIABILITY.md's fault promises in this run", "", *[f"- {x}" for x in promise_lines(o)], ""]
    violations = _violations(o)
    if violations:
        out += ["### Violations", "", *[f"- {_cell(v)}" for v in violations], ""]
    return "\n".join([*out, FINDINGS])
