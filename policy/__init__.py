"""The gpu-platform policy pack: docs/controls.md as pure rule functions (`policy.rules`), run by the Pulumi
CrossGuard pack (`policy/__main__.py`) and by the offline plan (`plan.policy`) alike."""
