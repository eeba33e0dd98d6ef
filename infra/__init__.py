"""gpu-platform's Pulumi program: one GPU platform on AWS, GCP and Azure (`__main__.py` is the entry)."""
