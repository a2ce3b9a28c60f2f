"""The Server-Sent Events parser, against the cases of the EventSource specification."""

from __future__ import annotations

import pytest

from cli.sse import ServerSentEvent, SseParser, parse


def events(text: str, parser: SseParser | None = None) -> list[ServerSentEvent]:
    return list(parse(text.split("\n"), parser))


def test_a_frame_as_the_api_writes_it() -> None:
    text = 'id: 17-0\nevent: progress\ndata: {"step": 1, "total": 5}\n\n'
    assert events(text) == [ServerSentEvent("progress", '{"step": 1, "total": 5}', "17-0")]


def test_data_lines_are_joined_with_newlines() -> None:
    text = "data: first\ndata:second\ndata\ndata:  indented\n\n"
    assert events(text) == [ServerSentEvent("message", "first\nsecond\n\n indented", None)]


@pytest.mark.parametrize("comment", [": keep-alive", ":", ":no space"])
def test_comments_are_skipped_even_inside_an_event(comment: str) -> None:
    text = f"{comment}\n\nevent: token\n{comment}\ndata: x\n\n"
    assert events(text) == [ServerSentEvent("token", "x", None)]


def test_retry_sets_the_reconnection_delay_and_is_no_event() -> None:
    parser = SseParser()
    assert events("retry: 2000\n\n", parser) == []
    assert parser.retry_ms == 2000
    events("retry: soon\n\nretry: -1\n\n", parser)
    assert parser.retry_ms == 2000  # not all digits: ignored


def test_the_last_id_carries_over_to_events_without_one() -> None:
    parser = SseParser()
    got = events("id: 1-0\ndata: a\n\ndata: b\n\nid: bad\0id\ndata: c\n\n", parser)
    assert [(e.data, e.id) for e in got] == [("a", "1-0"), ("b", "1-0"), ("c", "1-0")]
    assert parser.last_id == "1-0"


def test_an_id_without_data_still_moves_the_last_id() -> None:
    parser = SseParser()
    assert events("id: 5-0\n\n", parser) == []
    assert parser.last_id == "5-0"


def test_an_unfinished_event_is_not_dispatched_and_its_id_not_kept() -> None:
    parser = SseParser()
    got = events("id: 1-0\ndata: a\n\nid: 2-0\nevent: token\ndata: half", parser)
    assert [e.id for e in got] == ["1-0"]
    assert parser.last_id == "1-0"

    parser.reset()  # the connection dropped: the half event is forgotten, the last id kept
    assert events("data: after\n\n", parser) == [ServerSentEvent("message", "after", "1-0")]


def test_unknown_fields_are_ignored_and_the_type_resets_after_each_event() -> None:
    got = events("event: status\nfoo: bar\ndata: 1\n\ndata: 2\n\n")
    assert [e.type for e in got] == ["status", "message"]
