"""`make chaos`: a soak run of the real stack under injected faults, checked job by job (docs/CHAOS.md)."""
