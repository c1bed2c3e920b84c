"""hyperdock's assessment and migration side: inventory → dependency graph → decisions → plan."""

__version__ = "0.1.0"
