"""Reading and writing plan@1 (plan.json) and hosts@1 (hosts.yaml): the one place that knows their keys.

Reading: parsed, checked against migrate/schemas/<name>.schema.json, then turned into the
contract's objects (model.py). Writing: the objects back into JSON-ready documents whose keys come
in the order hyperdock has always written them, so output stays byte-identical.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema
import jsonschema_rs
import orjson

from migrate.core.azure import HostSize
from migrate.core.documents import binding_problem, load_document
from migrate.core.errors import InputError, StackConfigError

from .model import (CONTAINER_TARGETS, AppPool, Application, Container, Dependency, Finding, Fit, Host,
                    HostsPlan, Isolation, Parameter, Plan, Platform, Pool, Resources, ScheduledTask, Service, Site,
                    Target, Trigger, Workload)
from .packaged import read_packaged, with_packaged_parameters

PLAN_SCHEMA_ID = "hyperdock/plan@1"
HOSTS_SCHEMA_ID = "hyperdock/hosts@1"


class SchemaError(InputError):
    """A document that parses but breaks its schema; the message is the schema's."""


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    """Return one of hyperdock's JSON Schemas (`plan`, `inventory`, `hosts`, `aks`, `extract`)."""
    text = resources.files("migrate").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def compiled(name: str):
    """Return a compiled (Rust) validator of one of hyperdock's schemas, for the yes/no fast path."""
    return jsonschema_rs.validator_for(schema(name))


# ------------------------------------------------------------------------------------ plan@1: read


def read_plan(path: Path) -> Plan:
    """Return the plan in `path`; raise InputError naming the field that breaks hyperdock/plan@1."""
    where = str(path)
    return plan_from_document(read_plan_document(path), where)


def read_plan_document(path: Path) -> dict:
    """Return the plan in `path` as its JSON document, checked against hyperdock/plan@1 (InputError if not).

    Fast path first: orjson parses and the compiled validator says yes or no (0.2 s for a 50k-VM
    plan, where the pure-Python validator takes tens of seconds). Only a plan it rejects goes
    through `jsonschema`, whose messages are the ones hyperdock has always given.
    """
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(where, f"cannot read file: {exc.strerror}; run `hyperdock assess` first") from None
    try:
        plan = orjson.loads(raw)  # refuses NaN, lone surrogates, numbers past a double, nesting past 1024
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None
    if not isinstance(plan, dict) or plan.get("schema") != PLAN_SCHEMA_ID:
        raise InputError(where, f"expected schema {PLAN_SCHEMA_ID!r}", "schema")
    if compiled("plan").is_valid(plan):
        _check_workloads(plan["workloads"], where)
        return plan
    try:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema("plan")).iter_errors(plan))
    except RecursionError:
        raise InputError(where, "nested too deeply to be a plan") from None
    if error is not None:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise InputError(where, error.message[:300], field or None)
    _check_workloads(plan["workloads"], where)
    return plan


def _check_workloads(workloads: list[dict], where: str) -> None:
    """Raise InputError for what the schema cannot say: one record per vmId, and containers to generate from."""
    seen: dict[str, int] = {}
    for i, w in enumerate(workloads):
        field = f"workloads[{i}]"
        if w["vmId"] in seen:
            raise InputError(where, f"vmId {str(w['vmId'])[:60]!r} appears twice (also workloads[{seen[w['vmId']]}]); "
                                    "expected one workload per VM", f"{field}.vmId")
        seen[w["vmId"]] = i
        if w["target"] not in CONTAINER_TARGETS:
            continue
        container = w.get("container")
        if not isinstance(container, dict):
            raise InputError(where, f"a {w['target']} workload needs its container object", f"{field}.container")
        for s, site in enumerate(container.get("iisSites") or []):
            for b, binding in enumerate(site.get("bindings") or []):
                problem = binding_problem(binding) if isinstance(binding, str) else "expected a string"
                if problem:
                    raise InputError(where, problem, f"{field}.container.iisSites[{s}].bindings[{b}]")


