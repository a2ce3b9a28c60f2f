"""`make bench`: the API's speed, latency and memory, each beside a baseline or target from the same run."""

# The per-key, tenant and queue caps raised out of reach: the limiter still counts every job (its Redis round
# trips are measured), but a 10-second flood of 1,000+ jobs/s with no job worker is never refused.
UNCAPPED = {
    "LLMB_LIMITS__KEY_JOBS_PER_MINUTE": "1000000000",
    "LLMB_LIMITS__KEY_MAX_ACTIVE_JOBS": "1000000000",
    "LLMB_LIMITS__QUEUE_MAX_WAITING": "1000000000",
    "LLMB_LIMITS__TENANT_MAX_WAITING": "1000000000",
    # The held-connection caps (100 a key, 250 a tenant by default): the bench holds 500 long-waits.
    "LLMB_LIMITS__KEY_MAX_STREAMS": "1000000000",
    "LLMB_LIMITS__TENANT_MAX_STREAMS": "1000000000",
}
