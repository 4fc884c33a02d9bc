class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""
