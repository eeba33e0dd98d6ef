"""A small client of the platform: reads the stack outputs, checks them against the output contract, and
asks TF Serving for a prediction with failover across clouds (`python -m examples.app --help`)."""
