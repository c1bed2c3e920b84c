"""The typed contract between hyperdock's parts: the plan model and the stack configuration."""
