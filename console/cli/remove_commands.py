"""``remove`` and ``outbound``: erasure of personal data (issue 19), inbound and outbound.

Every refusal happens before sign-in and sends nothing: ``--confirm N`` must equal the number of people,
removal must be allowed (the saved tenant's ``allow_removal = true``, or ``--allow-removal`` with
``--graph-url``/``--token-env`` or ``--demo``), and ``--read-only`` refuses it. A person whose removal
was already requested (or may have been: unconfirmed) is not asked again without ``--force``. The rules
live in ``console.ops.removal``; this module parses, reports and maps exit codes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.cli.options import add_flags, json_flag

if TYPE_CHECKING:
    from console.config import SavedTenant
    from console.wiring import ConnectionOptions, Services


def add_removal_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``remove`` and ``outbound`` subcommands (``command`` is the parser's subcommand factory)."""
    remove = command(
        "remove",
        "ask Graph to remove the personal data of one or more inbound profiles (removePersonalData: destructive, "
        "204 with nothing to track), or with --outbound ask another tenant to remove its copy of our user's "
        "data. Nothing is sent unless --confirm equals the number of people, removal is allowed (allow_removal "
        "= true on the saved tenant, or --allow-removal with --graph-url/--token-env or --demo) and the session "
        "is not --read-only. A person already asked is not asked again without --force.",
        "export-console --tenant contoso remove 1c4b... 7d2e... --case DSR-1234 --confirm 2",
        "export-console --tenant contoso remove --outbound 1c4b... --from-tenant 9a8b... --case DSR-1234 --confirm 1",
    )
    remove.add_argument(
        "user_ids", nargs="*", metavar="USER_ID", help="userId of a profile (of our user with --outbound)"
    )
    remove.add_argument("--case", metavar="REF", required=True, help="the data-subject request this removal answers")
    remove.add_argument(
        "--confirm", metavar="N", type=int, required=True, help="the number of people to remove (must match)"
    )
    add_flags(remove, ("--outbound", "our own user's data held by another tenant"))
    remove.add_argument("--from-tenant", metavar="TENANT_ID", help="with --outbound: the tenant asked to remove it")
    add_flags(
        remove,
        (
            "--allow-removal",
            "allow removal for --graph-url/--token-env or --demo (a saved tenant needs allow_removal = true)",
        ),
        ("--force", "ask again for a person already asked"),
        json_flag("removal"),
    )

    outbound = command(
        "outbound",
        "list our own users whose profile data other tenants hold, with those tenants",
        "export-console --tenant contoso outbound --json",
    )
    add_flags(outbound, json_flag("user (userId, tenants)"))


def saved_tenant(options: ConnectionOptions) -> SavedTenant | None:
    """The saved tenant ``--tenant NAME`` picks (None without ``--tenant``: a token or the demo).

    Raises:
        ConfigError: config.toml is wrong or has no such tenant.
    """
    if not options.tenant:
        return None
    from console.config import load_config
    from console.wiring import resolve_paths

    return load_config(resolve_paths(options)).tenant(options.tenant)


def refuse_if_read_only(args: argparse.Namespace, options: ConnectionOptions, what: str) -> None:
    """Refuse ``what`` (an export) under ``--read-only`` or a saved tenant's ``read_only = true``, naming which.

    Raises:
        UsageProblem: exit 2, nothing sent.
    """
    from console.cli.exitcodes import UsageProblem
    from console.ops.removal import read_only_reason

    flag = bool(getattr(args, "read_only", False))
    saved = None if flag else saved_tenant(options)
    reason = read_only_reason(
        flag=flag, saved=bool(saved and saved.read_only), tenant_label=f"tenant {saved.name}" if saved else ""
    )
    if reason:
        raise UsageProblem(f"{what} refused: read-only ({reason}): nothing that changes anything is sent")


