"""The simulated tenant: Graph and identity, in-process (httpx transport) or on loopback."""
