"""Sign-in (MSAL) and token providers for the Graph client (no UI)."""
