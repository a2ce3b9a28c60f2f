"""Tiny random-weight stand-ins for the real models, built locally and saved in their real on-disk formats."""
