"""Sign-in (MSAL) and token providers for the Graph client (no UI, no simulator).

Modules: ``base`` (StaticTokenProvider, tenant_key_for; re-exports the ``TokenProvider`` port, which
lives beside its consumer in ``console.graph.ports``), ``signin`` (SignIn, Account, DeviceCodePrompt;
it owns its provider), ``provider`` (MsalTokenProvider over a ``SilentTokenSource``), ``headless``
(sign_in_saved_tenant for the CLI), ``errors`` (SignInError and its explained kinds), ``cache``
(the 0600 token cache), ``transport`` (MSAL over an httpx transport; MSAL's requests session under
the one CA-bundle rule of ``console.tls``), ``access`` (what a token lacks). JWT claims are read by
``console.jwt``. The demo's sign-in over the simulator is built in ``console.demo``.
Nothing is imported here so that ``console.auth.base`` stays cheap.
"""
