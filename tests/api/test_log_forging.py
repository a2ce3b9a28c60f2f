"""Issue 18 item 7: a client's string never starts a new line in the text logs."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from devtools.stack.deployment import Stack
from devtools.stack.process import Service
from shared import logs
from tests.fixtures.stacks import discard

# Every line the text format writes starts with its time (a traceback's lines aside, none here).
LINE_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")
FORGED = "2026-01-01 00:00:00,000 INFO [MainProcess] api.requests: GET /forged 200 key=admin"


@given(st.text(), st.lists(st.text(), max_size=3))
@example("x\n" + FORGED, ["\r\n" + FORGED])
@example("\u2028\x85\x1b[2J", [])
def test_a_text_line_holds_any_message_and_arguments_on_one_line(message: str, args: list[str]) -> None:
    template = message.replace("%", "%%") + " %s" * len(args)  # the client's text is never the template
    record = logging.LogRecord("t", logging.INFO, __file__, 1, template, tuple(args), None)
    line = logs.formatter("text").format(record)
    assert line.splitlines() == [line]  # str.splitlines splits at every line boundary Unicode knows
    assert logs.escape("\n") == "\\n"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    stack = Stack(tmp_path_factory.mktemp("forging"))
    try:
        stack.start_redis()
        yield stack.start_api(env={"LLMB_LOG_FORMAT": "text"})
    finally:
        discard(stack)


def _raw_get(port: int, target: str, headers: str = "") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        return b"".join(iter(lambda: conn.recv(65536), b""))


@pytest.mark.parametrize("break_", ["%0a", "%0d", "%0d%0a", "%e2%80%a8", "%c2%85"])
def test_a_line_break_in_a_path_does_not_forge_a_log_line(api: Service, break_: str) -> None:
    forged = FORGED.replace(" ", "%20")
    target = f"/v1/jobs/x{break_}{forged}"
    assert _raw_get(api.port, target).startswith(b"HTTP/1.1 404")
    assert _raw_get(api.port, f"/nothing{break_}{forged}").startswith(b"HTTP/1.1 404")
    lines = Path(api.log_path).read_text().splitlines()
    strays = [line for line in lines if not LINE_START.match(line) and not line.startswith("[")]
    assert not strays, strays  # gunicorn's own start-up lines begin with "["
    assert not [line for line in lines if line.startswith("2026-01-01")]
