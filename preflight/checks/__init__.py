"""Checks: pure functions of the facts (`preflight.facts`) and the stack config, returning report rows.

One module per cloud (identity, versions, capacity, names, prerequisites) and `local` for this machine
(reachability of each cluster API, and the tools `pulumi up` runs). None of them calls a cloud.
"""
