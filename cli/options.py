"""How each job type's input is given on the command line: its options, and the input they build.

Only options the user gave are sent; the server fills in its defaults and checks every cap.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

from shared import numbers


def number(kind: Callable[[str], float], *, low: float, what: str) -> Callable[[str], float]:
    """An argparse type accepting `kind` values of at least `low`."""

    def parse(text: str) -> float:
        read = numbers.integer if kind is int else numbers.decimal
        value = read(text.strip())
        if value is None or value < low:  # ASCII digits only: no "nan", "inf", "1e999" or "²"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


POSITIVE_INT = number(int, low=1, what="a positive integer")
INDEX = number(int, low=0, what="an index (0, 1, ...)")
SECONDS = number(float, low=0, what="a number of seconds")
POSITIVE_SECONDS = number(float, low=0.001, what="a positive number of seconds")
WHOLE = number(int, low=0, what="a whole number (0, 1, ...)")
DECIMAL = number(float, low=0, what="a number such as 7 or 0.5")

DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"([0-9]+)\s*([smhdw]?)")


def duration(text: str) -> int:
    """An argparse type: a positive duration such as 90s, 15m, 12h, 30d or 2w (a bare number is seconds)."""
    found = _DURATION.fullmatch(text.strip().lower())
    count = numbers.integer(found.group(1), low=1, high=10**9) if found else None
    seconds = count * DURATION_UNITS[found.group(2)] if found and count else 0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 15m, 12h, 30d or 2w")
    return seconds


# CLI option -> field of the job input.
IMAGE_FIELDS = {
    "width": "width",
    "height": "height",
    "steps": "steps",
    "seed": "seed",
    "guidance": "guidance_scale",
    "negative": "negative_prompt",
    "num_images": "num_images",
}
CHAT_FIELDS = {"max_tokens": "max_tokens", "temperature": "temperature", "top_p": "top_p", "seed": "seed"}


def add_image_options(parser: argparse.ArgumentParser) -> None:
    """The prompt and the options of a text-to-image job."""
    parser.add_argument("prompt", help="what to draw")
    parser.add_argument(
        "--width", type=WHOLE, metavar="N", help="width in pixels, a multiple of 8 (server default 512)"
    )
    parser.add_argument(
        "--height", type=WHOLE, metavar="N", help="height in pixels, a multiple of 8 (server default 512)"
    )
    parser.add_argument("--steps", type=WHOLE, metavar="N", help="denoising steps (server default 20)")
    parser.add_argument("--seed", type=WHOLE, metavar="N", help="random seed, for repeatable images")
    parser.add_argument(
        "--guidance", type=DECIMAL, metavar="X", help="guidance scale: how closely to follow the prompt"
    )
    parser.add_argument("--negative", metavar="TEXT", help="negative prompt: what to avoid")
    parser.add_argument("--num-images", type=WHOLE, metavar="N", help="how many images to make (default 1)")


def add_chat_options(parser: argparse.ArgumentParser) -> None:
    """The prompt and the options of a chat job."""
    parser.add_argument("prompt", help="the user's message")
    parser.add_argument("--system", metavar="TEXT", help="a system message to put before it")
    parser.add_argument(
        "--max-tokens", type=WHOLE, metavar="N", help="longest reply in tokens, 1..2048 (default 256)"
    )
    parser.add_argument(
        "--temperature",
        type=DECIMAL,
        metavar="X",
        help="sampling temperature, 0..2; 0 is greedy (default 0.7)",
    )
    parser.add_argument(
        "--top-p", type=DECIMAL, metavar="X", help="nucleus sampling: keep this much probability (default 1)"
    )
    parser.add_argument("--seed", type=WHOLE, metavar="N", help="random seed, for repeatable replies")
    parser.add_argument(
        "--stop",
        nargs="+",
        action="extend",
        metavar="S",
        help="end the reply before this text (one or more; give the prompt first)",
    )


def add_embed_options(parser: argparse.ArgumentParser) -> None:
    """The texts of an embed job."""
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="a text to embed (up to 256)")


WEBHOOK_EVENTS = ("started", "completed", "progress")


def add_contract_options(parser: argparse.ArgumentParser) -> None:
    """What `submit TYPE` may ask besides the input: an Idempotency-Key, a webhook, a deadline, a priority."""
    parser.add_argument(
        "--idempotency-key",
        metavar="K",
        help="submitting again with the same K and input answers the same job, never a second one",
    )
    parser.add_argument(
        "--webhook", metavar="URL", help="POST the job, signed, to this http(s) URL (see `llmb webhooks ID`)"
    )
    parser.add_argument(
        "--webhook-event",
        dest="webhook_events",
        action="append",
        choices=WEBHOOK_EVENTS,
        metavar="EVENT",
        help="when to call --webhook, once per event: started, completed, progress (default completed)",
    )
    parser.add_argument(
        "--deadline",
        type=duration,
        metavar="S",
        help="cancel the job unless it finished S seconds after submission (also 90s, 15m, 2h)",
    )
    parser.add_argument(
        "--priority",
        choices=("interactive", "batch"),
        help="batch: served after every waiting interactive job of its queue (default interactive)",
    )


def job_options(args: argparse.Namespace) -> dict[str, Any]:
    """The create body's members beyond the input: the webhook and the deadline that were given."""
    options: dict[str, Any] = {}
    if args.webhook:
        webhook: dict[str, Any] = {"url": args.webhook}
        if args.webhook_events:
            webhook["events"] = list(dict.fromkeys(args.webhook_events))
        options["webhook"] = webhook
    if args.deadline is not None:
        options["deadline_s"] = args.deadline
    if args.priority:
        options["priority"] = args.priority
    return options


def given(args: argparse.Namespace, fields: dict[str, str]) -> dict[str, Any]:
    """The input fields for the options that were given on the command line."""
    values = {name: getattr(args, option) for option, name in fields.items()}
    return {name: value for name, value in values.items() if value is not None}


def image_input(args: argparse.Namespace) -> dict[str, Any]:
    """The image job input the options describe."""
    return {"prompt": args.prompt, **given(args, IMAGE_FIELDS)}


def chat_input(args: argparse.Namespace) -> dict[str, Any]:
    """The chat job input: an optional system message, the user's message, and the sampling options."""
    messages = [{"role": "system", "content": args.system}] if args.system is not None else []
    messages.append({"role": "user", "content": args.prompt})
    job_input: dict[str, Any] = {"messages": messages, **given(args, CHAT_FIELDS)}
    if args.stop:
        job_input["stop"] = args.stop
    return job_input


def embed_input(args: argparse.Namespace) -> dict[str, Any]:
    """The embed job input: every text, in order."""
    return {"input": list(args.texts)}


INPUTS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "image": image_input,
    "chat": chat_input,
    "embed": embed_input,
}