def check_removal(args: argparse.Namespace, options: ConnectionOptions) -> list[tuple[str, str]]:
    """Everything ``remove`` checks before signing in; returns ``(userId, from-tenant)`` targets.

    Raises:
        UsageProblem: exit 2, nothing sent.
    """
    from console.cli.exitcodes import UsageProblem
    from console.ops.removal import read_only_reason, removal_refusal

    if not args.case.strip():
        raise UsageProblem("--case is empty: give the data-subject request this removal answers (nothing was sent)")
    users = [u.strip() for u in args.user_ids]
    if any(not u for u in users):
        raise UsageProblem("an empty USER_ID: give each user id (nothing was sent)")
    if len({u.lower() for u in users}) != len(users):
        raise UsageProblem("a USER_ID is given twice (nothing was sent)")
    tenant = (args.from_tenant or "").strip()
    if args.outbound:
        if not tenant:
            raise UsageProblem("remove --outbound needs --from-tenant TENANT_ID (nothing was sent)")
        if len(users) != 1:
            raise UsageProblem("remove --outbound takes exactly one USER_ID (nothing was sent)")
    elif args.from_tenant is not None:
        raise UsageProblem("--from-tenant goes with --outbound (nothing was sent)")
    saved = saved_tenant(options)
    allowed = saved.allow_removal if saved is not None else bool(args.allow_removal)
    label = f"tenant {saved.name}" if saved is not None else "this session"
    read_only = read_only_reason(flag=bool(args.read_only), saved=bool(saved and saved.read_only), tenant_label=label)
    refusal = removal_refusal(
        people=len(users), confirm=args.confirm, allowed=allowed, read_only=read_only, tenant_label=label
    )
    if refusal is not None:
        raise UsageProblem(refusal)
    return [(u, tenant) for u in users]


async def cmd_remove(services: Services, args: argparse.Namespace, targets: list[tuple[str, str]]) -> int:
    """``remove``: send each removal (journalled before and after); exit 0 when every one was requested."""
    from console.cli.exitcodes import EXIT_OK, EXIT_USAGE, worst
    from console.cli.output import clean, fail, json_text, say
    from console.ops.removal import AlreadyRemoved, RemovalTarget, submit_removals

    engine = services.engine
    await engine.start(resume=False)
    wanted = [RemovalTarget(user, tenant) for user, tenant in targets]
    try:
        outcomes = await submit_removals(engine, wanted, case=args.case, who=services.identity, force=args.force)
    except AlreadyRemoved as exc:
        return fail(clean(str(exc)), EXIT_USAGE)
    if args.case and any(o.view is not None for o in outcomes):
        from console.ops.cases import ensure_case, utc_date

        if ensure_case(
            services.journal, services.tenant_key, args.case, utc_date(engine.clock.now()), services.identity
        ):
            say(f"export-console: case {clean(args.case.strip())} opened (received today, due in one month)")
    codes = [EXIT_OK]
    for outcome in outcomes:
        codes.append(outcome.exit_code)
        if args.json and outcome.view is not None:
            data = outcome.view.to_json()
            data["requestId"] = outcome.request_id or None
            data["fromTenant"] = outcome.target.target_tenant or None
            print(json_text(data), flush=True)
        elif outcome.request_id:
            print(clean(f"removal requested: {outcome.target.label} (request-id {outcome.request_id})"), flush=True)
        else:
            say(clean(f"export-console: removal of {outcome.target.label} not done: {outcome.error}"))
    return worst(codes)


async def cmd_outbound(services: Services, args: argparse.Namespace) -> int:
    """``outbound``: our users whose data other tenants hold, each with those tenants."""
    from console.cli.exitcodes import EXIT_OK
    from console.cli.output import clean, json_text, print_table

    client = services.client
    users = await client.list_outbound_profiles()
    rows: list[tuple[str, list[str]]] = []
    for user in users:
        tenants = await client.outbound_tenants(user)
        rows.append((user, tenants))
        if args.json:
            print(json_text({"userId": user, "tenants": tenants}), flush=True)
    if not args.json:
        print_table(["userId", "tenants"], [(clean(u), clean(", ".join(t))) for u, t in rows])
    return EXIT_OK
