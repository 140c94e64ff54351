"""Tests of benchmarks/run_course.py's bookkeeping (it measures; these tests do not time anything)."""

import importlib.util
import math
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "run_course", Path(__file__).resolve().parent.parent / "benchmarks" / "run_course.py"
)
run_course = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_course)

STAT = "cpu  {user} 10 {system} {idle} 5 0 1 {steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"


def stat(user, system, idle, steal):
    return STAT.format(user=user, system=system, idle=idle, steal=steal)


def test_cpu_jiffies_reads_steal_and_the_total_of_the_first_eight_fields():
    assert run_course.cpu_jiffies(stat(100, 20, 300, 7)) == (7, 100 + 10 + 20 + 300 + 5 + 0 + 1 + 7)


def test_steal_share_is_the_stolen_fraction_between_two_readings():
    before = run_course.cpu_jiffies(stat(100, 20, 300, 7))
    after = run_course.cpu_jiffies(stat(150, 30, 320, 27))  # +50 user, +10 system, +20 idle, +20 steal
    assert run_course.steal_share(before, after) == pytest.approx(20 / 100)
    assert math.isnan(run_course.steal_share(None, after))
    assert math.isnan(run_course.steal_share(after, after))


def test_reference_workloads_take_measurable_time():
    seconds = run_course.reference_seconds()
    assert set(seconds) == set(run_course.REFERENCE_PARTS)
    assert all(math.isfinite(value) and value > 0 for value in seconds.values())


def test_markdown_table_has_the_steal_column_and_flags_lessons_over_budget():
    rows = {
        "00_welcome": {
            "seconds": 8.0,
            "kernel_cpu_s": 7.5,
            "steal": 0.02,
            "reference_s": {"python": 0.35, "matmul": 0.06, "fresh_memory": 0.9},
            "peak_mb": 670.0,
            "metrics": {"environment_ok": 1},
            "slowest_cells": [],
        },
        "09_joint_decoder_image": {
            "seconds": 80.0,
            "kernel_cpu_s": 90.0,
            "steal": 0.0,
            "peak_mb": 1400.0,
            "metrics": {},
            "slowest_cells": [{"cell": 3, "seconds": 40.0, "first_line": "model.fit(x)"}],
        },
    }
    table = run_course.markdown(rows, "test machine")
    assert "| CPU stolen by the host |" in table
    assert "| reference: Python / matmul / fresh memory (s) |" in table
    assert "| 00_welcome | 8.0 | 7.5 | 2% | 0.35 / 0.06 / 0.90 | 670 | environment_ok 1 |" in table
    assert "| 09_joint_decoder_image ⚠ | 80.0 | 90.0 | 0% | — | 1400 |" in table  # no reference: not made up
    assert "| 09_joint_decoder_image ⚠ | 80.0 |" in table  # over the 45 s budget
    assert "[3] 40.0 s `model.fit(x)`" in table
