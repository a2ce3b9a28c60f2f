"""gunicorn's settings for the API, taken from the same LLMB_ settings as everything else.

gevent workers: a long-wait or an event stream is a parked greenlet, so hundreds of them
never starve /health the way a fixed pool of sync or thread workers would.
"""

from shared.settings import load_settings

_settings = load_settings()

bind = _settings.api_bind
workers = _settings.api_workers
worker_class = "gevent"
worker_connections = _settings.api_connections
# Above the longest long-wait, so a waiting request is never killed as a stuck worker.
timeout = _settings.limits.max_wait_s + 30
graceful_timeout = 30
keepalive = 5
wsgi_app = "api:create_app()"
# No control socket: several APIs may share a host, and the root filesystem may be read-only.
control_socket_disable = True
# Worker heartbeat files in memory: no disk stalls, and nothing written to the root filesystem.
worker_tmp_dir = "/dev/shm"
