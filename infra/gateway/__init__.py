"""The gateway in front of TF Serving on every cluster: Envoy Gateway, with cert-manager for its certificates
(docs/decisions/0018).

`crds.py` holds the CustomResourceDefinitions of the pinned releases (vendored); nothing here is declared
in the stack yet.
"""
