"""Run the benchmarks: `python benchmarks/run.py [NAME]`; each prints JSON lines.

A benchmark is a module `benchmarks/bench_<name>.py` with a `run()` that
yields dicts (at least "bench" and "ours_s"; "ratio" where it compares).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def available() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in (ROOT / "benchmarks").glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = available()
    wanted = argv[0] if argv and argv[0] else None
    if wanted and wanted not in names:
        print(f"unknown benchmark {wanted!r}; choose from: {', '.join(names)}", file=sys.stderr)
        return 2
    for name in [wanted] if wanted else names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        for result in module.run():
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
