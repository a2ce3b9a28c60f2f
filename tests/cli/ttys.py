"""A terminal stand-in, and a CLI runner whose stdout and stderr are terminals."""

from __future__ import annotations

import io

import httpx

from cli.main import main
from tests.cli.fakes import API, Handler, Run


class Tty(io.StringIO):
    """A stdout or stderr stand-in that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run_tty(handler: Handler, *args: str, out_tty: bool = True, err_tty: bool = True) -> Run:
    """Run `llmb --url API args...` in-process, stdout and stderr terminals unless told otherwise."""
    out = Tty() if out_tty else io.StringIO()
    err = Tty() if err_tty else io.StringIO()
    transport = httpx.MockTransport(handler)
    code = main(["--url", API, *args], env={}, transport=transport, stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())
