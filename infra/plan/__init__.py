"""`python -m infra.plan`: an alias of `python -m plan`, the offline plan, which lives beside `infra/`
(the program `pulumi up` runs) rather than in it."""
