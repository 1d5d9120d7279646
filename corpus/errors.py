"""Exception types shared by corpus/, filters/ and dedup/ (kept import-free to avoid cycles)."""


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the setting."""
