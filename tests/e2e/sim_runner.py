"""A simulator life that adopts the operations of a previous one (the "server killed and restarted" case).

``python -m tests.e2e.sim_runner --port P --adopt ops.json ...`` serves a ``SimulatedTenant`` on
loopback like ``export-console simulate``, after registering every operation listed in the JSON file
(what ``GET /_sim/operations`` answered before the kill), so polls of them keep working.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from console.sim.server import run_forever
from console.sim.tenant import SimulatedTenant


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--profiles", type=int, default=30)
    parser.add_argument("--retry-after", type=float, default=0.5)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--token", required=True)
    parser.add_argument("--adopt", required=True)
    args = parser.parse_args()
    tenant = SimulatedTenant(profiles=args.profiles, retry_after=args.retry_after, export_duration=args.duration)
    tenant.tokens.accept(args.token, {"tid": tenant.tenant_id})
    with open(args.adopt, encoding="utf-8") as handle:
        for op in json.load(handle):
            tenant.adopt_operation(
                op["id"], op["userId"], op.get("storageLocation") or "", _epoch(op["submittedDateTime"])
            )

    def ready(base_url: str) -> None:
        print(f"graph url: {base_url}/beta", flush=True)

    run_forever(tenant, args.host, args.port, ready)


if __name__ == "__main__":
    main()
