"""What `make run` prints: the ready text with the user's settings (secrets masked) and this run's logs."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from devtools.stack.process import Service

SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN")
# The `llmb` CLI's own variables: no service reads them, so the settings line leaves them out.
CLI_VARIABLES = ("LLMB_URL", "LLMB_API_KEY")

READY = """
LLM Backend is ready: API on http://127.0.0.1:{port}, data under {root}
{settings}{auth}
  curl -X POST localhost:{port}/v1/jobs -H 'Content-Type: application/json'{header} \\
       -d '{{"type":"image","input":{{"prompt":"a red fox","width":128,"height":96,"steps":2}}}}'
  curl{header} localhost:{port}/v1/jobs/<id>?wait=30
  curl{header} -o fox.png localhost:{port}/v1/jobs/<id>/result
  {key}.venv/bin/llmb --url http://127.0.0.1:{port} submit image "a red fox" --wait -o fox.png

Playground: http://127.0.0.1:{port}/    API docs: http://127.0.0.1:{port}/docs
Ctrl-C stops everything (the worker first); twice, faster.
"""


def say(text: str, out: TextIO) -> None:
    """Print a line; a closed terminal (SIGHUP) or a gone reader must not break the stop that follows."""
    try:
        out.write(text + "\n")
        out.flush()
    except (OSError, ValueError):
        _to_devnull(out)


def _to_devnull(out: TextIO) -> None:
    """Send what is left of `out` (its buffer included) to /dev/null: nobody can read it any more."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, out.fileno())
        os.close(null)
        out.flush()


def user_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The services' LLMB_ variables of an environment, by name: the settings the user changed."""
    return {k: v for k, v in sorted(environ.items()) if k.startswith("LLMB_") and k not in CLI_VARIABLES}


def masked(name: str, value: str) -> str:
    """The value to show: *** for secrets, and for the password inside a URL."""
    if any(word in name.upper() for word in SECRET_WORDS):
        return "***"
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", value)


def settings_text(settings: Mapping[str, str]) -> str:
    """The ready text's settings line: the user's LLMB_ variables, or that the defaults hold."""
    if not settings:
        return "Settings: the defaults (no LLMB_ variable set)\n"
    shown = ", ".join(f"{k}={masked(k, v)}" for k, v in settings.items())
    return f"Settings from your environment: {shown}\n"


AUTH_OFF = "Auth: off (the API serves 127.0.0.1 only; LLMB_AUTH=on with LLMB_ADMIN_KEY requires keys)"
AUTH_ON = (
    "Auth: on; make a key with the admin key from your environment (a command line shows in ps):\n"
    '  LLMB_API_KEY="$LLMB_ADMIN_KEY" .venv/bin/llmb --url http://127.0.0.1:{port} keys create --name NAME\n'
    "  then export KEY=<the key it shows> (shown once) for the lines below"
)


def ready_text(*, port: int, root: Path, settings: Mapping[str, str]) -> str:
    """What `make run` prints once every service is ready, auth on or off included."""
    auth_on = settings.get("LLMB_AUTH") == "on"
    return READY.format(
        port=port,
        root=root,
        settings=settings_text(settings),
        auth=AUTH_ON.format(port=port) if auth_on else AUTH_OFF,
        header=' -H "Authorization: Bearer $KEY"' if auth_on else "",
        key='LLMB_API_KEY="$KEY" ' if auth_on else "",
    )


class LogTail:
    """Follows the services' log files (this run's only: each start begins a fresh file) and echoes whole
    new lines with the service's name in front."""

    def __init__(self, out: TextIO) -> None:
        self.files: dict[str, TextIO] = {}
        self.partial: dict[str, str] = {}
        self.out = out

    def follow(self, services: list[Service]) -> None:
        """Echo these services' logs from their start on."""
        for svc in services:
            self.files[svc.name] = svc.log_path.open("r", errors="replace")
            self.partial[svc.name] = ""

    def pump(self) -> None:
        """Echo every complete line written since the last call."""
        for name, handle in self.files.items():
            lines = (self.partial[name] + handle.read()).split("\n")
            self.partial[name] = lines.pop()
            for line in lines:
                say(f"[{name}] {line}", self.out)

    def close(self) -> None:
        """Echo what is left, unfinished lines too, and close the files."""
        self.pump()
        for name, handle in self.files.items():
            if self.partial[name]:
                say(f"[{name}] {self.partial[name]}", self.out)
            handle.close()
