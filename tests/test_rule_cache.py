"""assess works out look-alike workloads once: facts by their inputs key, rule results by the facts' signature."""

from __future__ import annotations

import types
from dataclasses import astuple, is_dataclass

from conftest import ROOT, guest, inventory, vm, vm_id, write_json
from migrate import model
from migrate.decide import Decider, decide, estate_facts
from migrate.facts import derive, inputs_key, machine_names
from migrate.inventory import read_estate
from test_rules import CASES, pool, site


def _twins(tmp_path) -> list[model.Estate]:
    """The example estate, and each rule's cases beside a twin that differs only in name and id."""
    cases = [record for pair in CASES.values() for record in pair]
    example = read_estate([ROOT / "examples/estate/hv01.yaml", ROOT / "examples/estate/hv02.json"])
    return [example] + [
        read_estate([write_json(tmp_path / f"{i}.json", inventory(
            c, dict(c, Name=c["Name"] + "-twin", VMId=vm_id(c["Name"] + "-twin"))))])
        for i, c in enumerate(cases)]


def _decided_alike(estate: model.Estate, facts) -> Decider:
    """Assert the cached decisions are those of deciding each workload alone; return the Decider."""
    decider = Decider(facts)
    extra = {estate.vms[0].vm_id: [decide(estate.vms[0], facts).findings[0]]}  # a reader's finding, placed as alone
    cached = decider.decide_all(estate.vms, extra)
    plain = [decide(v, facts, extra.get(v.vm_id, [])) for v in estate.vms]
    assert [astuple(d)[1:] for d in cached.values()] == [astuple(d)[1:] for d in plain]
    assert [d.vm for d in cached.values()] == estate.vms
    return decider


def test_cached_rule_results_decide_as_evaluating_each_workload(tmp_path):
    """The decisions are those of evaluating every workload, and look-alike workloads share one entry."""
    estates = _twins(tmp_path)
    for estate in estates:
        decider = _decided_alike(estate, estate_facts(estate, "ltsc2025", "dedicated"))
        if estate is not estates[0]:
            assert len(decider.fired) == 1  # the twin differs only in name and id: evaluated once


def test_an_account_naming_the_machine_is_decided_per_machine(tmp_path):
    # WEB01\local is the machine's own account on WEB01 and a domain account (domain WEB01) on WEB02:
    # the two share an inputs key, not their facts.
    data = guest(IISSites=[site()], AppPools=[pool(IdentityType="SpecificUser", UserName="WEB01\\local")],
                 ScheduledTasks=[{"TaskName": "Nightly", "Execute": "C:\\t.exe", "RunAs": "web01\\local"}])
    records = [vm(name, guest_data=dict(data, FullyQualifiedDomainName="web01.corp.local" if name == "WEB03" else ""))
               for name in ("WEB01", "WEB02", "WEB03", "WEB04")]
    for order in (records, records[::-1]):
        estate = read_estate([write_json(tmp_path / "inv.json", inventory(*order))])
        decider = _decided_alike(estate, estate_facts(estate, "ltsc2025", "dedicated"))
        identity = {d.vm.name: "cond.domain-identity" in {f.rule for f in d.findings}
                    for d in decider.decide_all(estate.vms, {}).values()}
        assert identity == {"WEB01": False, "WEB02": True, "WEB03": False, "WEB04": True}  # WEB03's FQDN names web01


class _Reads:
    """Stands in for an inventory object and notes the path of every attribute read through it."""

    __slots__ = ("_obj", "_path", "_log")

    def __init__(self, obj, path: str, log: set[str]):
        self._obj, self._path, self._log = obj, path, log

    def __getattr__(self, name: str):
        value = getattr(self._obj, name)
        if isinstance(value, types.MethodType):  # a method reads through the stand-in too
            return types.MethodType(value.__func__, self)
        path = f"{self._path}.{name}"
        self._log.add(path)
        return _wrapped(value, path, self._log)


class _TagReads(dict):
    """A VM's tags that note each key read."""

    def __init__(self, tags: dict, path: str, log: set[str]):
        super().__init__(tags)
        self._path, self._log = path, log

    def get(self, key, default=None):
        self._log.add(f"{self._path}[{key}]")
        return super().get(key, default)


def _wrapped(value, path: str, log: set[str]):
    if is_dataclass(value) and type(value).__module__ == model.__name__:
        return _Reads(value, path, log)
    if isinstance(value, list):
        return [_wrapped(item, f"{path}[]", log) for item in value]
    if isinstance(value, dict):
        return _TagReads(value, path, log)
    return value


# Every guest section with an item, so what derive reads of each item is noted.
_FULL = guest(
    Features=["Web-Server"], Services=[{"Name": "Orders", "PathName": "D:\\o.exe", "StartName": "CORP\\svc", "StartMode": "Auto"}],
    Drivers=[{"Name": "dongle", "ServiceType": "Kernel Driver"}], Software=[{"DisplayName": "Contoso"}],
    DotNetRuntimes=["Microsoft.NETCore.App 8.0.1"], IISSites=[site(Applications=[{"Path": "/api", "PhysicalPath": "E:\\api"}],
                                                                    WindowsAuthentication=True)],
    AppPools=[pool(IdentityType="SpecificUser", UserName="CORP\\pool", Enable32BitAppOnWin64=True)],
    IISModules=[{"Name": "Rewrite", "Image": "rewrite.dll"}], Listeners=[{"LocalAddress": "10.0.0.5", "LocalPort": 81, "ProcessName": "a"}],
    ConnectionStrings=[{"File": "C:\\w.config", "Name": "Db"}],
    ScheduledTasks=[{"TaskName": "Nightly", "Execute": "F:\\t.exe", "RunAs": "CORP\\task"}])


def test_the_inputs_key_holds_everything_derive_reads(tmp_path):
    full = read_estate([write_json(tmp_path / "full.json", inventory(
        vm("FULL", tags={"osPin": "ltsc2022", "trust": "untrusted", "exposure": "internet", "zone": "dmz"},
           guest_data=_FULL, CollectionErrors=["x"])))])
    derived, keyed, named = set(), set(), set()
    for estate in _twins(tmp_path) + [full]:
        facts = estate_facts(estate, "ltsc2025", "dedicated")
        for v in estate.vms:
            derive(_Reads(v, "vm", derived), facts)
            inputs_key(_Reads(v, "vm", keyed))
            if v.guest is not None:
                machine_names(_Reads(v, "vm", named))  # left out of the key: decide checks account prefixes against them
    assert {"vm.guest.services[].start_name", "vm.guest.iis_sites[].applications[].physical_path",
            "vm.tags[osPin]"} <= derived  # the stand-in sees inside lists and tags
    assert derived - keyed <= named, f"derive reads what the inputs key leaves out: {sorted(derived - keyed - named)}"
