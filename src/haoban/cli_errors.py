class CliError(RuntimeError):
    """A failure to report in one line and exit non-zero."""
