"""The gateway's objects checked as the API server would check them on create, against the vendored CRDs
of the Gateway API, Envoy Gateway and cert-manager (`tests/crd_schemas.py`).

Their CEL rules are several hundred, so none is re-implemented by hand: cel-python evaluates each, and a
rule it cannot evaluate is reported rather than passed.
"""

from __future__ import annotations

from infra.gateway import crds
from tests.crd_schemas import Schemas

GATEWAY = Schemas("the gateway's releases", crds.every, {}, cel=True)
