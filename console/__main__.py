"""``python -m console``."""

import sys

try:
    from console.cli import main
except KeyboardInterrupt:  # Ctrl+C before the entry's own guard is imported: still one line and 130
    print("export-console: interrupted", file=sys.stderr, flush=True)
    raise SystemExit(130) from None

raise SystemExit(main())
