"""Release: the pull request report, the image, promotion and rollback.

Every release step that cannot go on raises ReleaseError: one line saying why
and what to do, printed by the CLI without a traceback.
"""

import click


class ReleaseError(click.ClickException):
    """A release step cannot go on; the message says why and what to do."""
