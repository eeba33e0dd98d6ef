"""The gpu-platform policy pack: docs/controls.md as pure rule functions (`policy.controls`, written in the
vocabulary of `policy.model`), run by the Pulumi CrossGuard pack (`policy/__main__.py`) and by the offline
plan (`plan.policy`) alike."""