# Keys assess always writes that generate cannot do without, beyond what the schema requires.
_WORKLOAD_KEYS = ("imageOS", "tags", "resources", "dependsOn")
_CONTAINER_KEYS = ("windowsFeatures", "ports", "iisSites", "appPools", "services", "scheduledTasks", "parameters",
                   "dataDrives", "gmsa")


def plan_from_document(document: dict, where: str = "plan.json") -> Plan:
    """Return the Plan of a plan@1 document that passed its schema; InputError for a container workload
    without what assess always writes for one (a plan edited by hand, or by another version)."""
    typed = _Typed()
    workloads = []
    for i, w in enumerate(document["workloads"]):
        if w["target"] in CONTAINER_TARGETS:
            missing = [f"workloads[{i}].{k}" for k in _WORKLOAD_KEYS if k not in w]
            missing += [f"workloads[{i}].container.{k}" for k in _CONTAINER_KEYS if k not in w["container"]]
            if missing:
                raise InputError(where, f"expected what `hyperdock assess` writes for a {w['target']} workload; "
                                        "re-run `hyperdock assess` to write it again", missing[0])
        try:
            workloads.append(typed.workload(w))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(where, f"cannot read this workload ({type(exc).__name__}: {str(exc)[:80]}); "
                                    "re-run `hyperdock assess` to write it again", f"workloads[{i}]") from None
    return Plan(
        host_os=document["hostOS"], host_build=document["hostBuild"], workloads=tuple(workloads),
        generator=document.get("generator"), options=document.get("options"), inputs=document.get("inputs"),
        summary=document["summary"], waves=document["waves"], move_groups=document["moveGroups"],
        shared_infrastructure=document["sharedInfrastructure"], graph=document["graph"], rules=document["rules"])


# Enum members by value: a dict lookup where Target(value) is a Python-level call (a value that is
# none of them still goes through the enum, for its ValueError).
_TARGETS = {t.value: t for t in Target}
_FITS = {f.value: f for f in Fit}


class _Typed:
    """Builds a plan's Workloads; each distinct container, findings list and resources object once.

    Workloads of one estate mostly share them (at 10k VMs of the benchmark estate: 2 containers, 1
    findings list, 9 resources), and building a Container is some twenty objects. The key of each
    is its JSON (orjson, in C): equal keys, equal objects. The objects are
    frozen, so sharing them is safe."""

    def __init__(self) -> None:
        self._containers: dict[bytes, Container] = {}
        self._findings: dict[bytes, tuple[Finding, ...]] = {}
        self._resources: dict[bytes, Resources] = {}

    def workload(self, d: dict) -> Workload:
        target = _TARGETS.get(d["target"]) or Target(d["target"])
        container = target in CONTAINER_TARGETS
        get = d.get
        resources = d["resources"] if container else get("resources") or {}
        depends_on = d["dependsOn"] if container else get("dependsOn") or []
        return Workload(
            name=d["name"], vm_id=d["vmId"], host=d["host"], target=target, fit=_FITS.get(d["fit"]) or Fit(d["fit"]),
            base_image=d["baseImage"], wave=d["wave"], move_group=d["moveGroup"], findings=self.findings(d["findings"]),
            cluster=get("cluster"), confidence=get("confidence"), base_image_reason=get("baseImageReason"),
            image_os=d["imageOS"] if container else get("imageOS"), shared_infrastructure=get("sharedInfrastructure", False),
            tags=d["tags"] if container else get("tags") or {},
            resources=self.resources(resources),
            depends_on=tuple([Dependency(e["name"], e["vmId"], tuple(e["ports"]), e["connections"]) for e in depends_on]),
            external_dependencies=tuple(get("externalDependencies") or ()),
            container=self.container(d["container"]) if container else None,
            rules=tuple(get("rules") or ()),
        )

    def container(self, d: dict) -> Container:
        key = orjson.dumps(d)
        found = self._containers.get(key)
        if found is None:
            found = self._containers[key] = _container(d)
        return found

    def findings(self, findings: list[dict]) -> tuple[Finding, ...]:
        key = orjson.dumps(findings)
        found = self._findings.get(key)
        if found is None:
            found = self._findings[key] = tuple(Finding(f["rule"], f["severity"], f["message"], f.get("remediation"))
                                                for f in findings)
        return found

    def resources(self, r: dict) -> Resources:
        key = orjson.dumps(r)  # not a tuple of the values: 1, 1.0 and true are equal in one
        found = self._resources.get(key)
        if found is None:
            found = self._resources[key] = Resources(r.get("cpus"), r.get("memoryMiB"), r.get("memoryAssignedMiB"),
                                                     r.get("dynamicMemory"))
        return found


