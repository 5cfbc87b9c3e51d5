"""`agentnas kb …`: inspect and edit the knowledge base of design heuristics.

The KB folder defaults, for commands that only read (list, show, export), to the KB of
the latest run under ``runs/``, else (and for commands that write) to ``runs/kb``
(:data:`~agentnas.memory.knowledge_base.DEFAULT_KB_DIR`);
``--kb DIR`` picks another, given either before the subcommand (``agentnas kb --kb DIR
list``) or after it (``agentnas kb list --kb DIR``). Commands that only read (list, show,
export) refuse a folder that does not exist instead of creating an empty database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agentnas.graph.run_index import DEFAULT_RUNS_DIR, latest_run, run_kb_dir
from agentnas.memory.heuristic import Heuristic, Scope, confidence
from agentnas.memory.knowledge_base import DEFAULT_KB_DIR, KnowledgeBase
from agentnas.tools.atomic_io import write_text_atomic
from agentnas.tools.errors import UserError

KbOption = Annotated[
    Path | None,
    typer.Option(
        "--kb",
        help=f"Knowledge-base folder (a Chroma database; default {DEFAULT_KB_DIR}).",
        show_default=False,
    ),
]


def _kb_dir(ctx: typer.Context, own: Path | None, *, read_only: bool = False) -> Path:
    """The subcommand's ``--kb`` wins over the group's, which wins over the default. A
    command that only reads defaults to the latest run's KB under ``runs/`` (what the
    user just ran), then to ``runs/kb``; commands that write keep ``runs/kb``."""
    if own is not None:
        return own
    group = ctx.obj.get("kb") if isinstance(ctx.obj, dict) else None
    if group is not None:
        return group
    if read_only:
        latest = latest_run(DEFAULT_RUNS_DIR)
        if latest is not None and run_kb_dir(latest).exists():
            return run_kb_dir(latest)
    return DEFAULT_KB_DIR


def _partition_label(h: Heuristic) -> str:
    return "all" if h.scope.partition is None else f"p{h.scope.partition}"


def _table(heuristics: list[Heuristic], title: str, *, with_status: bool) -> Table:
    """Compact enough for 80 columns: the text column takes what the others leave."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("id", no_wrap=True, style="bold")
    table.add_column("scope", overflow="fold", max_width=16)
    table.add_column("±", justify="center", no_wrap=True)
    table.add_column("for/ag", justify="right", no_wrap=True)
    table.add_column("conf", justify="right", no_wrap=True)
    table.add_column("rounds", justify="right", no_wrap=True)
    if with_status:
        table.add_column("status", no_wrap=True)
    table.add_column("text", ratio=1, overflow="fold")
    for h in heuristics:
        row = [
            h.id,
            f"{h.scope.space} {h.scope.hardware} {_partition_label(h)}",
            "+" if h.polarity == "positive" else "−",
            f"{h.evidence_for}/{h.evidence_against}",
            f"{confidence(h):.2f}",
            f"{h.created_round}–{h.last_round}",
        ]
        if with_status:
            row.append(h.status)
        row.append(Text(h.text))  # plain text: brackets are not markup
        table.add_row(*row, style="dim" if h.status == "retired" else None)
    return table


def _details(h: Heuristic) -> Table:
    table = Table(show_header=False, title=f"heuristic {h.id}", title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, str]] = [
        ("text", h.text),
        ("space", h.scope.space),
        ("hardware", h.scope.hardware),
        ("partition", "all" if h.scope.partition is None else str(h.scope.partition)),
        ("polarity", h.polarity),
        ("evidence", f"{h.evidence_for} for, {h.evidence_against} against"),
        ("confidence", f"{confidence(h):.3f} (Laplace-smoothed support share)"),
        ("created round", str(h.created_round)),
        ("last round", str(h.last_round)),
        ("status", h.status),
        ("source", h.source),
    ]
    if h.claim is not None:
        c = h.claim
        rows += [
            ("claim", f"{c.op}" + (f" instead of {c.instead_of}" if c.instead_of else "")
             + f" on {', '.join(c.edges) or 'any edge'}: {c.objective} {c.direction}"
             + (f" by {c.effect:+.4g}" if c.effect is not None else "")),
            ("claim seen", f"{c.evidence} observations; devices {', '.join(c.devices) or '-'};"
             f" datasets {', '.join(c.datasets) or '-'}; source {c.source}"),
            ("travels", "yes (hardware-independent)" if c.hardware_independent else "no"),
        ]  # fmt: skip
    for field, value in rows:
        table.add_row(field, Text(value))
    return table


