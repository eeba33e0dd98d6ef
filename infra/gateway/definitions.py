"""The gateway's CustomResourceDefinitions as resources: every vendored file of the three releases
(`crds.py`), as the releases install them.

What the releases' installs add to the files, and why it is left out here:
- Envoy Gateway's chart installs the Gateway API's experimental channel; the standard channel is vendored
  instead (crds/SOURCE.md: the controller watches only the route kinds that exist).
- The Gateway API's `standard-install.yaml` adds a ValidatingAdmissionPolicy that refuses older
  experimental CRDs over these: no cluster here has any, and it is not a CRD.
- cert-manager's chart adds its labels and `helm.sh/resource-policy: keep`: Helm's, not Pulumi's; the
  labels given here mark every CRD instead.

None of these CRDs has a conversion webhook, so no field of theirs is written at run time (cert-manager's
cainjector injects only into objects annotated for it, and none of these is). pulumi-kubernetes applies
server-side, so the 1.4 MB EnvoyProxy CRD is not copied into a last-applied annotation (`infra/kueue/crds.py`
explains the sizes).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.gateway import crds


class GatewayCrds(pulumi.ComponentResource):
    definitions: list[k8s.apiextensions.v1.CustomResourceDefinition]
    """Every CRD, in `crds.RELEASES` order: what the controllers, and every gateway object, wait for."""

    def __init__(self, name: str, labels: Mapping[str, str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gateway:GatewayCrds", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.definitions = [
            k8s.apiextensions.v1.CustomResourceDefinition(
                f"{name}-{crd['metadata']['name']}",
                metadata={**crd["metadata"], "labels": {**crd["metadata"].get("labels", {}), **labels}},
                spec=crd["spec"],
                opts=child,
            )
            for crd in crds.every()
        ]
        self.register_outputs({})
