"""Promise 15 of RELIABILITY.md: fuzz each OpenAPI operation; no 5xx, every answer as documented.

The API runs with auth on (an admin key), as exposed deployments do, so the document declares its
bearer scheme and schemathesis also checks that a missing or wrong key is refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from redis import Redis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import create_app
from api.openapi import document
from shared.settings import Limits, load_settings
from tests.api.conftest import AppFor

ADMIN_KEY = "fuzz-admin-key"
SECURE = {"auth": "on", "admin_key": SecretStr(ADMIN_KEY)}


# The OpenAI-compatible routes are left out: they take OpenAI's loose wire format (size "WxH" in
# multiples of 8, max_tokens or max_completion_tokens, fields that take only neutral values) and answer
# errors in OpenAI's shape, neither of which JSON Schema in this document states exactly enough for
# schema-driven checks; tests/openai drives them with the official SDK and checks each field instead.
OPENAI_TAG = "OpenAI-compatible"


def _operations() -> list[tuple[str, str]]:
    settings = load_settings(**SECURE)
    app = create_app(settings)
    try:
        paths = document(app, settings)["paths"].items()
        return [(m, path) for path, ops in paths for m, op in ops.items() if OPENAI_TAG not in op["tags"]]
    finally:
        app.extensions["llmb"].close()


OPERATIONS = _operations()
# With no worker running, the synchronous endpoint's documented answer is 504 once its wait runs out.
NO_WORKER_TIMEOUT = {("post", "/model/generate"): 504}
# The order and span of /v1/usage's `from` and `to` are beyond a schema: a valid pair may be 422.
RELATED_PARAMS = {("get", "/v1/usage")}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_answers_within_its_document(
    app_for: AppFor, redis_client: Redis, method: str, path: str
) -> None:
    # Short waits: a fuzzed Prefer or ?wait must not park the test for a minute.
    # Any webhook host is let through and "resolves" to a documentation address (no DNS here): the
    # address rules have their own tests; the fuzz checks that answers match the document.
    app = app_for(limits=Limits(max_wait_s=1), webhook_allow_nets="0.0.0.0/0,::/0", **SECURE)
    app.extensions["llmb"].resolve = lambda host, port: ["203.0.113.7"]
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method.upper()]
    calls: list[int] = []

    @given(case=operation.as_strategy())
    @hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        expected_5xx = NO_WORKER_TIMEOUT.get((method, path))
        excluded = [not_a_server_error] if expected_5xx else []
        excluded += [positive_data_acceptance] if (method, path) in RELATED_PARAMS else []
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        # Each example stands alone: an Idempotency-Key an earlier one used must not make this a replay.
        for key in redis_client.scan_iter("llmb:idem:*"):
            redis_client.delete(key)
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        assert response.status_code < 500 or response.status_code == expected_5xx
        calls.append(response.status_code)

    fuzz()
    assert calls, "hypothesis generated no call"
