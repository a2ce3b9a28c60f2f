"""OpenAI-compatible routes (/v1/chat/completions, /v1/embeddings, /v1/images/generations, /v1/models).

Each request is a job of the native API underneath; see api/openai/routes.py.
"""