def _container(d: dict) -> Container:
    return Container(
        windows_features=tuple(d["windowsFeatures"]), ports=tuple(d["ports"]),
        iis_sites=tuple(Site(s["name"], tuple(s.get("bindings", ())), s.get("physicalPath", ""), s.get("applicationPool"),
                             s.get("windowsAuthentication"),
                             tuple(Application(a["path"], a.get("physicalPath", ""), a.get("applicationPool"))
                                   for a in s.get("applications", ())))
                        for s in d["iisSites"]),
        app_pools=tuple(AppPool(p["name"], p.get("managedRuntimeVersion"), p.get("enable32Bit"), p.get("identityType"),
                                p.get("userName")) for p in d["appPools"]),
        services=tuple(Service(s["name"], s.get("displayName"), s.get("pathName", ""), s.get("startMode"),
                               s.get("startName")) for s in d["services"]),
        scheduled_tasks=tuple(map(_task, d["scheduledTasks"])),
        parameters=tuple(parameter_from_document(p) for p in d["parameters"]),
        data_drives=tuple(d["dataDrives"]), gmsa=d["gmsa"], domain_identities=tuple(d.get("domainIdentities") or ()),
        domain=d.get("domain"), netbios_domain=d.get("netbiosDomain"),
    )


def _task(d: dict) -> ScheduledTask:
    triggers = d.get("triggers")
    return ScheduledTask(d["taskName"], d.get("execute", ""), d.get("runAs"), None if triggers is None else tuple(
        Trigger(t["type"], t.get("startBoundary", ""), t.get("daysInterval"), t.get("weeksInterval"),
                tuple(t.get("daysOfWeek") or ()), t.get("repetitionInterval", "")) for t in triggers))


def parameter_from_document(d: dict) -> Parameter:
    """Return the Parameter of a plan (or package.json) parameter object."""
    return Parameter(d["name"], d.get("file", ""), d.get("provider", ""), d.get("variable"))


# ----------------------------------------------------------------------------------- plan@1: write
# The one place that spells plan@1's keys, their order and which empty values are left out. Two
# writers go through it: `plan_document` (a typed Plan back to its document) and migrate/plan.py
# (an assessment to plan.json). The `*_entry` functions take plain values, the `*_document` ones an
# object with the attributes named (the contract's, or migrate.model's inventory objects, whose
# attributes are the same), so migrate/plan.py builds no typed objects on its way to the document.


def plan_entry(*, generator: str | None, host_os: str, host_build: str, options: dict | None, inputs: list | None,
               summary: dict, workloads: list, waves: list, move_groups: list, shared_infrastructure: list,
               graph: dict, rules: list) -> dict:
    """Return a plan@1 document from its parts; `generator`, `options` and `inputs` left out when None."""
    document = {"schema": PLAN_SCHEMA_ID}
    if generator is not None:
        document["generator"] = generator
    document["hostOS"] = host_os
    document["hostBuild"] = host_build
    if options is not None:
        document["options"] = options
    if inputs is not None:
        document["inputs"] = inputs
    return document | {
        "summary": summary, "workloads": workloads, "waves": waves, "moveGroups": move_groups,
        "sharedInfrastructure": shared_infrastructure, "graph": graph, "rules": rules,
    }


