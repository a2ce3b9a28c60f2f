"""What the API and the workers share: settings, job schema and states, job store, storage, queues."""
