"""The webhook sender: a small process, without model libraries, that delivers jobs' signed webhooks."""
