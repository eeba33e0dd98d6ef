"""The IDs of the controls docs/controls.md lists, which a stack's `waivers` may name.

The policy pack (`policy/`) registers one control for each and refuses any other, so this list, the
pack and the document cannot drift apart; the program itself never loads the pack.
"""

FAMILIES = {"CF": 1, "CP": 13, "GW": 3, "ID": 10, "ND": 10, "NW": 4, "RG": 3, "RL": 7, "ST": 12, "WL": 9}
"""How many controls each family has, numbered from 01: a new control raises its family's count."""

IDS = frozenset(f"{family}-{n:02d}" for family, count in FAMILIES.items() for n in range(1, count + 1))
