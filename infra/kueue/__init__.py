"""Kueue, the resource manager: queues, quotas and admission of the platform's batch Jobs.

`crds.py` holds Kueue's CustomResourceDefinitions (vendored), `controller.py` its controller manager,
`queues.py` the flavors and queues the config asks for, and `cluster.py` puts them together on one
cluster. This module holds only the names other packages use, so that importing them loads nothing else.
"""

API_VERSION = "kueue.x-k8s.io/v1beta2"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
"""The label that puts a Job in a LocalQueue of its namespace."""
