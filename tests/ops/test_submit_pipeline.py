"""The CLI's submission pipeline (a pre-check per target): chunks of intents, each committed before its POSTs.

Issue 15: the pipeline writes a chunk's intents in one trip to the journal's writer thread and its
accepted rows in one more. The promises stay: no POST leaves before its own intent is on disk, the
checks run at most ``window`` targets ahead of the POSTs, a target the check refuses gets no intent
and no POST, and every accepted export is journalled under its id.
"""

from __future__ import annotations

from pathlib import Path

from console.ops.events import ExportTarget
from console.ops.journal import OperationJournal
from tests.ops.rig import Rig
from tests.ops.test_promises import targets


async def test_the_pipeline_commits_each_intent_before_its_post_and_checks_a_window_ahead(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    side = rig.side()
    reader = OperationJournal(rig.path)
    seen_at_post: list[str] = []
    ahead: list[int] = []  # targets checked (and not refused) but not yet POSTed, at each check

    real_post = side.client.export_personal_data

    async def post_seen(user_id: str, location: str):  # type: ignore[no-untyped-def]
        """Looks at the journal on disk (another connection) the moment each POST leaves."""
        seen_at_post.append(next((r.state for r in reader.rows() if r.user_id == user_id), "missing"))
        return await real_post(user_id, location)

    side.client.export_personal_data = post_seen  # type: ignore[method-assign, assignment]
    batch = targets(rig, 21)
    refused = batch[7].user_id
    passed = 0

    async def precheck(target: ExportTarget) -> bool:
        nonlocal passed
        if target.user_id == refused:
            return False
        passed += 1
        ahead.append(passed - len(seen_at_post))
        return True

    await side.engine.start()
    outcomes = await side.engine.submit(batch, precheck=precheck, window=6)
    assert seen_at_post == ["intent"] * 20, f"a POST left before its intent was on disk: {seen_at_post}"
    assert max(ahead) <= 6, f"checks ran more than the window ahead of the POSTs: {ahead}"
    assert [o.user_id for o in outcomes] == [t.user_id for t in batch if t.user_id != refused]
    assert all(o.accepted for o in outcomes)
    rows = reader.rows()
    assert refused not in {r.user_id for r in rows}, "the refused target got an intent"
    assert sorted(r.state for r in rows) == ["tracking"] * 20, "an accepted export was not journalled"
    assert {r.operation_id for r in rows} == {o.operation.operation_id for o in outcomes if o.operation}
    assert len([r for r in rig.tenant.requests if r.kind == "export"]) == 20
    reader.close()
    await rig.close()