def plan_document(plan: Plan) -> dict:
    """Return `plan` as its plan@1 document, keys in the order `hyperdock assess` writes them."""
    return plan_entry(
        generator=plan.generator, host_os=plan.host_os, host_build=plan.host_build, options=plan.options,
        inputs=plan.inputs, summary=plan.summary, workloads=[workload_document(w) for w in plan.workloads],
        waves=plan.waves, move_groups=plan.move_groups, shared_infrastructure=plan.shared_infrastructure,
        graph=plan.graph, rules=plan.rules)


def workload_entry(name: str, vm_id: str, host: str, cluster: str | None, target: str, fit: str,
                   confidence: str | None, base_image: str | None, base_image_reason: str | None,
                   image_os: str | None, wave: int | None, move_group: str | None, shared_infrastructure: bool,
                   tags: dict, resources: dict, depends_on: list, external_dependencies: list,
                   container: dict | None, findings: list, rules: list) -> dict:
    """Return one workload's plan@1 object from its values and its sub-documents (built by the functions below).

    migrate/plan.py passes the values by position: 50k keyword calls cost twice the dicts they build."""
    return {
        "name": name, "vmId": vm_id, "host": host, "cluster": cluster, "target": target, "fit": fit,
        "confidence": confidence, "baseImage": base_image, "baseImageReason": base_image_reason, "imageOS": image_os,
        "wave": wave, "moveGroup": move_group, "sharedInfrastructure": shared_infrastructure, "tags": tags,
        "resources": resources, "dependsOn": depends_on, "externalDependencies": external_dependencies,
        "container": container, "findings": findings, "rules": rules,
    }


def workload_document(w: Workload) -> dict:
    """Return one workload as its plan@1 object."""
    r = w.resources
    return workload_entry(
        name=w.name, vm_id=w.vm_id, host=w.host, cluster=w.cluster, target=w.target.value, fit=w.fit.value,
        confidence=w.confidence, base_image=w.base_image, base_image_reason=w.base_image_reason,
        image_os=w.image_os, wave=w.wave, move_group=w.move_group, shared_infrastructure=w.shared_infrastructure,
        tags=dict(w.tags), resources=resources_entry(r.cpus, r.memory_mib, r.memory_assigned_mib, r.dynamic_memory),
        depends_on=[dependency_entry(e.name, e.vm_id, list(e.ports), e.connections) for e in w.depends_on],
        external_dependencies=list(w.external_dependencies),
        container=_container_document(w.container) if w.container is not None else None,
        findings=[finding_document(f) for f in w.findings], rules=list(w.rules))


def resources_entry(cpus: int | None, memory_mib: int | None, memory_assigned_mib: int | None,
                    dynamic_memory: bool | None) -> dict:
    return {"cpus": cpus, "memoryMiB": memory_mib, "memoryAssignedMiB": memory_assigned_mib,
            "dynamicMemory": dynamic_memory}


def dependency_entry(name: str, vm_id: str, ports: list[int], connections: int) -> dict:
    """One `dependsOn` entry: the VM depended on, the ports and how many connections were seen."""
    return {"name": name, "vmId": vm_id, "ports": ports, "connections": connections}


def finding_document(f) -> dict:
    """A finding (rule, severity, message, remediation); `remediation` left out when None."""
    entry = {"rule": f.rule, "severity": f.severity, "message": f.message}
    if f.remediation is not None:
        entry["remediation"] = f.remediation
    return entry


def container_entry(windows_features: list, ports: list, iis_sites: list, app_pools: list, services: list,
                    scheduled_tasks: list, parameters: list, domain_identities: list, data_drives: list, gmsa: bool,
                    domain: str | None, netbios_domain: str | None) -> dict:
    """Return a workload's `container` object from its values and sub-documents (by position from migrate/plan.py)."""
    return {
        "windowsFeatures": windows_features, "ports": ports, "iisSites": iis_sites, "appPools": app_pools,
        "services": services, "scheduledTasks": scheduled_tasks, "parameters": parameters,
        "domainIdentities": domain_identities, "dataDrives": data_drives, "gmsa": gmsa, "domain": domain,
        "netbiosDomain": netbios_domain,
    }


