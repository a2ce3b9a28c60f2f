"""What the views use (settings, stores, events, hub, keys, limiter, webhooks, results), made once per app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from redis import ConnectionPool

from api.holding import Holder
from api.keyring import KeyRing
from api.limiting import SubmissionLimiter
from shared.events import EventLog
from shared.hub import EventHub
from shared.redis_conn import connect, connect_blocking
from shared.settings import Settings
from shared.storage import ObjectReader, open_reader
from shared.store import JobStore
from shared.store.apikeys import KeyStore
from shared.store.holds import Holds
from shared.store.webhooks import WebhookStore
from shared.webhook_targets import Resolver, system_resolver


@dataclass
class Services:
    """The API's dependencies; tests build one with their own parts."""

    settings: Settings
    store: JobStore
    events: EventLog
    hub: EventHub
    storage: ObjectReader
    keys: KeyStore
    keyring: KeyRing
    limiter: SubmissionLimiter
    webhooks: WebhookStore
    pool: ConnectionPool  # the Redis connections every part above shares
    holder: Holder  # places under the caps on event streams and long-waits
    resolve: Resolver = system_resolver  # webhook hosts to addresses (tests inject their own)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Connect to Redis and the object store the settings name (lazily: nothing dials yet)."""
        client = connect(settings, max_connections=settings.redis_max_connections)
        keys = KeyStore(client)
        return cls(
            settings=settings,
            store=JobStore(
                client,
                job_ttl_s=settings.job_ttl_s,
                write_replicas=settings.redis_write_replicas,
                write_wait_ms=settings.redis_write_wait_ms,
            ),
            events=EventLog(client),
            hub=EventHub(client, connect_blocking(settings)),
            storage=open_reader(settings),
            keys=keys,
            keyring=KeyRing(keys, admin_key=settings.admin_key, autoscaler_key=settings.autoscaler_key),
            limiter=SubmissionLimiter(client, settings.redis_url, settings.limits),
            webhooks=WebhookStore(client, job_ttl_s=settings.job_ttl_s),
            pool=client.connection_pool,
            holder=Holder(Holds(client), settings.limits),
        )

    def close(self) -> None:
        """Stop the event hub's reader and close every connection (tests build many apps)."""
        self.hub.close()
        self.holder.close()
        self.storage.close()
        self.pool.disconnect()


def services() -> Services:
    """The current app's services."""
    svc: Services = current_app.extensions["llmb"]
    return svc
