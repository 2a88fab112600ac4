"""The Cases pane (key 3, issue 19): each data-subject request with its countdown, overdue ones first
and in red, its operations below; an alert (toast and bell) when an open case is within
``ALERT_DAYS`` of its due date; ``o`` opens a case, ``x`` extends the highlighted one, ``c`` closes it.

The cases live in the journal (``console.ops.cases``); the pane reads and writes them through a
``CaseBook`` on its own connection to the journal file (WAL lets it in beside the engine's writer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.ops.cases import ALERT_DAYS, CLOSED, OVERDUE, Case, CaseError, CaseStore, parse_date, utc_date
from console.ops.events import OperationView
from console.tui.cells import literal, safe_text, status_label
from console.tui.focus import MovesFocusNow, release_keys
from console.tui.footer import ConsoleFooter
from console.tui.widgets.pane import Pane

OPERATIONS_SHOWN = 5
"""Operations listed under a case (the rest are counted)."""


class CaseBook:
    """The cases of one tenant in one journal file, for the console (opened on first use); with several
    tenants open (``names``), the cases of every one of them (a new case goes to ``tenant_key``'s)."""

    def __init__(self, journal_path: str, tenant_key: str, author: str) -> None:
        self.journal_path = journal_path
        self.tenant_key = tenant_key
        """The tenant a new case is opened in (the picked one)."""
        self.author = author
        self.names: dict[str, str] = {}
        """Tenant key -> name of every tenant open in the console, when several are (issue 18), else empty."""
        self._journal: Any = None

    @property
    def several(self) -> bool:
        """Several tenants are open: their cases are listed together, each labelled with its tenant."""
        return len(self.names) > 1

    def name_of(self, tenant_key: str) -> str:
        return self.names.get(tenant_key, tenant_key)

    def store(self) -> CaseStore:
        if self._journal is None:
            from console.ops.journal import OperationJournal

            self._journal = OperationJournal(self.journal_path)
        return CaseStore(self._journal)

    def cases(self) -> list[Case]:
        if self.several:
            return [case for case in self.store().cases(None) if case.tenant_key in self.names]
        return self.store().cases(self.tenant_key)

    def open(self, ref: str, received: date, due: date | None, subject: str, at: float) -> Case:
        return self.store().open(
            self.tenant_key, ref, received=received, due=due, subject=subject, author=self.author, at=at
        )

    def extend(self, case: Case, due: date, reason: str, at: float) -> Case:
        return self.store().extend(case.tenant_key, case.ref, due=due, reason=reason, author=self.author, at=at)

    def close(self, case: Case, note: str, at: float) -> Case:
        return self.store().close(case.tenant_key, case.ref, note=note, author=self.author, at=at)

    def shut(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def case_order(cases: Sequence[Case], today: date) -> list[Case]:
    """Overdue first (most overdue first), then open ones by due date, then closed ones (latest first)."""
    rank = {OVERDUE: 0, "open": 1, CLOSED: 2}

    def key(case: Case) -> tuple[int, int, str]:
        state = case.shown_state(today)
        days = case.days_left(today)
        return (rank[state], -days if state == CLOSED else days, case.ref)

    return sorted(cases, key=key)


def countdown(case: Case, today: date) -> str:
    """``12 days left``, ``due today``, ``3 days overdue`` or ``closed``."""
    state = case.shown_state(today)
    if state == CLOSED:
        return "closed"
    left = case.days_left(today)
    if left == 0:
        return "due today"
    if left < 0:
        return f"{-left} day{'s' if left != -1 else ''} overdue"
    return f"{left} day{'s' if left != 1 else ''} left"


def case_id(case: Case) -> str:
    """The case's option id: its tenant key and reference (two tenants may use one reference)."""
    return f"{case.tenant_key}\x1f{case.ref}"


def operations_of_cases(cases: Sequence[Case], views: Sequence[OperationView]) -> dict[str, list[OperationView]]:
    """Each case's operations (by ``case_id``): those of its tenant carrying its reference, and, as a request
    may span tenants, those carrying it in a tenant that has no case of that reference itself."""
    by_key: dict[tuple[str, str], list[OperationView]] = {}
    for view in views:
        if view.case:
            by_key.setdefault((view.tenant_key, view.case), []).append(view)
    own = {(case.tenant_key, case.ref) for case in cases}
    found: dict[str, list[OperationView]] = {}
    for case in cases:
        spanned = [v for (key, ref), vs in by_key.items() if ref == case.ref and (key, ref) not in own for v in vs]
        found[case_id(case)] = [*by_key.get((case.tenant_key, case.ref), []), *spanned]
    return found


def case_prompt(
    case: Case, today: date, operations: Sequence[OperationView], tenant_of: Callable[[str], str] | None = None
) -> Text:
    """The case's line (red when overdue) and its operations below it; ``tenant_of`` (several tenants open)
    names the case's tenant before its reference, and an operation's when it is another tenant's."""
    state = case.shown_state(today)
    style = "bold red" if state == OVERDUE else ("dim" if state == CLOSED else "bold")
    text = Text()
    if tenant_of is not None:
        text.append(f"{safe_text(tenant_of(case.tenant_key))} · ", style="dim" if state == CLOSED else "")
    text.append(safe_text(case.ref), style=style)
    text.append(" · ")
    text.append(countdown(case, today), style="bold red" if state == OVERDUE else "")
    text.append(f" · due {case.due.isoformat()}", style="dim")
    if case.subject:
        text.append(" · ").append(safe_text(case.subject))
    for view in operations[:OPERATIONS_SHOWN]:
        who = view.display_name or view.user_principal_name or view.user_id
        text.append("\n └ ", style="dim")
        text.append(f"{safe_text(who)} · ", style="dim" if state == CLOSED else "")
        if tenant_of is not None and view.tenant_key != case.tenant_key:
            text.append(f"{safe_text(tenant_of(view.tenant_key))} · ", style="dim")
        text.append(safe_text(status_label(view.display_status)))
    if len(operations) > OPERATIONS_SHOWN:
        text.append(f"\n └ … {len(operations) - OPERATIONS_SHOWN} more", style="dim")
    if not operations:
        text.append("\n └ no operations yet", style="dim")
    return text


def form_field(name: str, label: str, value: str = "", placeholder: str = "") -> tuple[Label, Input]:
    """One field of a case form: its label, then its box (``#case-NAME``; ``values()`` keys it by NAME)."""
    return Label(label, classes="field-label"), Input(
        value=value, placeholder=placeholder, id=f"case-{name}", name=name
    )


class CaseFormScreen(MovesFocusNow, ModalScreen[dict[str, str] | None]):
    """A small form (open, extend or close a case): Enter saves (``save`` says what is wrong, or None), Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="case-form.cancel"),
        # At once (a burst's next characters go to the next field), as on the main screen.
        Binding("tab", "move_focus(1)", "", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", "", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    CaseFormScreen #case-form { max-width: 76; height: auto; }
    CaseFormScreen Input { margin-bottom: 0; }
    """

    def __init__(
        self, title: str, fields: Sequence[tuple[Label, Input]], save: Callable[[dict[str, str]], str | None]
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = list(fields)
        self.save = save

    def compose(self) -> ComposeResult:
        with Vertical(id="case-form", classes="dialog"):
            for label, box in self.fields:
                yield label
                yield box
            yield Static("", id="case-error", classes="error", markup=False)
            yield Static("Enter saves · Tab next field · Esc cancels", classes="hint")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#case-form").border_title = literal(self.title_text)
        self.set_focus(self.fields[0][1])

    def values(self) -> dict[str, str]:
        return {str(box.name): box.value.strip() for _, box in self.fields}

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values = self.values()
        problem = self.save(values)
        if problem:
            self.query_one("#case-error", Static).update(problem)
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CaseList(OptionList):
    """The cases, one option each (its operations on the lines below it).

    The cursor keys are priority bindings (as on the operations table): they move the cursor as the key
    is read, so a burst such as Down then ``x`` extends the case the cursor reached.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, priority=True),
        Binding("down", "cursor_down", "Down", show=False, priority=True),
        Binding("home", "first", "First", show=False, priority=True),
        Binding("end", "last", "Last", show=False, priority=True),
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
        Binding("pagedown", "page_down", "Page down", show=False, priority=True),
    ]


class CasesPane(Pane):
    """Cases with their countdown and operations; ``o`` open, ``x`` extend, ``c`` close."""

    PANE_ID = "cases-pane"

    # Priority: run as the key is read, so the keys of a burst typed after it are held for the form.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "o",
            "open_case",
            "Open case",
            id="cases.open",
            priority=True,
            tooltip="Open a case (received, due, subject)",
        ),
        Binding(
            "x",
            "extend_case",
            "Extend",
            id="cases.extend",
            priority=True,
            tooltip="Extend the highlighted case (a new due date, at most 3 months after receipt, and why)",
        ),
        Binding(
            "c", "close_case", "Close", id="cases.close", priority=True, tooltip="Close the highlighted case (a note)"
        ),
    ]

    SCOPED_CSS = False  # its rules place it on the main screen (shown by key 3, in place of the other panes)

    DEFAULT_CSS = """
    MainScreen #cases-pane { display: none; }
    MainScreen.-show-cases #cases-pane { display: block; height: 1fr; }
    MainScreen.-show-cases #profiles-pane { display: none; }
    MainScreen.-show-cases #operations-pane { display: none; }
    CasesPane CaseList { height: 1fr; border: none; padding: 0; }
    CasesPane CaseList:focus { border: none; }
    """

    def __init__(
        self,
        book: CaseBook | None,
        now: Callable[[], float],
        operations: Callable[[], Sequence[OperationView]],
    ) -> None:
        super().__init__()
        self.book = book
        self.now = now
        self.operations = operations
        self.shown: list[Case] = []
        self.alerted: set[str] = set()
        """Cases already announced this session (each alert once), by ``case_id``."""

    def compose(self) -> ComposeResult:
        yield Static(id="cases-status", classes="pane-status")
        yield CaseList(id="cases-list")

    def today(self) -> date:
        return utc_date(self.now())

    def reload(self) -> None:
        """Read the cases again, redraw, and raise the alerts due."""
        status = self.query_one("#cases-status", Static)
        case_list = self.query_one(CaseList)
        if self.book is None:
            status.update("no journal: cases need one")
            return
        today = self.today()
        try:
            cases = case_order(self.book.cases(), today)
        except Exception as exc:  # the journal cannot be read: say so, keep the console
            status.update(Text(f"cases cannot be read: {safe_text(exc)}"))
            return
        by_case = operations_of_cases(cases, list(self.operations()))
        highlighted = case_list.highlighted
        chosen = case_id(self.shown[highlighted]) if highlighted is not None and highlighted < len(self.shown) else None
        self.shown = cases
        case_list.clear_options()
        tenant_of = self.book.name_of if self.book.several else None
        case_list.add_options(
            [Option(case_prompt(c, today, by_case[case_id(c)], tenant_of), id=case_id(c)) for c in cases]
        )
        if cases:
            ids = [case_id(c) for c in cases]
            case_list.highlighted = ids.index(chosen) if chosen in ids else 0
        overdue = sum(1 for c in cases if c.shown_state(today) == OVERDUE)
        opened = sum(1 for c in cases if c.state != CLOSED)
        line = Text(f"{len(cases)} case{'s' if len(cases) != 1 else ''} · {opened} open")
        if overdue:
            line.append(" · ").append(f"{overdue} overdue", style="bold red")
        line.append(" · o open · x extend · c close", style="dim")
        status.update(line)
        self.border_subtitle = f"today {today.isoformat()} (UTC)"
        self._alert(cases, today)

    def _alert(self, cases: Sequence[Case], today: date) -> None:
        due_soon = [
            c
            for c in cases
            if c.state != CLOSED and c.days_left(today) <= ALERT_DAYS and case_id(c) not in self.alerted
        ]
        if not due_soon:
            return
        self.alerted.update(case_id(c) for c in due_soon)
        lines = [f"{self._named(c)}: {countdown(c, today)} (due {c.due.isoformat()})" for c in due_soon[:5]]
        if len(due_soon) > 5:
            lines.append(f"… and {len(due_soon) - 5} more")
        self.app.bell()
        self.notify(
            "\n".join(lines),
            title="Case deadline",
            severity="warning",
            timeout=15,
            markup=False,
        )

    def _named(self, case: Case) -> str:
        """``DSR-1``, or with several tenants open ``DSR-1 in fabrikam`` (alerts and forms name the tenant)."""
        if self.book is None or not self.book.several:
            return safe_text(case.ref)
        return f"{safe_text(case.ref)} in {safe_text(self.book.name_of(case.tenant_key))}"

    def highlighted_case(self) -> Case | None:
        index = self.query_one(CaseList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def _open_form(self, screen: CaseFormScreen) -> None:
        opener = getattr(self.screen, "open_screen", None)
        if opener is not None:
            opener(screen, lambda _result: self.reload())
        else:
            self.app.push_screen(screen, lambda _result: self.reload())

    def action_open_case(self) -> None:
        if self.book is None:
            return
        book = self.book

        def save(values: dict[str, str]) -> str | None:
            if not values["ref"]:
                return "Give the case reference."
            try:
                received = parse_date(values["received"]) if values["received"] else self.today()
                due = parse_date(values["due"]) if values["due"] else None
                book.open(values["ref"], received, due, values["subject"], self.now())
            except (ValueError, CaseError) as exc:
                return str(exc)
            return None

        fields = [
            form_field("ref", "Case reference", placeholder="e.g. DSR-1234"),
            form_field("received", "Received (YYYY-MM-DD, UTC)", self.today().isoformat()),
            form_field("due", "Due (empty: one month after receipt)", placeholder="YYYY-MM-DD"),
            form_field("subject", "Subject", placeholder="who asked, or what about"),
        ]
        where = f" in {book.name_of(book.tenant_key)}" if book.several else ""
        self._open_form(CaseFormScreen(f"Open a case{where}", fields, save))

    def action_extend_case(self) -> None:
        self._extend()

    def action_close_case(self) -> None:
        self._close()

    def _nothing_to_do(self) -> None:
        release_keys(self.app)

    def _extend(self) -> None:
        fields = [
            form_field("due", "New due date (YYYY-MM-DD)", placeholder="YYYY-MM-DD"),
            form_field("reason", "Reason"),
        ]
        self._edit_highlighted(
            lambda case: f"Extend {self._named(case)} (due {case.due.isoformat()})",
            fields,
            lambda book, case, values: book.extend(case, parse_date(values["due"]), values["reason"], self.now()),
        )

    def _close(self) -> None:
        self._edit_highlighted(
            lambda case: f"Close {self._named(case)}",
            [form_field("note", "Note (optional)")],
            lambda book, case, values: book.close(case, values["note"], self.now()),
        )

    def _edit_highlighted(
        self,
        title: Callable[[Case], str],
        fields: list[tuple[Label, Input]],
        change: Callable[[CaseBook, Case, dict[str, str]], Case],
    ) -> None:
        """Open the form for the highlighted case; ``change`` saves it (its ValueError, a CaseError too, is what is wrong)."""
        case = self.highlighted_case()
        if case is None or self.book is None:
            self._nothing_to_do()
            return
        book = self.book

        def save(values: dict[str, str]) -> str | None:
            try:
                change(book, case, values)
            except ValueError as exc:
                return str(exc)
            return None

        self._open_form(CaseFormScreen(title(case), fields, save))
