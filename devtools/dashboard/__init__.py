"""The dashboard's picture: the real stack under a short mixed load, scraped, and each panel of
deploy/grafana/llmb.json evaluated from the scraped series and drawn (`python -m devtools.dashboard`)."""
