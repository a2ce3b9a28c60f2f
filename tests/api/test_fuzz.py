"""Promise 15 of RELIABILITY.md: fuzz each OpenAPI operation; no 5xx, every answer as documented.

Schemathesis generates requests from the API's own /openapi.json — bodies, path and query
parameters and every header the API reads (Idempotency-Key, Cancel-After, Prefer, Last-Event-ID,
traceparent), schema-valid and, in the negative mode, hostile — and sends them to the real API under
gunicorn with a real Redis, once with auth on (the document declares its bearer scheme, so missing
and wrong keys are tried too) and once with auth off. It checks that nothing answers 5xx and that
every answer's status, headers, content type and body are the documented ones.

LLMB_FUZZ_EXAMPLES sets the examples per operation and mode (a few here; `make fuzz` asks for many).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from redis import Redis
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, not_a_server_error, positive_data_acceptance

from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard

ADMIN_KEY = "fuzz-admin-key"
EXAMPLES = int(os.environ.get("LLMB_FUZZ_EXAMPLES", "10"))
# In the suite the examples are the same on every run (a failure there is one to fix, never luck);
# `make fuzz` draws new ones each time.
DERANDOMIZE = "LLMB_FUZZ_EXAMPLES" not in os.environ
# No worker runs: a request that waits for its job (the original backend's synchronous endpoint, an
# OpenAI-compatible route) answers the documented 504 once its wait, held to 1 s here, runs out.
WAITS_FOR_A_WORKER = {"/model/generate", "/v1/chat/completions", "/v1/embeddings", "/v1/images/generations"}
# Routes whose bodies take OpenAI's loose wire format, which the document does not state as a schema:
# a schema-valid request may still be refused there, so only the other checks apply to them.
OPENAI_TAG = "OpenAI-compatible"


@dataclass
class Live:
    """One running API under fuzz, and how many requests it was sent."""

    base: str
    redis: Redis
    auth: bool
    sent: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module", params=["on", "off"], ids=["auth-on", "auth-off"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    stack = Stack(tmp_path_factory.mktemp(f"fuzz-{request.param}"))
    try:
        redis_service = stack.start_redis()
        env = {
            "LLMB_AUTH": request.param,
            "LLMB_ADMIN_KEY": ADMIN_KEY,
            "LLMB_LIMITS__MAX_WAIT_S": "1",  # a fuzzed Prefer or ?wait must not park a test for a minute
            "LLMB_OPENAI_WAIT_S": "1",
        }
        api = stack.start_api(env=env)
        with Redis(port=redis_service.port) as client:
            live = Live(f"http://127.0.0.1:{api.port}", client, request.param == "on")
            yield live
            sent = sum(live.sent.values())
            print(f"\nfuzz, auth {request.param}: {sent} requests over {len(live.sent)} operations")
    finally:
        discard(stack)


def _operations() -> list[tuple[str, str]]:
    from api import create_app
    from api.openapi import document
    from shared.settings import load_settings

    settings = load_settings(auth="on", admin_key=ADMIN_KEY)
    app = create_app(settings)
    try:
        return [(m, p) for p, ops in document(app, settings)["paths"].items() for m in ops]
    finally:
        app.extensions["llmb"].close()


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_within_its_document(live: Live, method: str, path: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live.base}/openapi.json")
    operation = schema[path][method.upper()]
    excluded = _excluded(path, OPENAI_TAG in operation.definition.raw.get("tags", []))
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"} if live.auth else {}
    statuses: list[int] = []

    modes = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    @given(case=modes[0] | modes[1])
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        # Each example stands alone: an Idempotency-Key an earlier one used must not make this a replay.
        for key in live.redis.scan_iter("llmb:idem:*"):
            live.redis.delete(key)
        response = case.call(base_url=live.base, headers=headers)
        # The document cannot say which host names resolve: a webhook host that resolves to no public
        # address (none does here) is refused with 422, which tells a schema-valid request no lie.
        unresolved = response.status_code == 422 and "webhook.url" in response.text
        # A "negative" query value can be valid once sent: every query value travels as text, so the
        # number 0 for a string parameter arrives as the valid "0". Such a request is not negative.
        valid_as_sent = _query_valid_as_sent(case)
        case.validate_response(
            response,
            excluded_checks=excluded
            + ([positive_data_acceptance] if unresolved else [])
            + ([negative_data_rejection] if valid_as_sent else []),
        )
        assert response.status_code < 500 or (path in WAITS_FOR_A_WORKER and response.status_code == 504)
        statuses.append(response.status_code)

    fuzz()
    live.sent[f"{method} {path}"] = len(statuses)
    assert statuses, "hypothesis generated no call"


def _query_valid_as_sent(case: schemathesis.Case) -> bool:
    """Whether every query value, as the text it is sent as, meets its parameter's schema, on an
    operation that takes nothing else a mutation could have made invalid (no body, path or header)."""
    raw = case.operation.definition.raw
    params = raw.get("parameters", [])
    if not case.query or "requestBody" in raw or any(p.get("in") != "query" for p in params):
        return False
    schemas = {p["name"]: p.get("schema", {}) for p in params}
    sent = {name: value if isinstance(value, str) else json_text(value) for name, value in case.query.items()}
    return all(
        name in schemas and jsonschema.Draft202012Validator(schemas[name]).is_valid(text)
        for name, text in sent.items()
    )


def json_text(value: object) -> str:
    """A query value as it goes on the wire: numbers and booleans as their JSON text."""
    return "true" if value is True else "false" if value is False else str(value)


# Operations whose parameters constrain each other in ways a schema cannot say.
RELATED_PARAMS = {"/v1/usage"}


def _excluded(path: str, openai: bool) -> list[schemathesis.CheckFunction]:
    excluded: list[schemathesis.CheckFunction] = []
    if path in WAITS_FOR_A_WORKER:
        excluded.append(not_a_server_error)
    # OpenAI bodies are not documented as schemas; the order and span of /v1/usage's `from` and `to` are
    # beyond a schema: a valid-looking request to either may rightly be 4xx.
    if openai or path in RELATED_PARAMS:
        excluded.append(positive_data_acceptance)
    return excluded


def test_the_document_names_every_header_the_api_reads(live: Live) -> None:
    document = httpx.get(f"{live.base}/openapi.json").json()
    read = {
        p["name"]
        for ops in document["paths"].values()
        for op in ops.values()
        for p in op.get("parameters", [])
        if p["in"] == "header"
    }
    assert {"Idempotency-Key", "Cancel-After", "Prefer", "Last-Event-ID", "traceparent"} <= read
