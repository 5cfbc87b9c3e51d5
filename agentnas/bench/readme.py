"""The README's results section, produced from a bench's output folder.

The section sits between two markers in README.md and is replaced whole, so the figures
a reader sees are always a bench's own output, with the command that made them.
"""

from __future__ import annotations

from pathlib import Path

from agentnas.tools.errors import UserError

START = "<!-- bench:start (agentnas bench readme; do not edit by hand) -->"
END = "<!-- bench:end -->"


def markers(name: str = "") -> tuple[str, str]:
    """The start and end markers of the main section (``name`` empty) or of a named one
    (a README may hold several benches, each written by its own command)."""
    if not name:
        return START, END
    return (
        f"<!-- bench:start {name} (agentnas bench readme --section {name}; "
        "do not edit by hand) -->",
        f"<!-- bench:end {name} -->",
    )


def section(out: Path, name: str = "", per_device: bool = False) -> str:
    """The command, the per-device HV table and the comparisons against ``agent``:
    pooled over devices, or every row with ``per_device``."""
    path = Path(out) / "results.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}; run agentnas bench search") from None
    blocks = text.split("\n## ")
    command = next((ln for ln in text.splitlines() if ln.startswith("Command: ")), "")
    refs = [ln for ln in text.splitlines() if ln.startswith("- ")]
    hv = next((b for b in blocks if b.startswith("HV ratio per device")), "")
    cmp_ = next((b for b in blocks if b.startswith("Each method against")), "")
    table = [ln for ln in cmp_.splitlines() if ln.startswith("|")]
    header = table[:2]
    pooled = table[2:] if per_device else [ln for ln in table[2:] if "| all |" in ln]
    start, end = markers(name)
    return "\n".join(
        [
            start,
            f"{command.removeprefix('Command: ')}",
            "",
            f"(every table, IGD and the plots: `{path.parent.name}/results.md`, `hv_*.png`)",
            "",
            "Reference fronts: " + "; ".join(r[2:] for r in refs) + ".",
            "",
            *[ln for ln in hv.splitlines()[1:] if ln.startswith("|")],
            "",
            "Against `agent` (same budget and seeds, "
            + ("per device and pooled" if per_device else "pooled over devices")
            + "; Δ < 0: worse; Wilcoxon signed-rank):",
            "",
            *header,
            *pooled,
            end,
        ]
    )


def update(readme: Path, out: Path, name: str = "", per_device: bool = False) -> None:
    """Replace the marked section of ``readme`` (append it if the markers are missing)."""
    text = readme.read_text(encoding="utf-8")
    new = section(out, name, per_device)
    start, end = markers(name)
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + new + tail
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    readme.write_text(text, encoding="utf-8")
