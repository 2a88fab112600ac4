"""Microsoft Graph client for inbound shared user profiles (no UI)."""
