"""A loopback Azure Resource Manager serving the documented example responses (tests/data/azure)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy

DATA = Path(__file__).resolve().parent / "data" / "azure"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
GROUP = "rg-mig"


def example(name: str) -> dict:
    """The body of an x-ms-examples file, placeholders replaced by this test's IDs."""
    text = (DATA / name).read_text(encoding="utf-8")
    text = text.replace("{subscriptionId}", SUBSCRIPTION).replace("{subscription-id}", SUBSCRIPTION)
    text = text.replace("{resourceGroupName}", GROUP).replace("{resource-group-name}", GROUP)
    return json.loads(text)["responses"]["200"]["body"]


class FakeCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("fake-token", 4102444800)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-token", 4102444800)


class AllowHttp(SansIOHTTPPolicy):
    """Runs before the bearer-token policy: lets the token go to http://127.0.0.1 (tests only)."""

    def on_request(self, request):
        request.context.options["enforce_https"] = False


class FakeArm:
    """Three Windows VMs over two pages; switches for throttling, denial and a failing Run Command."""

    def __init__(self, throttle_first_list: bool = False, deny: bool = False, failing_run_command: str | None = None,
                 drop_second_page: bool = False):
        self.throttle_first_list = throttle_first_list
        self.drop_second_page = drop_second_page
        self.deny = deny
        self.failing_run_command = failing_run_command
        self.requests: list[tuple[str, str, dict]] = []
        self.vms = self._vms()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def client_options(self) -> dict:
        return {"base_url": self.url, "per_call_policies": [AllowHttp()], "retry_total": 3, "retry_backoff_factor": 0.01,
                "polling_interval": 0}

    def _vms(self) -> list[dict]:
        base = example("VirtualMachine_Get.json")
        vms = []
        for i, name in enumerate(["web01", "app02", "sql03"]):
            vm = json.loads(json.dumps(base))
            vm["name"] = name
            vm["id"] = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Compute/virtualMachines/{name}"
            vm["properties"]["vmId"] = f"0f47b100-583c-48e3-a4c0-aefc2c9bbcc{i}"
            vm["properties"]["hardwareProfile"]["vmSize"] = "Standard_D2s_v3"
            vm["properties"]["networkProfile"]["networkInterfaces"] = [{"id": (
                f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Network/networkInterfaces/{name}-nic")}]
            vm["tags"] = {"app": "shop", "env": "prod"}
            vms.append(vm)
        return vms

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict | None, headers: dict | None = None):
                payload = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                fake.requests.append(("GET", self.path, dict(self.headers)))
                path = self.path.split("?")[0]
                if fake.deny:
                    return self._send(403, {"error": {"code": "AuthorizationFailed", "message": "no"}})
                if path.endswith("/providers/Microsoft.Compute/virtualMachines"):
                    listings = sum(1 for m, p, _ in fake.requests if "virtualMachines?" in p and "page=2" not in p)
                    if fake.throttle_first_list and listings == 1:
                        return self._send(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "1"})
                    if "page=2" in self.path:
                        if fake.drop_second_page:  # the connection breaks mid-list, every time
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return None
                        return self._send(200, {"value": fake.vms[2:]})
                    next_link = f"{fake.url}{path}?api-version=2025-04-01&page=2"
                    return self._send(200, {"value": fake.vms[:2], "nextLink": next_link})
                if path.endswith("/instanceView"):
                    view = example("VirtualMachine_Get_InstanceView.json")
                    view["statuses"] = [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]
                    view["computerName"] = path.split("/")[-2]
                    return self._send(200, view)
                if path.endswith("/skus"):
                    return self._send(200, {"value": [
                        {"resourceType": "virtualMachines", "name": "Standard_D2s_v3", "locations": ["westus"],
                         "capabilities": [{"name": "vCPUs", "value": "2"}, {"name": "MemoryGB", "value": "8"}]},
                        {"resourceType": "disks", "name": "Premium_LRS", "capabilities": []}]})
                match = re.search(r"/networkInterfaces/([^/]+)$", path)
                if match:
                    nic = example("NetworkInterfaceGet.json")
                    nic["name"] = match.group(1)
                    index = ["web01-nic", "app02-nic", "sql03-nic"].index(match.group(1))
                    nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] = f"10.0.0.{4 + index}"
                    return self._send(200, nic)
                return self._send(404, {"error": {"code": "NotFound", "message": path}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(("POST", self.path, body))
                match = re.search(r"/virtualMachines/([^/]+)/runCommand", self.path)
                if not match:
                    return self._send(404, {"error": {"code": "NotFound"}})
                if match.group(1) == fake.failing_run_command:
                    return self._send(409, {"error": {"code": "VMAgentStatusCommunicationError", "message": "agent down"}})
                guest = {"OSName": "Windows Server 2019 Datacenter", "OSVersion": "10.0.17763",
                         "Features": ["Web-Server", "Web-Asp-Net45"], "Services": [], "Listeners":
                         [{"LocalAddress": "0.0.0.0", "LocalPort": 80, "ProcessName": "System"}],
                         "IISSites": [{"Name": "Shop", "Bindings": ["http/*:80:"]}]}
                return self._send(200, {"value": [
                    {"code": "ComponentStatus/StdOut/succeeded", "level": "Info", "message": json.dumps(guest)},
                    {"code": "ComponentStatus/StdErr/succeeded", "level": "Info", "message": ""}]})

        return Handler
