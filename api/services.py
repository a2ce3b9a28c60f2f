"""What the views use (settings, job store, events, event hub, result reader), built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from shared.events import EventLog
from shared.hub import EventHub
from shared.redis_conn import connect, connect_blocking
from shared.settings import Settings
from shared.storage import ObjectReader, open_reader
from shared.store import JobStore


@dataclass
class Services:
    """The API's dependencies; tests build one with their own parts."""

    settings: Settings
    store: JobStore
    events: EventLog
    hub: EventHub
    storage: ObjectReader

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Connect to Redis and the object store the settings name (lazily: nothing dials yet)."""
        client = connect(settings.redis_url, max_connections=settings.redis_max_connections)
        return cls(
            settings=settings,
            store=JobStore(client, job_ttl_s=settings.job_ttl_s),
            events=EventLog(client),
            hub=EventHub(client, connect_blocking(settings.redis_url)),
            storage=open_reader(settings),
        )

    def close(self) -> None:
        """Stop the event hub's reader and close every connection (tests build many apps)."""
        self.hub.close()
        self.storage.close()


def services() -> Services:
    """The current app's services."""
    svc: Services = current_app.extensions["llmb"]
    return svc
