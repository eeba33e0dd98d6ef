"""Azure platform tests: the controls its resources carry, on the offline plan of each stack."""
