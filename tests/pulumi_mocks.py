"""The tests' engine is the offline policy check's: one implementation (policies/capture.py)."""

from policies.capture import Mocks, RecordingMonitor, start, stop  # noqa: F401
