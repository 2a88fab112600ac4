"""export-console: export the personal data of Entra inbound shared user profiles."""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (``httpx._main``: click, rich, pygments) whenever those are installed,
# and nothing here runs it: 45 ms of every start-up that talks to Graph. With the module marked absent,
# httpx's own ``except ImportError`` fallback defines its ``main`` stub instead (httpx/__init__.py).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
