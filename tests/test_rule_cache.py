"""assess caches rule results by the facts' signature (WorkloadFacts' == and hash)."""

from __future__ import annotations

from dataclasses import astuple

from conftest import ROOT, inventory, vm_id, write_json
from migrate.decide import decide, estate_facts
from migrate.inventory import read_estate
from test_rules import CASES


def test_cached_rule_results_decide_as_evaluating_each_workload(tmp_path):
    """The decisions are those of evaluating every workload, and look-alike workloads share one entry."""
    cases = [record for pair in CASES.values() for record in pair]
    example = read_estate([ROOT / "examples/estate/hv01.yaml", ROOT / "examples/estate/hv02.json"])
    estates = [example] + [
        read_estate([write_json(tmp_path / f"{i}.json", inventory(
            c, dict(c, Name=c["Name"] + "-twin", VMId=vm_id(c["Name"] + "-twin"))))])
        for i, c in enumerate(cases)]
    for estate in estates:
        facts = estate_facts(estate, "ltsc2025", "dedicated")
        results: dict = {}
        cached = [decide(v, facts, [], results) for v in estate.vms]
        plain = [decide(v, facts) for v in estate.vms]
        assert [astuple(d)[1:] for d in cached] == [astuple(d)[1:] for d in plain]
        if estate is not example:
            assert len(results) == 1  # the twin differs only in name and id: evaluated once
