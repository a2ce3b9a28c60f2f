"""The CLI's exit codes, one per kind of outcome, and the code for each API failure."""

from __future__ import annotations

from enum import IntEnum

from cli.client import ApiError


class ExitCode(IntEnum):
    """What `llmb` exits with; scripts can tell the outcomes apart."""

    OK = 0
    JOB_FAILED = 1  # the job ended failed or canceled
    USAGE = 2  # bad arguments (argparse's own code)
    NOT_FOUND = 3  # no such job or result (404)
    INVALID = 4  # the API rejected the request (400, 413, 422, other 4xx)
    UNAVAILABLE = 5  # no answer, a timeout, or a server error (5xx, 429)
    CONFLICT = 6  # the job's state forbids the request (409), e.g. cancel a finished job
    STILL_RUNNING = 7  # `wait --timeout` passed before the job ended
    DENIED = 8  # the API key is missing or refused (401, 403)
    FILE_ERROR = 9  # a local file could not be written
    NO_INPUT = 10  # a local input file could not be read
    INTERRUPTED = 130  # Ctrl-C; `chat` and `embed` cancel their job, others leave it


def exit_code_for(error: ApiError) -> ExitCode:
    """The exit code for a failed request."""
    status = error.status
    if status == 0 or status >= 500 or status == 429:
        return ExitCode.UNAVAILABLE
    if status == 404:
        return ExitCode.NOT_FOUND
    if status == 409:
        return ExitCode.CONFLICT
    if status in (401, 403):
        return ExitCode.DENIED
    return ExitCode.INVALID
