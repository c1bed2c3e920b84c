"""hyperdock's shared core: Windows and Azure facts, PowerShell quoting, document loading, secret
detection, the error types and the one-line argument parser (cli.py). It imports nothing else of
hyperdock (tests/test_architecture.py), so components, policies and the migrate app all build on it."""
