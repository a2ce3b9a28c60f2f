"""One typed settings object, built once at start from LLMB_ environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.image_options import ImageOptions
from shared.limits import Limits
from shared.vocabulary import JobType
from shared.weights import TenantWeights, weight_of

__all__ = [
    "LOCAL_EMBED_DIMENSIONS",
    "LOCAL_MODELS",
    "LOOPBACK",
    "Limits",
    "OpenAIModel",
    "Settings",
    "bind_host",
    "load_settings",
]


class OpenAIModel(BaseModel):
    """A model the OpenAI-compatible routes serve: the id clients name, the job type (queue) that runs it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    type: JobType
    dimensions: int | None = Field(default=None, gt=0, description="embed: the vectors' length, if known")


# The local models `make run` serves, by job type, when LLMB_OPENAI_MODELS and LLMB_*_MODEL are unset.
LOCAL_MODELS = {JobType.IMAGE: "tiny-sd", JobType.CHAT: "tiny-chat", JobType.EMBED: "all-MiniLM-L6-v2"}
LOCAL_EMBED_DIMENSIONS = 384


class Settings(ImageOptions):
    """Configuration shared by the API, the workers, compose and the manifests."""

    model_config = SettingsConfigDict(
        env_prefix="LLMB_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_max_connections: int = 32
    redis_sentinels: str = Field(default="", description="host:port,... of Redis Sentinels; set: ask them")
    redis_master: str = Field(default="llmb", description="the master's name the sentinels monitor")
    redis_password: SecretStr | None = Field(default=None, description="the master's password, with Sentinel")
    redis_sentinel_password: SecretStr | None = None
    redis_write_replicas: int = Field(default=0, ge=0, description="replicas a new job must reach (WAIT)")
    redis_write_wait_ms: int = Field(default=500, ge=1, description="how long a create waits for them")
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics: bool = True
    metrics_port: int | None = None
    metrics_dir: Path | None = None
    metrics_tenants: int = 0  # usage counters carry a tenant label for this many tenants (0: none)
    public_url: str | None = None  # the base URL clients use to reach the API; default: the request's host

    api_bind: str = "127.0.0.1:8000"
    api_workers: int = 2
    api_connections: int = 1000

    auth: Literal["on", "off"] | None = None
    admin_key: SecretStr | None = None
    autoscaler_key: SecretStr | None = None
    cors_origins: str = ""
    webhook_allow_nets: str = ""
    webhook_retry_for_s: int = 86_400
    webhook_timeout_s: float = 5.0
    webhook_backoff_s: float = 5.0
    webhook_deadline_s: float = 15.0
    webhook_tenant_sends: int = 4
    budget_alert_webhook: str | None = None  # told when a budget passes 80 % (budget.threshold)
    allowed_hosts: str | None = None

    storage: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None
    s3_endpoint_url: str | None = None
    s3_public_url: str | None = None
    s3_bucket: str = "llmb"
    s3_region: str = "us-east-1"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_redirect: bool = True
    presign_ttl_s: int = 900
    storage_tries: int = 3
    storage_backoff_s: float = 1.0

    job_ttl_s: int = 7 * 24 * 3600
    max_attempts: int = 3
    lease_ttl_s: int = 30
    job_time_limit_s: int = 600

    queues: str = "image"
    worker_pool: Literal["threads", "prefork"] = "threads"  # worker/slots.py: one process owns the device
    concurrency: int | None = Field(default=None, ge=1)  # deliveries at once; None: worker/slots.py
    device: Literal["auto", "cuda", "mps", "cpu"] = "auto"
    chat_model: str | None = None
    chat_pipeline: str = "worker.pipelines.chat:TransformersChatPipeline"
    chat_cache: Literal["dynamic", "static"] = "dynamic"
    chat_engine: Literal["continuous", "static"] = "continuous"
    chat_max_requests: int | None = Field(default=None, ge=1)
    chat_cuda_graphs: bool = False
    chat_compile: bool = False
    chat_cache_blocks: int | None = Field(default=None, ge=1)
    embed_model: str | None = None
    embed_pipeline: str = "worker.pipelines.embed:SentenceEmbedPipeline"
    batch_max: int = 8
    batch_wait_ms: int = 25
    device_batches: int = Field(default=1, ge=1)  # threads pool: one pipeline's batches on the device at once
    tenant_weights: TenantWeights = ()
    priority_aging_s: float = Field(default=300.0, ge=0)
    priority_aging_every: int = Field(default=5, ge=1)
    event_interval_ms: int = 50
    stop_mode: Literal["hand_back", "finish"] = "hand_back"
    reconnect_max_s: float = 2.0
    preload: Literal["auto", "on", "off"] = "auto"
    ready_file: Path | None = None
    alive_file: Path | None = None

    limits: Limits = Limits()

    openai_wait_s: int = Field(
        default=300, ge=1, description="how long a non-streaming OpenAI-compatible request waits for its job"
    )
    openai_models: tuple[OpenAIModel, ...] | None = Field(
        default=None, description="what /v1/models lists; unset: one per job type, named after its model"
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.storage == "s3" and not self.s3_endpoint_url:
            raise ValueError("LLMB_S3_ENDPOINT_URL is required when LLMB_STORAGE=s3")
        unknown = set(self._queue_names) - {t.value for t in JobType}
        if unknown:
            raise ValueError(f"LLMB_QUEUES names unknown queues: {sorted(unknown)}")
        return self

    def weight_of(self, tenant: str) -> float:
        """The tenant's fair-share weight (LLMB_TENANT_WEIGHTS; 1 when it is not named)."""
        return weight_of(self.tenant_weights, tenant)

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need a key: `on`/`off` as set, else off only on a loopback bind.

        Raises ValueError for a non-loopback bind with LLMB_AUTH unset: exposing the API without
        keys must be asked for by hand.
        """
        if self.auth is not None:
            return self.auth == "on"
        if bind_host(self.api_bind) in LOOPBACK:
            return False
        raise ValueError(
            f"the API binds {self.api_bind}, beyond this machine, and LLMB_AUTH is unset: set LLMB_AUTH=on "
            "(with LLMB_ADMIN_KEY to create keys), or LLMB_AUTH=off to serve without keys on purpose"
        )

    @property
    def trusted_hosts(self) -> list[str]:
        """Host names the API answers for (DNS rebinding): LLMB_ALLOWED_HOSTS, else the bind, localhost."""
        listed = [h.strip() for h in (self.allowed_hosts or "").split(",") if h.strip()]
        # An empty list would mean "any Host" to werkzeug: an empty setting keeps the defaults instead.
        return listed or sorted({bind_host(self.api_bind), "localhost", "127.0.0.1", "[::1]"})

    @property
    def cors_origin_list(self) -> list[str]:
        """Origins allowed to call the API from a browser (none: CORS off)."""
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def _queue_names(self) -> list[str]:
        return [q.strip() for q in self.queues.split(",") if q.strip()]

    @property
    def job_types(self) -> list[JobType]:
        """The job types (queues) this worker consumes, in the order given."""
        return [JobType(q) for q in self._queue_names]

    @property
    def served_models(self) -> tuple[OpenAIModel, ...]:
        """LLMB_OPENAI_MODELS, else one model per job type named after LLMB_*_MODEL or the local default."""
        if self.openai_models is not None:
            return self.openai_models
        named = {
            JobType.IMAGE: self.image_model,
            JobType.CHAT: self.chat_model,
            JobType.EMBED: self.embed_model,
        }
        return tuple(
            OpenAIModel(
                id=_model_id(named[t] or LOCAL_MODELS[t]),
                type=t,
                dimensions=LOCAL_EMBED_DIMENSIONS if t == JobType.EMBED and not named[t] else None,
            )
            for t in JobType
        )

    @property
    def objects_dir(self) -> Path:
        """Folder of the local object store."""
        return self.storage_dir or self.data_dir / "objects"

    @property
    def models_dir(self) -> Path:
        """Folder where `make models` puts the small local models."""
        return self.data_dir / "models"

    @property
    def soft_time_limit_s(self) -> int:
        """Celery's soft limit: a backstop just past the worker's own deadline checks."""
        return self.job_time_limit_s + 30

    @property
    def hard_time_limit_s(self) -> int:
        """Celery's hard limit: the pool child is killed past this."""
        return self.job_time_limit_s + 60

    @property
    def visibility_timeout_s(self) -> int:
        """Redis redelivers an unacked message after this; it must exceed the hard limit."""
        return self.hard_time_limit_s + 300


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def bind_host(bind: str) -> str:
    """The host part of a gunicorn bind address (`host:port`, `[v6]:port` or `unix:path`)."""
    host = bind.rsplit(":", 1)[0] if not bind.startswith("unix:") else "localhost"
    return host or "0.0.0.0"


def _model_id(model: str) -> str:
    """A hub id as it is (org/name); a folder by its name."""
    return Path(model).name if model.startswith(("/", ".", "~")) else model


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
