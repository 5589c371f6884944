"""`python -m bench --quick`: every benchmark runs at a small size, so none can rot.

No timing is asserted (these machines are shared and noisy); the run must finish, write its
JSON with the machine and every figure, and its correctness figures must be clean.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_every_benchmark_runs_at_a_small_size_on_both_databases(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    assert main(["--quick", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["quick"] is True and data["machine"]["cpus"] >= 1
    assert data["libraries"]["python-telegram-bot"]
    figures = {(f["bench"], f["backend"], f["name"]): f for f in data["figures"]}
    benches = {bench for bench, _, _ in figures}
    expected = {"one tap", "10 at once", "fan-out 300", "50 timers", "7 am peak 100"}
    assert expected | {"2,000 members", "2 dispatchers 300"} <= benches
    for bench in benches:
        both = {"postgres"} if bench.startswith("2 dispatchers") else {"sqlite", "postgres"}
        assert {b for n, b, _ in figures if n == bench} == both, bench
    for (bench, backend, name), figure in figures.items():
        assert figure["value"] >= 0, (bench, backend, name)
        clean = ("duplicates", "missed", "left behind", "reminders lost", "reminders duplicated")
        if name in clean:
            assert figure["value"] == 0, (bench, backend, name)
        if name == "timers advanced":
            assert figure["value"] == 50, (bench, backend)
    baseline = figures[("one tap", "sqlite", "updates/s, one member at a time")]
    assert baseline["baseline"] > 0 and baseline["ratio"] > 0
