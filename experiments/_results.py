"""Shared by the experiment scripts: print a result's table and write its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def finish(out: dict[str, Any], path: Path, *, show: bool = True) -> dict[str, Any]:
    """Print ``out["table"]`` when ``show``; write ``out`` as JSON to ``path`` (parents created)."""
    if show:
        print(out["table"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return out
