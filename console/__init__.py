"""export-console: export the personal data of Entra inbound shared user profiles."""

__version__ = "0.1.0"
