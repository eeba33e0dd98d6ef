"""`python3 -m ci.preflight_errors FILE EXIT_CODE`: turn a failed `python -m preflight --json FILE` into
one GitHub error annotation per failed check, so the deploy stops before `pulumi up` with a line that
says what is wrong (above all: this runner cannot reach a cloud's Kubernetes API).

Reads the rows `{"cloud", "check", "status", "found", "fix"}` of preflight's JSON report; without a
report (exit 2: invalid config or missing credentials) it points at preflight's own output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def lines(report: dict[str, Any]) -> list[str]:
    out = []
    for row in report.get("rows", []):
        if row.get("status") != "FAIL":
            continue
        cloud, check = row.get("cloud", "?"), row.get("check", "?")
        what = f"{row.get('found', '')} (fix: {row.get('fix', '')})"
        if check == "reachability":
            title = f"runner cannot reach the {cloud} Kubernetes API"
        else:
            title = f"preflight {cloud} {check}"
        out.append(f"::error title={title}::{cloud} {check}: {what}")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path, code = Path(args[0]), args[1] if len(args) > 1 else "?"
    try:
        found = lines(json.loads(path.read_text()))
    except (OSError, ValueError):
        found = []
    if not found:
        found = [
            f"::error title=preflight failed::preflight exited {code} without a report: see its output above"
        ]
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
