"""Leave out the pulumi-azure-native SDK's API-version aliases on hyperdock's own resources.

Each azure-native v3 resource class adds one alias per Azure API version it was ever generated
for (`azure-native:network/v20230201:NetworkInterface`, ...: 60 on a NetworkInterface, 29 on a
VirtualMachine, 18 on a Run Command). They exist so that a stack whose state holds a resource
under an explicit-version type token (azure-native v1/v2's versioned modules) keeps it when the
program moves to the default module. The Pulumi Python SDK turns every alias into a URN through a
chain of awaited Outputs in the program (Resource.__init__, collapse_alias_to_urn), at every
`pulumi up`: about 1 ms each, most of the program's time at 100 hosts.

hyperdock has only ever registered the default modules' type tokens (components/, __main__.py,
since the first commit; requirements pin pulumi-azure-native 3.x), so no hyperdock stack holds a
versioned token these aliases could match: leaving them out changes no `pulumi up` plan. The
means is Pulumi's documented `transformations` resource option, which runs before the aliases
are collapsed; the SDK itself is not changed. Other aliases (a resource's former name, given by
hyperdock) are kept, and so is any alias a caller's own transformation adds (it runs after this one).
"""

from __future__ import annotations

import re
from typing import Optional

import pulumi

# azure-native:<module>/v<yyyymmdd>[preview|privatepreview]:<Type>
_VERSIONED = re.compile(r"azure-native:(?P<module>[A-Za-z0-9]+)/v\d{8}[a-z]*:(?P<type>\w+)")


def is_api_version_alias(alias, resource_type: str) -> bool:
    """True for an alias that only renames `resource_type` to one of its explicit-API-version tokens."""
    if not isinstance(alias, pulumi.Alias) or not isinstance(alias.type_, str):
        return False
    if any(getattr(alias, field) is not ... for field in ("name", "parent", "stack", "project")):
        return False
    match = _VERSIONED.fullmatch(alias.type_)
    return match is not None and resource_type == f"azure-native:{match['module']}:{match['type']}"


def without_api_version_aliases(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
    """A `transformations` entry: the same resource, minus the SDK's API-version aliases."""
    aliases = args.opts.aliases
    if not aliases:
        return None
    kept = [a for a in aliases if not is_api_version_alias(a, args.type_)]
    if len(kept) == len(aliases):
        return None
    opts = pulumi.ResourceOptions.merge(args.opts, None)  # a copy
    opts.aliases = kept or None
    return pulumi.ResourceTransformationResult(args.props, opts)


def leaving_out_api_version_aliases(opts: Optional[pulumi.ResourceOptions] = None) -> pulumi.ResourceOptions:
    """`opts` plus the transformation: for a component, its children inherit it; for a resource, it applies to it.

    It goes first in the list (Pulumi runs a resource's transformations in order), so a caller's own
    transformations run after it: an alias one of them adds, a versioned type token included, stays.
    """
    return pulumi.ResourceOptions.merge(pulumi.ResourceOptions(transformations=[without_api_version_aliases]), opts)
