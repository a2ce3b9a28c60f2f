"""The store's Lua scripts, each naming its KEYS and ARGV once in its first lines, called by name.

A script starts with `--! keys: a b` and `--! args: x y rest*` (a trailing `*` takes every further
argument). Loading prepends a prelude that binds them, so the script reads `K.a`, `A.x` and the
list `REST`, and `Script.__call__` orders the caller's named values the same way. A job command's
`--! uses: lib` puts lib.lua's helpers (and its key layout) between the prelude and its own text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import redis
from redis import Redis

from shared.errors import UnavailableError

_DIRECTIVE = re.compile(r"^--!\s*(keys|args):(.*)$", re.MULTILINE)


@contextmanager
def redis_errors() -> Iterator[None]:
    """Turn a Redis outage into UnavailableError at the boundary.

    A master that refuses writes for want of replicas (`min-replicas-to-write`: NOREPLICAS) counts as
    one too: a failover is under way or the replicas are away, and the write is to be tried again.
    """
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise UnavailableError(f"Redis is unavailable: {exc}") from exc
    except redis.ResponseError as exc:
        if "NOREPLICAS" not in str(exc):
            raise
        raise UnavailableError(f"Redis refuses writes until a replica is back: {exc}") from exc


@dataclass(frozen=True)
class Signature:
    """A script's KEYS and ARGV names, in order; `rest` names the trailing variadic arguments."""

    keys: tuple[str, ...]
    args: tuple[str, ...]
    rest: str | None

    @classmethod
    def parse(cls, source: str) -> Signature:
        """Read the `--! keys:` and `--! args:` lines of a script."""
        found = {kind: words.split() for kind, words in _DIRECTIVE.findall(source)}
        args = found.get("args", [])
        rest = args.pop()[:-1] if args and args[-1].endswith("*") else None
        return cls(keys=tuple(found.get("keys", [])), args=tuple(args), rest=rest)

    def prelude(self) -> str:
        """Lua that binds the names: `K.<key>`, `A.<arg>` and `REST`."""
        keys = ", ".join(f"{k} = KEYS[{i}]" for i, k in enumerate(self.keys, 1))
        args = ", ".join(f"{a} = ARGV[{i}]" for i, a in enumerate(self.args, 1))
        rest = f"local REST = {{}} for i = {len(self.args) + 1}, #ARGV do REST[#REST + 1] = ARGV[i] end"
        return f"local K = {{{keys}}}\nlocal A = {{{args}}}\n{rest}\n"


_USES = re.compile(r"^--!\s*uses:(.*)$", re.MULTILINE)


@cache
def _source(name: str) -> str:
    return resources.files("shared.store").joinpath(f"lua/{name}.lua").read_text()


def _body(name: str) -> str:
    """A script's text after the helpers its `--! uses: lib` line names (lib.lua: the job commands')."""
    source = _source(name)
    found = _USES.search(source)
    helpers = found.group(1).split() if found else []
    return "\n".join([*(_source(lib) for lib in helpers), source])


class Script:
    """One registered script, called with named keys and arguments."""

    def __init__(self, client: Redis, name: str) -> None:
        self.name = name
        self.signature = Signature.parse(_source(name))
        self._script: Callable[..., Any] = client.register_script(self.signature.prelude() + _body(name))

    def __call__(
        self,
        keys: Mapping[str, str],
        args: Mapping[str, object],
        rest: Sequence[object] = (),
        *,
        client: Any = None,
    ) -> Any:
        """Run the script (queued on `client` when it is a pipeline); TypeError on a wrong name."""
        sig = self.signature
        if set(keys) != set(sig.keys) or set(args) != set(sig.args) or (rest and sig.rest is None):
            raise TypeError(
                f"{self.name}.lua takes keys {sig.keys} and args {sig.args}, got {tuple(keys)} {tuple(args)}"
            )
        ordered = [args[a] for a in sig.args] + list(rest)
        return self._script(keys=[keys[k] for k in sig.keys], args=ordered, client=client)