def _container_document(c: Container) -> dict:
    return container_entry(
        windows_features=list(c.windows_features), ports=list(c.ports),
        iis_sites=[site_document(s) for s in c.iis_sites], app_pools=[app_pool_document(p) for p in c.app_pools],
        services=[service_document(s) for s in c.services], scheduled_tasks=[task_document(t) for t in c.scheduled_tasks],
        parameters=[parameter_document(p) for p in c.parameters], domain_identities=list(c.domain_identities),
        data_drives=list(c.data_drives), gmsa=c.gmsa, domain=c.domain, netbios_domain=c.netbios_domain)


def site_document(s) -> dict:
    """An IIS site (name, bindings, physical_path, application_pool, windows_authentication, applications)."""
    return {"name": s.name, "bindings": list(s.bindings), "physicalPath": s.physical_path,
            "applicationPool": s.application_pool, "windowsAuthentication": s.windows_authentication,
            "applications": [{"path": a.path, "physicalPath": a.physical_path, "applicationPool": a.application_pool}
                             for a in s.applications]}


def app_pool_document(p) -> dict:
    """An application pool (name, managed_runtime_version, enable_32bit, identity_type, user_name)."""
    return {"name": p.name, "managedRuntimeVersion": p.managed_runtime_version, "enable32Bit": p.enable_32bit,
            "identityType": p.identity_type, "userName": p.user_name}


def service_document(s) -> dict:
    """A Windows service (name, display_name, path_name, start_mode, start_name)."""
    return {"name": s.name, "displayName": s.display_name, "pathName": s.path_name, "startMode": s.start_mode,
            "startName": s.start_name}


def parameter_entry(name: str, file: str, provider: str, variable: str | None = None) -> dict:
    """A runtime parameter: its name and where it came from; `variable` left out when None."""
    entry = {"name": name, "file": file, "provider": provider}
    if variable is not None:
        entry["variable"] = variable
    return entry


def parameter_document(p: Parameter) -> dict:
    return parameter_entry(p.name, p.file, p.provider, p.variable)


def task_document(t) -> dict:
    """A scheduled task (task_name, execute, run_as, triggers); `triggers` only when the inventory recorded
    them, each without its empty values."""
    entry = {"taskName": t.task_name, "execute": t.execute, "runAs": t.run_as}
    if t.triggers is not None:
        entry["triggers"] = [
            {k: v for k, v in (("type", g.type), ("startBoundary", g.start_boundary), ("daysInterval", g.days_interval),
                               ("weeksInterval", g.weeks_interval), ("daysOfWeek", list(g.days_of_week)),
                               ("repetitionInterval", g.repetition_interval)) if v not in (None, "", [])}
            for g in t.triggers
        ]
    return entry


# ----------------------------------------------------------------------------------------- hosts@1


def read_document(path: Path, schema_name: str) -> dict:
    """Return the JSON or YAML document in `path` checked against schema `schema_name` (hosts, aks).

    InputError when it cannot be read or parsed; SchemaError (an InputError) when it breaks the schema."""
    document = load_document(path)  # bounded: no alias bomb, no deep nesting
    try:
        jsonschema.validate(document, schema(schema_name))
    except jsonschema.ValidationError as exc:
        raise SchemaError(str(path), exc.message) from None
    return document


def read_hosts(path: Path) -> HostsPlan:
    """Return the capacity plan in `path` (hosts.yaml); InputError or SchemaError as `read_document`."""
    return hosts_from_document(read_document(path, "hosts"))


