"""Where Redis is: one plain URL (LLMB_REDIS_URL), or a master that Sentinels name (LLMB_REDIS_SENTINELS).

Every Redis client of every process (store, event hub, limiter, webhook sender, metrics, the Celery
broker) is built from one `RedisTarget`, so one setting moves them all behind Sentinel.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from shared.settings import Settings

SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisTarget:
    """A plain Redis URL, or (when `sentinels` is not empty) the master `master` that the sentinels know."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = "llmb"
    password: str | None = None
    sentinel_password: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> RedisTarget:
        """The target the settings name; ValueError for a sentinel address that is not `host[:port]`."""
        secret = settings.redis_password
        sentinel_secret = settings.redis_sentinel_password
        return cls(
            url=settings.redis_url,
            sentinels=parse_sentinels(settings.redis_sentinels),
            master=settings.redis_master,
            password=secret.get_secret_value() if secret else None,
            sentinel_password=sentinel_secret.get_secret_value() if sentinel_secret else None,
        )

    @property
    def uses_sentinel(self) -> bool:
        """Whether clients ask Sentinel for the master instead of dialling `url`."""
        return bool(self.sentinels)

    @property
    def db(self) -> int:
        """The database number: the path of `url` (`/0` when it names none)."""
        path = urlsplit(self.url).path.strip("/")
        return int(path) if path.isdigit() else 0

    def broker_url(self) -> str:
        """The Celery broker URL: `url` itself, or kombu's `sentinel://…;sentinel://…` list."""
        if not self.uses_sentinel:
            return self.url
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return ";".join(f"sentinel://{auth}{host}:{port}/{self.db}" for host, port in self.sentinels)

    def broker_options(self) -> dict[str, object]:
        """kombu's transport options that name the master and reach the sentinels (none without Sentinel)."""
        if not self.uses_sentinel:
            return {}
        sentinel_kwargs: dict[str, object] = {"socket_connect_timeout": 1, "socket_timeout": 1}
        if self.sentinel_password:
            sentinel_kwargs["password"] = self.sentinel_password
        return {"master_name": self.master, "sentinel_kwargs": sentinel_kwargs}


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` as pairs (the port defaults to 26379); ValueError naming a bad entry."""
    found: list[tuple[str, int]] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep:
            host, port = entry, str(SENTINEL_PORT)
        if not host or not port.isdigit():
            raise ValueError(f"LLMB_REDIS_SENTINELS: {entry!r} is not host:port")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)
