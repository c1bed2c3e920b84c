"""In-process Pulumi engine: mocks that echo inputs, a monitor that keeps every registration request.

Used by the offline policy check (policies/check.py) and by the tests of the Pulumi code.
"""

from __future__ import annotations

import asyncio
import base64

import pulumi
from pulumi.runtime import mocks


# What a cluster's credentials look like to the program under mocks; never a real cluster.
MOCK_KUBECONFIG = ("apiVersion: v1\nkind: Config\nclusters: [{name: mock, cluster: {server: 'https://mock.invalid'}}]\n"
                   "users: [{name: mock, user: {token: mock-token-not-a-secret-of-anyone}}]\n"
                   "contexts: [{name: mock, context: {cluster: mock, user: mock}}]\ncurrent-context: mock\n")


class Mocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, with the server-side values the components read (ids, subnets, IPs)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        outputs.setdefault("name", args.name)
        if args.typ == "azure-native:network:VirtualNetwork":
            outputs["subnets"] = [dict(s, id=f"/subscriptions/0/subnets/{s['name']}") for s in args.inputs.get("subnets", [])]
        if args.typ == "azure-native:network:NetworkInterface":
            outputs["ipConfigurations"] = [dict(c, privateIPAddress="10.20.1.4") for c in args.inputs.get("ipConfigurations", [])]
        if args.typ == "azure-native:compute:VirtualMachine":
            outputs["identity"] = dict(args.inputs.get("identity", {}), principalId="00000000-0000-0000-0000-00000000abcd")
        if args.typ == "azure-native:containerservice:ManagedCluster":
            outputs["identityProfile"] = {"kubeletidentity": {"objectId": "00000000-0000-0000-0000-00000000cafe",
                                                              "clientId": "00000000-0000-0000-0000-00000000c1ee"}}
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = "Generated-Password-1!"
        if args.typ == "command:remote:Command":
            outputs.setdefault("stdout", "ok")
        resource_id = f"/subscriptions/0/resourceGroups/rg/providers/{args.typ}/{args.name}" if args.custom else None
        return [resource_id, outputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "azure-native:containerservice:listManagedClusterUserCredentials":
            return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(MOCK_KUBECONFIG.encode()).decode()}]}
        return {}


class RecordingMonitor(mocks.MockMonitor):
    """Also keeps each raw RegisterResourceRequest, where secrets are still marked as secrets."""

    def __init__(self, mock: Mocks):
        super().__init__(mock)
        self.requests: list = []
        self.urns: list[str] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.requests.append(request)
        self.urns.append(response.urn)
        return response

    def by_type(self, type_token: str) -> list:
        return [r for r in self.requests if r.type == type_token]


def start(project: str = "hyperdock", stack: str = "test") -> RecordingMonitor:
    """Install fresh mocks and a fresh event loop; return the monitor to assert on."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    mock = Mocks()
    monitor = RecordingMonitor(mock)
    pulumi.runtime.set_mocks(mock, project=project, stack=stack, preview=False, monitor=monitor)
    return monitor


def stop() -> None:
    loop = asyncio.get_event_loop()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    pulumi.runtime.reset_options()
    asyncio.set_event_loop(None)
    loop.close()
