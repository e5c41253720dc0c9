"""CareWatch shared kernel: configuration, database base, clock, policy and the command line."""

__version__ = "0.1.0"