def _write_json_atomic(path: Path, payload: Any) -> None:
    """Never a half-written export: temp file in the same folder, then rename."""
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def _read_records(path: Path) -> list[dict[str, Any]]:
    """Records from an export file: a JSON list, or an object with a ``heuristics`` list."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"no such file: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read {path} as JSON: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("heuristics")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise UserError(
            f"{path} holds no list of heuristics; expected the output of `agentnas kb export`"
        )
    return data


def _imported(record: dict[str, Any]) -> dict[str, Any]:
    """A record as it lands in another KB: its claim's source becomes ``imported`` (the
    heuristic's own ``source`` still names who wrote it). Validation happens on import."""
    claim = record.get("claim")
    if isinstance(claim, dict):
        return {**record, "claim": {**claim, "source": "imported"}}
    return record


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the ``kb`` command group (it has no benchmark)."""
    kb_app = typer.Typer(
        help="Inspect and edit the knowledge base of design heuristics (a Chroma folder).",
        no_args_is_help=True,
    )
    app.add_typer(kb_app, name="kb")

    @kb_app.callback()
    def kb_group(ctx: typer.Context, kb: KbOption = None) -> None:
        """Inspect and edit the knowledge base of design heuristics (a Chroma folder)."""
        ctx.obj = {"kb": kb}

    @kb_app.command("list")
    def list_(
        ctx: typer.Context,
        space: Annotated[str | None, typer.Option(help="Only this search space.")] = None,
        hardware: Annotated[str | None, typer.Option(help="Only this hardware backend.")] = None,
        partition: Annotated[
            int | None,
            typer.Option(min=0, help="Only heuristics that apply to this partition."),
        ] = None,
        all_: Annotated[bool, typer.Option("--all", help="Include retired heuristics.")] = False,
        kb: KbOption = None,
    ) -> None:
        """List heuristics (active ones unless --all)."""
        folder = _kb_dir(ctx, kb, read_only=True)
        with KnowledgeBase(folder, create=False, read_only=True) as base:
            heuristics = base.list(space, hardware, partition, include_retired=all_)
        console = Console()
        if not heuristics:
            console.print(f"no heuristics in {folder} match", highlight=False)
            return
        title = f"{len(heuristics)} heuristic(s) in {folder}"
        console.print(_table(heuristics, title, with_status=all_))

    @kb_app.command()
    def show(
        ctx: typer.Context,
        heuristic_id: Annotated[str, typer.Argument(metavar="ID", help="Heuristic id.")],
        kb: KbOption = None,
    ) -> None:
        """Show every field of one heuristic."""
        with KnowledgeBase(_kb_dir(ctx, kb, read_only=True), create=False, read_only=True) as base:
            heuristic = base.get(heuristic_id)
        Console().print(_details(heuristic))

    @kb_app.command()
    def add(
        ctx: typer.Context,
        text: Annotated[str, typer.Argument(help="The rule, in plain words.")],
        space: Annotated[str, typer.Option(help="Search space it applies to, e.g. nb201.")],
        hardware: Annotated[
            str, typer.Option(help="Hardware backend it applies to, e.g. hwnasbench:fpga.")
        ],
        partition: Annotated[
            int | None,
            typer.Option(min=0, help="Partition it applies to (default: every partition)."),
        ] = None,
        negative: Annotated[
            bool, typer.Option("--negative", help="A rule to avoid rather than to follow.")
        ] = False,
        round_: Annotated[int, typer.Option("--round", min=0, help="Round to record.")] = 0,
        kb: KbOption = None,
    ) -> None:
        """Add a heuristic (a near-identical active one in the same scope is revised)."""
        if not text.strip():
            raise UserError("heuristic text is empty; give the rule in plain words")
        try:
            scope = Scope(space=space, hardware=hardware, partition=partition)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise UserError(f"invalid --{error['loc'][0]}: {error['msg']}") from exc
        with KnowledgeBase(_kb_dir(ctx, kb)) as base:
            heuristic, merged = base.add_or_merge(
                text,
                scope,
                polarity="negative" if negative else "positive",
                round=round_,
                source="user",
            )
        verb = "merged into existing" if merged else "added"
        Console().print(
            f"{verb} [bold]{heuristic.id}[/] ({heuristic.scope.label()}, "
            f"{heuristic.evidence_for} for / {heuristic.evidence_against} against)",
            highlight=False,
        )

    @kb_app.command()
    def rm(
        ctx: typer.Context,
        heuristic_id: Annotated[str, typer.Argument(metavar="ID", help="Heuristic id.")],
        kb: KbOption = None,
    ) -> None:
        """Delete a heuristic for good (a run's Reflector retires instead)."""
        with KnowledgeBase(_kb_dir(ctx, kb), create=False) as base:
            removed = base.rm(heuristic_id)
        Console().print(f"removed [bold]{removed.id}[/]: {escape(removed.text)}", highlight=False)

    @kb_app.command()
    def export(
        ctx: typer.Context,
        out: Annotated[
            Path | None, typer.Option("--out", help="JSON file to write (default: stdout).")
        ] = None,
        kb: KbOption = None,
    ) -> None:
        """Write every heuristic, retired ones included, as a JSON list."""
        with KnowledgeBase(_kb_dir(ctx, kb, read_only=True), create=False, read_only=True) as base:
            records = base.export()
        if out is None:
            typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
            return
        _write_json_atomic(out, records)
        Console(stderr=True).print(f"wrote {len(records)} heuristic(s) to {out}", highlight=False)

    @kb_app.command("import")
    def import_(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="A file written by `agentnas kb export`.")],
        pool: Annotated[
            bool,
            typer.Option(
                "--pool",
                help="Pool the evidence of claims the KB already holds (KBs of several "
                "devices into one) instead of replacing records with the same id.",
            ),
        ] = False,
        kb: KbOption = None,
    ) -> None:
        """Load exported heuristics (same ids replace existing ones, or pool with --pool)."""
        from agentnas.graph.knowledge import pool_into

        records = [_imported(r) for r in _read_records(file)]
        for index, record in enumerate(records):  # refuse before anything is written
            try:
                Heuristic.model_validate(record)
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(p) for p in error["loc"]) or "value"
                raise UserError(
                    f"record {index} is not a heuristic: {where}: {error['msg']}"
                ) from None
        with KnowledgeBase(_kb_dir(ctx, kb)) as base:
            count = pool_into(base, records) if pool else base.import_(records)
        verb = "pooled" if pool else "imported"
        Console().print(f"{verb} {count} heuristic(s) into {base.path}", highlight=False)
