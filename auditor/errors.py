"""The one error base class of the package.

Every error that means "this input (a capture, a policy, a key log, an option) cannot be used" is
an :class:`AuditorError`. The command line turns it, in one place (``auditor.cli.main``), into a
single line on stderr and exit status 2; library users catch it to tell bad input from bugs.
"""

from __future__ import annotations


class AuditorError(Exception):
    """Bad input or a refused request, told to the user as one line (exit status 2 on the CLI)."""
