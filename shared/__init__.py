"""Settings, job schema and state machine, Redis job store, object storage and queues shared by the API and workers."""
