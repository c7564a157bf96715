"""Run every benchmark module (or the ones named): ``python -m benchmarks [name ...]``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )
    chosen = argv or names
    missed = 0
    for name in chosen:
        print(f"== {name}")
        module = importlib.import_module(f"benchmarks.bench_{name}")
        if not module.main():
            missed += 1
    print(f"{len(chosen) - missed} benchmark groups met their targets, {missed} missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
