"""What `make run` refuses before it starts: LLMB_ variables it sets itself, no service reads, bad values."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from devtools.stack.console import CLI_VARIABLES
from shared.settings import Limits, Settings

# What `make run` sets itself for each service, and what to use instead.
OWN_SETTINGS = {
    "LLMB_API_BIND": "make run serves 127.0.0.1 on the port it is given: unset LLMB_API_BIND and run "
    "`make run PORT=N`",
    "LLMB_QUEUES": "make run picks the worker's queues: unset LLMB_QUEUES and run "
    "`make run QUEUES=chat,embed`",
    "LLMB_REDIS_URL": "make run starts its own Redis (on 6379 when free): unset LLMB_REDIS_URL; to use "
    "another Redis, start the services yourself (docs/DEPLOYMENT.md)",
    "LLMB_DATA_DIR": "make run keeps its data under ./var, beside the small models it builds there: unset "
    "LLMB_DATA_DIR (`make clean` empties ./var, the models aside)",
    "LLMB_READY_FILE": "make run gives each service its own ready file under the data folder: unset "
    "LLMB_READY_FILE",
}


def known_variables() -> list[str]:
    """Every LLMB_ variable the services read (limits as LLMB_LIMITS__NAME) and the CLI's own."""
    names = [f"LLMB_{name.upper()}" for name in Settings.model_fields if name != "limits"]
    names += [f"LLMB_LIMITS__{name.upper()}" for name in Limits.model_fields]
    return [*names, *CLI_VARIABLES]


def _unknown(name: str, known: list[str], value: str) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    if close:
        hint = f"did you mean {close[0]}?"
    elif name.endswith("PORT"):  # LLMB_PORT, LLMB_API_PORT: the port is make's own variable
        port = value if value.isdigit() else "N"
        hint = f"the API's port is make's PORT: unset {name} and run `make run PORT={port}`"
    else:
        hint = "the README's settings table lists them all"
    return f"{name} is not a setting any service reads: {hint}"


def invalid_values() -> list[str]:
    """One sentence per LLMB_ setting of this process's environment whose value the services would refuse."""
    try:
        Settings()
    except ValidationError as exc:
        return [_value_error(err) for err in exc.errors()]
    return []


def _value_error(err: Mapping[str, Any]) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    names = [str(part).upper() for part in err["loc"] if isinstance(part, str)]
    if not names:
        return message
    return f"LLMB_{'__'.join(names)}={err['input']!s} is not a value it takes: {message}"


def refusals(environ: Mapping[str, str]) -> list[str]:
    """Sentences saying which LLMB_ variables `make run` will not take, and what to use instead."""
    names = sorted(k for k in environ if k.startswith("LLMB_"))
    known = known_variables()
    said = [OWN_SETTINGS[n] for n in names if n in OWN_SETTINGS]
    said += [_unknown(n, known, environ[n]) for n in names if n not in known]
    if environ.get("LLMB_AUTH") == "on" and not environ.get("LLMB_ADMIN_KEY"):
        said.append(
            "LLMB_AUTH=on needs an admin key to make the first keys with: "
            "export LLMB_ADMIN_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\""
        )
    return said
