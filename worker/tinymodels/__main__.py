"""Command line that builds the tiny models into a folder, skipping any whose save is already complete."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

# Written last, so a folder without it is a build that was interrupted.
MARKER = ".complete"
FOLDERS = {"image": "tiny-sd", "chat": "tiny-chat"}


def main(argv: Sequence[str] | None = None) -> int:
    """Build the requested models under --out and print one line per model with its path and size."""
    args = _parse(argv)
    for kind in [args.only] if args.only else list(FOLDERS):
        path = args.out / FOLDERS[kind]
        built = ensure(path, kind, force=args.force)
        print(f"{'built' if built else 'kept'} {path} ({folder_bytes(path) / 1e6:.1f} MB)")
    return 0


def ensure(path: Path, kind: str, *, force: bool = False) -> bool:
    """Build the `kind` model into `path` unless it holds a complete save, and return whether it built."""
    if (path / MARKER).is_file() and not force:
        return False
    if path.exists():
        shutil.rmtree(path)
    _builder(kind)(path)
    versions = {name: importlib.metadata.version(name) for name in ("torch", "diffusers", "transformers")}
    (path / MARKER).write_text(json.dumps(versions) + "\n", encoding="utf-8")
    return True


def folder_bytes(path: Path) -> int:
    """Return the total size in bytes of the files under `path`."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def _builder(kind: str) -> Callable[[Path], Path]:
    """Import and return the builder for `kind`."""
    # Imported only when a build is due: diffusers and transformers take seconds to import, and
    # skipping that keeps a rerun over complete folders instant. common.quiet() must be active
    # before the import, since transformers warns about torchvision at import time.
    from worker.tinymodels.common import quiet

    with quiet():
        if kind == "image":
            from worker.tinymodels.image import build_image_pipeline

            return build_image_pipeline
        from worker.tinymodels.chat import build_chat_model

        return build_chat_model


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m worker.tinymodels", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=Path("var/models"), help="parent folder (default: var/models)"
    )
    parser.add_argument("--only", choices=sorted(FOLDERS), help="build just this model")
    parser.add_argument("--force", action="store_true", help="rebuild even if a complete save exists")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
