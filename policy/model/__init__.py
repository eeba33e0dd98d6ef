"""The vocabulary the controls are written in: a stack's resources and the violations a rule reports
(`stack`), a control and the registry of controls (`control`), reading resource properties (`props`), and
the shared readings of Kubernetes objects (`k8s`), node pools (`pools`) and deletion protection
(`protection`). Nothing here registers a control; `policy.controls` does."""
