"""Every case of the bad-input corpus ends clean: exit 2, one line naming the file, line or field,
no traceback, nothing written (tests/bad_input_corpus.py; the table: benchmarks/bad_input_corpus.py)."""

from __future__ import annotations

import pytest

from bad_input_corpus import CASES, run_case


def test_the_corpus_is_broad():
    commands = {case.command for case in CASES}
    assert commands == {"assess", "generate", "import azure-migrate", "import app2container", "policy check"}
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_ends_clean(tmp_path, case):
    outcome = run_case(case, tmp_path / "case")
    assert outcome.category == "clean", f"{outcome.category}: exit {outcome.code}: {outcome.detail or outcome.stderr}"
