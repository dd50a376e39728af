"""scripts/bench-store still runs: a tiny run, its summary and JSON line checked.

Functional only: the figures are for docs/BENCHMARKS.md, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.hermetic import hermetic_env

REPO = Path(__file__).resolve().parents[2]


def test_bench_store_prints_a_summary_and_one_json_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench-store"), "--writes", "2000",
         "--rows", "3000", "--queries", "20", "--dir", str(tmp_path)],
        env=hermetic_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *summary, last = done.stdout.splitlines()
    result = json.loads(last)
    assert result["bench"] == "store" and result["writes"] == 2000 and result["rows"] == 3000
    assert result["writer_entries_per_s"] > 0 and result["latest100_p99_ms"] > 0
    assert any(line.startswith("writer: ") for line in summary)
    assert list(tmp_path.iterdir()) == [tmp_path / "hermetic"]  # its databases are gone
