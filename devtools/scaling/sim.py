"""`make scaling-sim`: replay a burst of jobs through KEDA, the HPAs and the pods of a rendered overlay."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from devtools.scaling.api import ApiLoad, ApiTrace, requests_per_s, simulate_api
from devtools.scaling.findings import markdown
from devtools.scaling.manifests import load
from devtools.scaling.params import ManifestError, Manifests, parse, render
from devtools.scaling.plot import plot
from devtools.scaling.report import Report
from devtools.scaling.results import Results, Scenario, simulate
from devtools.scaling.workload import BurstSpec

# The slow-traffic contrast: jobs arrive slower than the workers finish them, so the list is mostly empty,
# and each runs longer than the default cooldownPeriod (300 s), as the waiting-only scaler's worst case.
TRICKLE = BurstSpec(jobs=15, over_s=3600.0, service_s=420.0, service_cv=0.3)
K8S_DEFAULT_GRACE_S = 30
POLLING_CLIENTS_S = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: where the manifests come from, the workload, and the assumptions."""
    p = argparse.ArgumentParser(prog="python -m devtools.scaling", description=__doc__)
    p.add_argument("--overlay", default="k8s/overlays/minikube", help="kustomize overlay to render")
    p.add_argument("--manifests", type=Path, help="an already rendered YAML stream instead of --overlay")
    p.add_argument("--queue", default="image", choices=["image", "chat", "embed"])
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--over-s", type=float, default=120.0, help="the burst's length in seconds")
    p.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    p.add_argument("--service-s", type=float, default=5.0, help="mean service time of one job on one worker")
    p.add_argument("--service-cv", type=float, default=0.3, help="its coefficient of variation (gamma)")
    p.add_argument("--start-s", type=float, nargs=2, default=(30.0, 60.0), metavar=("LOW", "HIGH"),
                   help="worker pod start latency, uniform between LOW and HIGH")  # fmt: skip
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--cost-ms", type=float, default=2.0, help="API CPU time per request")
    p.add_argument("--poll-s", type=float, default=60.0, help="how often a client re-issues its long-wait")
    p.add_argument("--api-start-s", type=float, default=15.0, help="API pod start latency")
    p.add_argument("--out-md", type=Path, default=Path("docs/scaling.md"))
    p.add_argument("--out-png", type=Path, default=Path("docs/scaling.png"))
    return p.parse_args(argv)


def scenarios(args: argparse.Namespace) -> tuple[Scenario, list[Scenario]]:
    """The burst the options describe; slow traffic at the manifests' values, at a 30 s grace, at target 1."""
    api = ApiLoad(cost_ms=args.cost_ms, poll_s=args.poll_s, start_s=args.api_start_s)
    spec = BurstSpec(args.jobs, args.over_s, args.arrivals, args.service_s, args.service_cv)
    main = Scenario("burst", spec, tuple(args.start_s), args.seed, api)
    slow = replace(TRICKLE, arrivals=args.arrivals)
    name = "slow traffic"
    trickle = replace(main, name=name, burst=slow)
    grace = replace(trickle, name=f"{name}, grace {K8S_DEFAULT_GRACE_S} s",
                    what_if=(("grace_s", K8S_DEFAULT_GRACE_S),))  # fmt: skip
    target = replace(trickle, name=f"{name}, targetValue 1", what_if=(("target", 1.0),))
    return main, [trickle, grace, target]


def api_variants(main: Results, manifests: Manifests) -> list[tuple[str, ApiLoad, ApiTrace]]:
    """The API under the burst's clients as assumed (long-waits), and with clients that poll every 2 s."""
    load = main.scenario.api
    polling = replace(load, poll_s=POLLING_CLIENTS_S)
    end, seconds = main.runs["load"].end, len(main.api.replicas)
    polled = simulate_api(requests_per_s(main.work, end, seconds, polling.poll_s), manifests.api, polling)
    return [
        (f"long-wait, re-issued every {load.poll_s:g} s", load, main.api),
        (f"poll `GET /v1/jobs/{{id}}` every {POLLING_CLIENTS_S:g} s", polling, polled),
    ]


def run(args: argparse.Namespace, manifests: Manifests, command: str) -> Report:
    """Every scenario under both signals, and the API under both client behaviours."""
    started = time.perf_counter()
    burst, contrasts = scenarios(args)
    main_results = simulate(manifests, burst)
    return Report(
        command=command,
        overlay=str(args.manifests or args.overlay),
        manifests=manifests,
        main=main_results,
        contrasts=[simulate(manifests, sc) for sc in contrasts],
        api_variants=api_variants(main_results, manifests),
        elapsed_s=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Render, simulate, write the report and the plot; 2 when the manifests cannot be read."""
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        objs = parse(args.manifests.read_text()) if args.manifests else render(Path(args.overlay))
        manifests = load(objs, args.queue)
    except ManifestError as exc:
        print(f"scaling-sim: {exc}", file=sys.stderr)
        return 2
    command = shlex.join(["python", "-m", "devtools.scaling", *(sys.argv[1:] if argv is None else argv)])
    report = run(args, manifests, command)
    apis = [(f"burst: API, clients {name}", trace) for name, _, trace in report.api_variants]
    columns = [report.main, report.contrasts[0]]
    plot(columns, apis, args.out_png, title=f"Scaling simulation: {report.overlay}")
    args.out_md.parent.mkdir(parents=True, exist_ok=True)
    args.out_md.write_text(markdown(report))
    print(f"wrote {args.out_md} and {args.out_png} in {time.perf_counter() - started:.1f} s")
    return 0
