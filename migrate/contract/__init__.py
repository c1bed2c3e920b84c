"""The typed contract between hyperdock's parts: the plan model and the stack configuration.

`model` holds the plan's enums and dataclasses, `plan_io` reads and writes plan@1 and hosts@1,
`packaged` package.json's parameters, `names` every naming rule derived from a plan (labels, image
references, variable and file names) and `stack_config` the stack configuration. May import
migrate.core only (ARCH_11.md).
"""
