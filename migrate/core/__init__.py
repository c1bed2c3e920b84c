"""hyperdock's shared core: Windows and Azure facts, PowerShell quoting, document loading, secret
detection and the error types. It imports nothing else of hyperdock (tests/test_architecture.py),
so components, policies and the migrate app all build on it."""
