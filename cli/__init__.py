"""The `llmb` command-line client, which talks to the LLM Backend API over HTTP only."""
