"""`make bench-gpu-pack`: download the pinned wheels a bare GPU machine lacks into var/gpu-wheels.

For CPython 3.12 on manylinux x86_64 (the GPU machine) unless told otherwise; wheels already there are
kept. Fails when they would not fit the device tool's 64 MiB carry. Writes var/gpu-wheels/COMMAND.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from devtools import REPO
from devtools.bench.gpu.pins import Pin, bench_roots, command_text, parse, select, too_big, wheel_pin

WHEELS = REPO / "var" / "gpu-wheels"
REQUIREMENTS = REPO / "requirements"


def wanted() -> list[Pin]:
    """The pins to carry: what the benchmark needs beyond the GPU machine's torch and transformers."""
    graph = parse((REQUIREMENTS / "dev.txt").read_text(encoding="utf-8"))
    local = parse((REQUIREMENTS / "local.txt").read_text(encoding="utf-8"))
    return select(graph, bench_roots(local))


# glibc 2.28 and older: the GPU machine's is newer; some pins ship only manylinux_2_28 wheels.
PLATFORMS = "manylinux_2_28_x86_64,manylinux_2_27_x86_64,manylinux_2_24_x86_64,manylinux2014_x86_64"


def download(pin: Pin, dest: Path, *, python_version: str, platforms: str) -> None:
    """Fetch one pinned wheel (no dependencies: the selection names them all) into `dest`."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    command += ["--only-binary=:all:", "--no-deps", f"--python-version={python_version}"]
    command += [f"--platform={tag}" for tag in platforms.split(",")]
    command += ["--implementation=cp", f"--dest={dest}"]
    subprocess.run([*command, f"{pin.name}=={pin.version}"], check=True)


def pack(dest: Path, *, python_version: str, platforms: str) -> int:
    """Fill `dest` with the wanted wheels, drop stale ones, check the size, write COMMAND; 0 when it fits."""
    dest.mkdir(parents=True, exist_ok=True)
    pins = wanted()
    names = {pin.name: pin.version for pin in pins}
    have = {wheel_pin(p.name): p for p in dest.glob("*.whl")}
    for (name, version), path in have.items():
        if names.get(name) != version:
            print(f"removing {path.name} (no longer wanted)")
            path.unlink()
    for pin in pins:
        if (pin.name, pin.version) not in have:
            print(f"downloading {pin.name}=={pin.version}", flush=True)
            download(pin, dest, python_version=python_version, platforms=platforms)
    sizes = {p.name: p.stat().st_size for p in dest.glob("*.whl")}
    missing = set(names.items()) - {wheel_pin(name) for name in sizes}
    if missing:
        print(f"no wheel for: {sorted(missing)}", file=sys.stderr)
        return 1
    if message := too_big(sizes):
        print(message, file=sys.stderr)
        return 1
    mib = sum(sizes.values()) / 2**20
    (dest / "COMMAND").write_text(command_text(mib, len(sizes)), encoding="utf-8")
    print(f"{len(sizes)} wheels, {mib:.1f} MiB in {dest}; the device command is in {dest / 'COMMAND'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and pack."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.gpu.pack", description=__doc__)
    parser.add_argument("--dest", type=Path, default=WHEELS, help="where the wheels go (var/gpu-wheels)")
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python (3.12)")
    parser.add_argument("--platforms", default=PLATFORMS, help="its platform tags, comma-separated")
    args = parser.parse_args(argv)
    return pack(args.dest, python_version=args.python_version, platforms=args.platforms)


if __name__ == "__main__":
    sys.exit(main())
