"""`python -m bench`: run the benchmark suite, print one table, write bench/results/latest.json.

Every figure is compared with a baseline measured in the same run where one exists, because
these machines are shared and noisy. `--quick` runs every benchmark at a small size (the test
suite does that as a smoke test); `--only NAME` runs the benchmarks whose name contains NAME;
`--backend sqlite|postgres` runs one database only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench import background, dispatchers, memory, peak, updates
from bench.common import BACKENDS, POSTGRES, Report

RESULTS = Path(__file__).parent / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute or so")
    parser.add_argument("--only", metavar="NAME", help="run the benchmarks whose name has NAME")
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="one database only")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "latest.json", help="where the JSON goes"
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> Report:
    """Run the chosen benchmarks on the chosen databases."""
    report = Report(quick=args.quick)
    every = [
        bench
        for module in (updates, background, dispatchers, peak, memory)
        for bench in module.benches(args.quick)
    ]
    chosen = [(n, b) for n, b in every if not args.only or args.only in n]
    with tempfile.TemporaryDirectory(prefix="bandcoach-bench-") as folder:
        for backend in args.backend or BACKENDS:
            for name, bench in chosen:
                gc.collect()  # what the benchmark before left behind is not this one's
                started = time.perf_counter()
                await bench(report, backend, Path(folder))
                took = time.perf_counter() - started
                print(f"  {name} on {backend}: {took:.1f} s", file=sys.stderr, flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON."""
    args = parse(argv)
    try:
        report = asyncio.run(run(args))
    finally:
        POSTGRES.stop()
    print(report.table())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)  # not when a test calls main()
    sys.exit(main())
