"""The README's results section, produced from a bench's output folder.

The section sits between two markers in README.md and is replaced whole, so the figures
a reader sees are always a bench's own output, with the command that made them.
"""

from __future__ import annotations

from pathlib import Path

from agentnas.tools.errors import UserError

START = "<!-- bench:start (agentnas bench readme; do not edit by hand) -->"
END = "<!-- bench:end -->"


def section(out: Path) -> str:
    """The command, the per-device HV table and the all-devices comparisons."""
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
    pooled = [ln for ln in cmp_.splitlines() if ln.startswith("|") and "| all |" in ln]
    header = [ln for ln in cmp_.splitlines() if ln.startswith("|")][:2]
    return "\n".join(
        [
            START,
            f"{command.removeprefix('Command: ')}",
            "",
            f"(every table, IGD and the plots: `{path.parent.name}/results.md`, `hv_*.png`)",
            "",
            "Reference fronts: " + "; ".join(r[2:] for r in refs) + ".",
            "",
            *[ln for ln in hv.splitlines()[1:] if ln.startswith("|")],
            "",
            "Against `agent` (same budget and seeds, pooled over devices; Δ < 0: worse; "
            "Wilcoxon signed-rank):",
            "",
            *header,
            *pooled,
            END,
        ]
    )


def update(readme: Path, out: Path) -> None:
    """Replace the marked section of ``readme`` (append it if the markers are missing)."""
    text = readme.read_text(encoding="utf-8")
    new = section(out)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + new + tail
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    readme.write_text(text, encoding="utf-8")