def hosts_from_document(d: dict) -> HostsPlan:
    """Return the HostsPlan of a hosts@1 document that passed its schema."""
    size = d["hostSize"]
    return HostsPlan(
        host_os=d["hostOS"], host_build=d["hostBuild"], platform=Platform(d["platform"]), edition=d["edition"],
        host_size=HostSize(size["name"], size["vcpus"], size["memoryMiB"], size["nestedVirtualization"]),
        summary=d["summary"], reserve=d.get("reserve"), overhead=d.get("overhead"),
        pools=tuple(Pool(
            name=p["name"], isolation=Isolation(p["isolation"]), hyperv_role=p["hypervRole"], host_count=p["hostCount"],
            tenant=p.get("tenant"), zone=p.get("zone"), lower_bound=p.get("lowerBound"), notes=tuple(p.get("notes") or ()),
            hosts=tuple(Host(h["name"], tuple(h["workloads"]), (h.get("demand") or {}).get("vcpus"),
                             (h.get("demand") or {}).get("memoryMiB"), tuple(h.get("ports") or ())) for h in p["hosts"]),
        ) for p in d["pools"]),
    )


def hosts_document(hosts: HostsPlan) -> dict:
    """Return `hosts` as its hosts@1 document, keys in the order `hyperdock generate` writes them."""
    size = hosts.host_size
    document = {
        "schema": HOSTS_SCHEMA_ID, "hostOS": hosts.host_os, "hostBuild": hosts.host_build,
        "platform": hosts.platform.value, "edition": hosts.edition,
        "hostSize": {"name": size.name, "vcpus": size.vcpus, "memoryMiB": size.memory_mib,
                     "nestedVirtualization": size.nested_virtualization},
    }
    if hosts.reserve is not None:
        document["reserve"] = hosts.reserve
    if hosts.overhead is not None:
        document["overhead"] = hosts.overhead
    return document | {"summary": hosts.summary, "pools": [_pool_document(p) for p in hosts.pools]}


def _pool_document(p: Pool) -> dict:
    entry = {"name": p.name, "isolation": p.isolation.value, "tenant": p.tenant, "zone": p.zone,
             "hypervRole": p.hyperv_role, "hostCount": p.host_count}
    if p.lower_bound is not None:
        entry["lowerBound"] = p.lower_bound
    entry["hosts"] = [_host_document(h) for h in p.hosts]
    entry["notes"] = list(p.notes)
    return entry


def _host_document(h: Host) -> dict:
    entry: dict = {"name": h.name, "workloads": list(h.workloads)}
    if h.demand_vcpus is not None or h.demand_memory_mib is not None:
        entry["demand"] = {"vcpus": h.demand_vcpus, "memoryMiB": h.demand_memory_mib}
    entry["ports"] = list(h.ports)
    return entry


# ----------------------------------------------------------------------------- a stack's plan folder


def read_stack_plan(folder: Path) -> Plan:
    """Return plan.json of `folder`, with the parameters `hyperdock package` found (package.json) joined in."""
    try:
        return with_packaged_parameters(read_plan(folder / "plan.json"), read_packaged(folder))
    except InputError as exc:
        raise StackConfigError(f"hyperdock:plan: {exc}") from None


def read_capacity_document(folder: Path, file_name: str, schema_name: str, command: str) -> dict:
    """Return the capacity document `file_name` (hosts.yaml, aks.yaml) of `folder`, checked against its schema.

    `command` is what writes it, named in the error when it is missing or unreadable."""
    try:
        return read_document(folder / file_name, schema_name)
    except SchemaError as exc:
        raise StackConfigError(f"hyperdock:plan: {exc}") from None
    except InputError as exc:
        raise StackConfigError(f"hyperdock:plan: {exc}; run `{command}`") from None


def placed_secret_names(folder: Path) -> dict[str, list[str]]:
    """Return {label: the environment variables its parameters travel as} for every workload hosts.yaml
    places (what the stack's workloadSecrets must give); StackConfigError as `read_stack_plan`."""
    plan = read_stack_plan(folder)
    hosts = hosts_from_document(read_capacity_document(folder, "hosts.yaml", "hosts", "hyperdock generate"))
    by_label = {plan.labels[w.vm_id]: w for w in plan.containers}
    return {label: by_label[label].container.parameter_variables()
            for pool in hosts.pools for host in pool.hosts for label in host.workloads if label in by_label}
