"""Exception types shared by corpus/, filters/ and dedup/ (kept import-free to avoid cycles)."""


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the setting."""


class LimitError(ValueError):
    """A documented bound of the run was passed while it ran (e.g. ``dedup.finish_max_nodes``);
    the message is one line that names the settings to change."""
