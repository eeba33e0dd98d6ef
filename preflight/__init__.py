"""Deploy-time facts the offline plan cannot see, checked with the deployer's own credentials before
`pulumi up`: `python -m preflight --stack NAME` (read-only checks), and `python -m preflight.images`
(upstream image digests, resolved online and written into the stack file). Not part of the program
`pulumi up` runs.
"""
