"""The command line: subcommands, options and their help."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from cli import commands

DEFAULT_URL = "http://127.0.0.1:8000"

EPILOG = """\
environment:
  LLMB_URL       the API's base URL (default http://127.0.0.1:8000)
  LLMB_API_KEY   API key, sent as "Authorization: Bearer <key>"

exit codes:
  0  success
  1  the job failed or was canceled
  2  bad usage
  3  no such job or result (404)
  4  the API rejected the request as invalid (400, 413, 422)
  5  the server is unreachable, timed out or failed (5xx)
  6  the job's state forbids the request (409), e.g. canceling a finished job
  7  `wait --timeout` passed before the job ended
  8  the API key is missing or refused (401, 403)
  9  a local file could not be written
  130 interrupted (Ctrl-C); the job itself goes on

examples:
  llmb submit image "a red fox in snow" --steps 20 --wait -o fox.png
  llmb status 1f6e...; llmb wait 1f6e... --timeout 60; llmb result 1f6e... -o fox.png
"""


def number(kind: Callable[[str], float], *, low: float, what: str) -> Callable[[str], float]:
    """An argparse type accepting `kind` values of at least `low`."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from exc
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


POSITIVE_INT = number(int, low=1, what="a positive integer")
INDEX = number(int, low=0, what="an index (0, 1, ...)")
SECONDS = number(float, low=0, what="a number of seconds")
POSITIVE_SECONDS = number(float, low=0.001, what="a positive number of seconds")


def common_options(env: Mapping[str, str], *, suppress: bool) -> argparse.ArgumentParser:
    """Options valid before or after the subcommand (after it they override only when given)."""
    parser = argparse.ArgumentParser(add_help=False)
    default: Callable[[object], object] = (lambda _: argparse.SUPPRESS) if suppress else (lambda v: v)
    group = parser.add_argument_group("global options")
    url = env.get("LLMB_URL") or DEFAULT_URL
    key = env.get("LLMB_API_KEY")
    group.add_argument(
        "--url", default=default(url), help=f"the API's base URL (env LLMB_URL; default {url})"
    )
    group.add_argument("--api-key", metavar="KEY", default=default(key), help="API key (env LLMB_API_KEY)")
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON on stdout and no progress bars",
    )
    if not suppress:  # `wait --timeout` is another option, so this one goes before the command only
        group.add_argument(
            "--timeout",
            dest="http_timeout",
            type=POSITIVE_SECONDS,
            default=30.0,
            metavar="S",
            help="seconds to wait for each HTTP answer (default 30)",
        )
    return parser


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    """The `llmb` parser, with defaults taken from `env`."""
    parser = argparse.ArgumentParser(
        prog="llmb",
        description="Submit and follow jobs on an LLM Backend server.\n"
        "--url, --api-key and --json may also follow the command; --timeout goes before it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common_options(env, suppress=False)],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    after = [common_options(env, suppress=True)]
    add_submit(sub, after)
    add_follow_commands(sub, after)
    add_job_commands(sub, after)
    return parser


def add_submit(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`submit image PROMPT ...`."""
    submit = sub.add_parser("submit", help="submit a job", description="Submit a job.")
    kinds = submit.add_subparsers(dest="kind", required=True, metavar="TYPE")
    image = kinds.add_parser(
        "image", parents=after, help="text-to-image", description="Submit a text-to-image job; print its id."
    )
    image.add_argument("prompt", help="what to draw")
    image.add_argument(
        "--width", type=int, metavar="N", help="width in pixels, a multiple of 8 (server default 512)"
    )
    image.add_argument(
        "--height", type=int, metavar="N", help="height in pixels, a multiple of 8 (server default 512)"
    )
    image.add_argument("--steps", type=int, metavar="N", help="denoising steps (server default 20)")
    image.add_argument("--seed", type=int, metavar="N", help="random seed, for repeatable images")
    image.add_argument(
        "--guidance", type=float, metavar="X", help="guidance scale: how closely to follow the prompt"
    )
    image.add_argument("--negative", metavar="TEXT", help="negative prompt: what to avoid")
    image.add_argument("--num-images", type=int, metavar="N", help="how many images to make (default 1)")
    image.add_argument("--wait", action="store_true", help="follow the job with a progress bar until it ends")
    image.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="save the image(s) there (implies --wait); with several images the first goes to FILE "
        "and the others to FILE's name plus -1, -2, ... (out.png, out-1.png, out-2.png)",
    )
    image.set_defaults(handler=commands.submit_image)


def add_job_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`status`, `cancel` and `list`."""
    status = sub.add_parser("status", parents=after, help="show a job", description="Show a job.")
    status.add_argument("id", help="job id")
    status.set_defaults(handler=commands.status)

    cancel = sub.add_parser(
        "cancel", parents=after, help="cancel a job", description="Cancel a queued or running job."
    )
    cancel.add_argument("id", help="job id")
    cancel.set_defaults(handler=commands.cancel)

    jobs = sub.add_parser(
        "list", parents=after, help="list your newest jobs", description="List your newest jobs."
    )
    jobs.add_argument("--limit", type=POSITIVE_INT, default=20, metavar="N", help="how many (default 20)")
    jobs.set_defaults(handler=commands.list_jobs)


def add_follow_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`wait` and `result`."""
    wait = sub.add_parser(
        "wait",
        parents=after,
        help="follow a job until it ends",
        description="Follow a job with a progress bar until it ends; exit 0 only if it succeeded.",
    )
    wait.add_argument("id", help="job id")
    wait.add_argument(
        "--timeout", dest="wait_timeout", type=SECONDS, metavar="S", help="give up after S seconds (exit 7)"
    )
    wait.add_argument(
        "-o", "--output", metavar="FILE", help="save the result there once it succeeded (as submit -o)"
    )
    wait.set_defaults(handler=commands.wait)

    result = sub.add_parser(
        "result",
        parents=after,
        help="download a finished job's result",
        description="Download a finished job's result; a JSON result is printed when no -o is given.",
    )
    result.add_argument("id", help="job id")
    result.add_argument("-o", "--output", metavar="FILE", help="write the result there ('-' for stdout)")
    result.add_argument("--index", type=INDEX, metavar="N", help="which file of several (0 is the first)")
    result.set_defaults(handler=commands.result)
