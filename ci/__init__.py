"""Helpers the GitHub workflows run on a deploy runner, standard library only (some run before the
project's environment exists): pinned tool installs (`ci.tools`), a GitHub OIDC token file kept fresh for
kubelogin (`ci.oidc`), and preflight failures as one error annotation each (`ci.preflight_errors`)."""
