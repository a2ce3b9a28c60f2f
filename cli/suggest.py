"""Mistyped commands and unknown options answered by the command they were given to, with the close
name named ("did you mean submit?")."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence


class SuggestingParser(argparse.ArgumentParser):
    """An ArgumentParser whose "invalid choice" error names the close command ("did you mean submit?")."""

    def _check_value(self, action: argparse.Action, value: object) -> None:
        """Refuse a value outside `action.choices`, naming the closest choice when one is close."""
        choices = action.choices
        if choices is None or value in choices:
            return
        named = [str(choice) for choice in choices]
        close = difflib.get_close_matches(str(value), named, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        listed = ", ".join(repr(choice) for choice in named)
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {listed})")


def command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command `args` ran, `submit image` included; `parser` when none was chosen."""
    chosen = parser
    while True:
        subs = [a for a in chosen._actions if isinstance(a, argparse._SubParsersAction)]
        name = getattr(args, subs[0].dest, None) if subs else None
        if not subs or name not in subs[0].choices:
            return chosen
        chosen = subs[0].choices[name]


def unrecognized(extra: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """argparse's "unrecognized arguments" message, with "did you mean" for each close option."""
    options = [s for action in parser._actions for s in action.option_strings if s.startswith("--")]
    hints = []
    for word in extra:
        if word.startswith("--"):
            close = difflib.get_close_matches(word.split("=", 1)[0], options, n=1, cutoff=0.6)
            if close:
                hints.append(f"{word.split('=', 1)[0]}: did you mean {close[0]}?")
    text = f"unrecognized arguments: {' '.join(extra)}"
    return f"{text} ({'; '.join(hints)})" if hints else text


def parse_suggesting(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse `argv`; unknown arguments exit 2 with the usage of the command they were given to."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        chosen = command_parser(parser, args)
        chosen.error(unrecognized(extra, chosen))
    return args
