"""The argument parser every hyperdock command line uses: a usage error is one line and exit 2."""

from __future__ import annotations

import argparse

EXIT_BAD_INPUT = 2  # bad input of any kind, an option included


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit EXIT_BAD_INPUT."""

    def error(self, message: str) -> None:
        self.exit(EXIT_BAD_INPUT, f"hyperdock: error: {' '.join(message.splitlines())}\n")
