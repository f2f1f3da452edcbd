"""The one exception family the CLI turns into a single line and a non-zero exit."""


class VulntuneError(Exception):
    """An error the user can act on. The message names the input and what is wrong with it."""
