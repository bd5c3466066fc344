"""`make bench`: run every benchmark module ``bench/bench_*.py``; each prints and saves its figures.

A module defines ``run() -> dict``. Its figures are printed and written to
``bench/results/<name>.json`` with the date and the machine. Run one with ``python -m bench NAME``.
"""

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eretraite.settings")
    sys.path.insert(0, str(HERE.parent))
    import django

    django.setup()
    names = argv or sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name} ==", flush=True)
        started = time.time()
        figures = module.run()
        record = {
            "benchmark": name,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()},
            "seconds": round(time.time() - started, 2),
            "figures": figures,
        }
        (results_dir / f"{name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str))
        for key, value in figures.items():
            print(f"  {key}: {value}")
        if figures.get("targets_met") is False:
            failed.append(name)
    if failed:
        print("Targets missed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
