"""Sign-in (MSAL) and token providers for the Graph client (no UI).

Modules: ``base`` (TokenProvider protocol), ``signin`` (SignIn, Account, DeviceCodePrompt),
``provider`` (MsalTokenProvider), ``headless`` (provider_for_saved_tenant for the CLI),
``errors`` (SignInError and its explained kinds), ``cache`` (the 0600 token cache),
``transport`` (MSAL over an httpx transport), ``access`` (what a token lacks), ``demo``.
Nothing is imported here so that ``console.auth.base`` stays cheap for the Graph client.
"""
