"""Load the GCP SDK's large packages once, quietly: a few of their modules warn at import time about their
own deprecated aliases, which says nothing about this project. The SDK imports packages lazily, so an
attribute access is what loads them."""

from __future__ import annotations

import warnings

import pulumi_gcp

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    _ = pulumi_gcp.compute.Network, pulumi_gcp.storage.Bucket
