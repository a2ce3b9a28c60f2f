"""Every cap on what a client may ask for or hold, in one settings group (`LLMB_LIMITS__*`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.budgets import Period


class Limits(BaseModel):
    """Every cap on what a client may ask for, in one place (the API rejects, the worker re-checks)."""

    model_config = ConfigDict(frozen=True)

    prompt_max_chars: int = 2000
    image_min_side: int = 64
    image_max_side: int = 1024
    image_max_steps: int = 50
    image_max_guidance: float = 20.0
    image_max_count: int = 4
    chat_max_messages: int = 256
    chat_max_chars: int = 32_000
    chat_max_tokens: int = 2048
    chat_max_stops: int = 4
    embed_max_inputs: int = 256
    embed_max_chars: int = 8192
    max_body_bytes: int = 1_048_576
    max_wait_s: int = 60
    body_timeout_s: int = 30
    key_max_streams: int = 100
    tenant_max_streams: int = 250
    list_max_page: int = 100
    deadline_max_s: int = 7 * 24 * 3600
    key_jobs_per_minute: int = 1200
    key_max_active_jobs: int = 1000
    queue_max_waiting: int = 10_000
    # Batch files: the API holds one upload whole while it stores it, and the batch runner one input
    # file while it reads it (the object store's put and get take bytes), so the size cap bounds what one
    # upload costs a process; 50,000 lines a batch is OpenAI's own cap.
    file_max_bytes: int = 16 * 1_048_576
    batch_max_lines: int = 50_000
    batch_window_s: int = 24 * 3600  # what completion_window "24h" means (tests shorten it)
    tenant_max_waiting: int = 5_000
    tenant_budget_device_s: float = 0.0  # every tenant's budget per period, device seconds (0: none)
    tenant_budget_tokens: int = 0  # every tenant's budget per period, prompt + completion tokens (0: none)
    tenant_budget_period: Period = "month"
