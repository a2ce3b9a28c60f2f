"""The dashboard's picture: the real stack under a short mixed load, scraped by a real Prometheus, and
each panel of deploy/grafana/llmb.json queried from it and drawn (`python -m devtools.dashboard`)."""
