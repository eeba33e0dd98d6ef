"""Submit a training Job to the manager's MultiKueue queue and follow it to its end: which cloud admitted
it, its progress, and the model version it exported (`python -m examples.submit --help`, docs/queues.md)."""
