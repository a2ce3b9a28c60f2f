"""Celery configuration for Flower (docker/compose.yaml, `--profile flower`): only what its Broker page reads.

The workers' own configuration is shared/celery_config.py. Flower asks the workers for the queues they
consume, and they do not answer (remote control is off), so it falls back to these names; the broker URL
comes from CELERY_BROKER_URL.
"""

from kombu import Queue

# The queues of shared/queues.py (tests/observability checks they agree).
QUEUE_NAMES = ("image", "chat", "embed")

task_default_queue = QUEUE_NAMES[0]
task_queues = [Queue(name, routing_key=name) for name in QUEUE_NAMES]
