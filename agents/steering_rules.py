"""The rule-based steering interpreter ("offline policy (no LLM)"): a chat message →
steering commands, deterministically, with regular expressions.

Used by :func:`agentnas.agents.steering.interpret` when there is no LLM, and as its
fallback after the model's answers were unusable. See :func:`interpret_offline` for the
phrase families it understands.
"""

from __future__ import annotations

import re

from agentnas.agents.steering_commands import SteerCommand, SteerContext

_NUM = r"(?<![\w.])(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred)\b"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_WORDS |= {"eight": 8, "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "hundred": 100}
_NOUNS = {
    "budget": r"(?:evaluations?|evals?|architectures?|archs?|candidates?|budget)",
    "rounds": r"(?:rounds?|iterations?|generations?)",
}
_EXT = {
    kind: re.compile(
        rf"{_NUM}\s+(?:more\s+|extra\s+|additional\s+|new\s+|further\s+)?{noun}\b"
        rf"|{noun}\s*(?:(?P<to>to)\s+|by\s+|of\s+|\+\s*)?{_NUM}"
        rf"|\b(?:another|one\s+more|an?\s+(?:extra|additional|further))\s+{noun}\b",
        re.I,
    )
    for kind, noun in _NOUNS.items()
}
_INCREASE = re.compile(
    r"\+|\b(?:add|more|extra|additional|another|extend|increase|raise|give|bump|allow|plus)\b",
    re.I,
)
_CLAUSES = re.compile(
    r"\s*(?:;|\n|(?<=[.!?])\s+|,?\s+then\s+|,\s*and\s+|\s+and\s+also\s+|,\s*also\s+)\s*", re.I
)
_FILLER_WORDS = (
    "add give it me us more extra another extend increase raise bump the by and please "
    "also with plus of a an to let's lets do run let for budget rounds round evaluations "
    "then ok okay so just search allow set"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_CONTINUE = {"", "go", "go on", "continue", "next", "keep going", "carry on", "proceed", "ok",
             "okay", "yes", "y", "resume", "run", "c", "go ahead", "next round"}  # fmt: skip
_STOP = re.compile(
    r"^(?:please\s+)?(?:stop|finish|halt|end|quit|terminate|wrap(?:\s+it)?\s+up|"
    r"(?:that'?s\s+)?enough)\b(?!\s+(?:using|picking|choosing|adding|with))",
    re.I,
)
_RULE = re.compile(r"^\s*(?:rule|heuristic|hint|tip|lesson)\s*:\s*(.+)$", re.I | re.S)
_NEGATIVE_CUE = re.compile(
    r"\b(?:avoid|never|don'?t|do\s+not|stop\s+using|shouldn'?t|should\s+not|must\s+not)\b", re.I
)
_POSITIVE_CUE = re.compile(r"\b(?:prefer|always|favou?r)\b", re.I)
_NEGATIVE_TEXT = re.compile(
    r"\b(?:avoid|never|don'?t|do\s+not|not|no|shouldn'?t|without|hurts?|worse)\b", re.I
)
_ALL = re.compile(
    r"\b(?:all|every|each)\s+partitions?\b|\b(?:unfocus|no\s+focus|reset\s+(?:the\s+)?focus|"
    r"clear\s+(?:the\s+)?focus|everything|all\s+of\s+them)\b",
    re.I,
)
_FOCUS_VERB = re.compile(
    r"\b(?:focus|concentrate|only|restrict|zoom|spend|prioriti[sz]e|explore|search)\b", re.I
)
_LOW = re.compile(
    r"\b(?:low[- ](?:latency|energy|power|cost|complexity)|small(?:er|est)?|cheap(?:er|est)?|"
    r"fast(?:er|est)?|light(?:weight)?|tiny|efficient)\b",
    re.I,
)
_HIGH = re.compile(
    r"\b(?:(?:high(?:er)?|more|most|better|best|max(?:imum)?)[- ]accura(?:te|cy)|accurate|"
    r"large(?:r|st)?|big(?:ger|gest)?|high[- ]complexity|heav(?:y|ier|iest)|deep(?:er|est)?)\b",
    re.I,
)
_KINDS = re.compile(r"\b(?:networks?|cells?|models?|architectures?|archs?|ones|designs?)\b")
_PART_WORD = re.compile(r"\b(?:partitions?|parts?)\b", re.I)
_P_ID = re.compile(r"\bp(\d+)\b", re.I)
_RANGE = re.compile(r"(?<![\w.])(\d+)\s*(?:-|–|to|\.\.)\s*(\d+)(?![\w.])", re.I)
_INT = re.compile(r"(?<![\w.])(\d+)(?![\w.])")


def _num(text: str | None) -> int:
    if not text:
        return 1  # "another round"
    return int(text) if text.isdigit() else _WORDS[text.lower()]


def _partition_ids(text: str) -> list[int]:
    """Ids written as ``p3`` or after the word partition(s): "partitions 4 and 5", "1-3"."""
    ids = [int(m) for m in _P_ID.findall(text)]
    word = _PART_WORD.search(text)
    if word:
        tail = text[word.end() :]
        for a, b in _RANGE.findall(tail):
            ids += list(range(int(a), int(b) + 1))
        ids += [int(m) for m in _INT.findall(_RANGE.sub(" ", tail))]
    return sorted(set(ids))


def _by_complexity(ctx: SteerContext, end: str) -> list[int]:
    """The lowest (``end="low"``) or highest third of the partitions by feature range."""
    ordered = sorted(ctx.partitions, key=lambda p: (p.low, p.high))
    k = max(1, round(len(ordered) / 3))
    chosen = ordered[:k] if end == "low" else ordered[-k:]
    return sorted(p.id for p in chosen)


def _extensions(clause: str, ctx: SteerContext) -> tuple[list[SteerCommand], str, list[str]]:
    """Budget/round extensions in a clause, the clause without them, and notes."""
    commands: list[SteerCommand] = []
    notes: list[str] = []
    limits = {"budget": ctx.budget, "rounds": ctx.rounds}
    spans = []
    for kind, pattern in _EXT.items():
        for m in pattern.finditer(clause):
            numbers = [g for g in m.groups() if g and g.lower() != "to"]
            amount = _num(numbers[0] if numbers else None)
            if m.group("to"):
                target = amount
                amount = target - limits[kind]
                if amount <= 0:
                    notes.append(
                        f"{kind} is already {limits[kind]}; it can only grow (say 'stop' to end)"
                    )
                    spans.append(m.span())
                    continue
            elif not _INCREASE.search(clause):
                continue
            action = "extend_budget" if kind == "budget" else "extend_rounds"
            commands.append(SteerCommand(action=action, amount=amount))
            limits[kind] += amount
            spans.append(m.span())
    rest = clause
    for a, b in sorted(spans, reverse=True):
        rest = rest[:a] + " " + rest[b:]
    return commands, _trim_connectors(rest) if spans else rest, notes


def _trim_connectors(text: str) -> str:
    """What is left of a clause once its extensions are cut out, without the dangling
    words around them: "add ⟨…⟩ and avoid pooling" → "avoid pooling"."""
    words = text.split()
    cut = 0
    for i, w in enumerate(words):
        if w.lower().strip(",") not in _FILLER:
            break
        if w.lower().strip(",") in ("and", "also", "then", "plus") or w.endswith(","):
            cut = i + 1
    words = words[cut:]
    while words and words[-1].lower().strip(",") in _FILLER:
        words.pop()
    return " ".join(words)


def _classify(clause: str, ctx: SteerContext) -> tuple[list[SteerCommand], list[str]]:
    """One clause without budget/round numbers → commands and notes."""
    text = clause.strip(" \t,.;:!?")
    low = re.sub(r"\s+", " ", text.lower())
    if low in _CONTINUE or (low.startswith("please ") and low[7:] in _CONTINUE):
        return [SteerCommand(action="continue")], []
    ids = {p.id for p in ctx.partitions}
    rule = _RULE.match(text)
    if rule or _NEGATIVE_CUE.search(text) or _POSITIVE_CUE.search(text):
        body = rule.group(1).strip() if rule else text
        negative = _NEGATIVE_TEXT.search(body) if rule else _NEGATIVE_CUE.search(body)
        scope = [i for i in _partition_ids(body) if i in ids][:1]
        return [
            SteerCommand(
                action="add_heuristic",
                text=body,
                polarity="negative" if negative else "positive",
                partitions=scope if len(_partition_ids(body)) == 1 else [],
            )
        ], []
    if _STOP.match(text):
        return [SteerCommand(action="stop")], []
    named = _partition_ids(text)
    lo, hi = _LOW.search(text), _HIGH.search(text)
    if _ALL.search(text) and (_FOCUS_VERB.search(text) or _PART_WORD.search(text)):
        return [SteerCommand(action="focus", partitions=[])], []
    if named:
        known = [i for i in named if i in ids] if ids else named
        notes = [f"no partition {i} (ids: {sorted(ids)})" for i in named if i not in known]
        return ([SteerCommand(action="focus", partitions=known)] if known else []), notes
    bare = _only_filler(_KINDS.sub(" ", (_LOW if lo else _HIGH).sub(" ", low)))
    if (lo or hi) and not (lo and hi) and ctx.partitions and (_FOCUS_VERB.search(text) or bare):
        return [
            SteerCommand(action="focus", partitions=_by_complexity(ctx, "low" if lo else "high"))
        ], []
    if not _only_filler(low):
        return [SteerCommand(action="instruct", text=text)], []
    return [], []


def _only_filler(text: str) -> bool:
    return set(text.lower().strip(" ,.;:!?").split()) <= _FILLER


def interpret_offline(message: str, ctx: SteerContext) -> tuple[list[SteerCommand], list[str]]:
    """The deterministic rule-based interpreter ("offline policy (no LLM)").

    The message is split into clauses (``;``, sentence ends, "then", ", and", "also");
    each clause yields budget/round extensions ("add 50 evaluations", "2 more rounds",
    "budget to 200") and then at most one of: continue, add_heuristic ("rule: …",
    "avoid …", "never …", "prefer …"), stop, focus (partition ids, "all partitions",
    "low latency"/"small"/"cheap" → the lowest-complexity third of the partitions,
    "high accuracy"/"large" → the highest third) or instruct (anything else).
    Returns the commands (``[]`` = nothing actionable) and notes for the reply.
    """
    commands: list[SteerCommand] = []
    notes: list[str] = []
    for clause in _CLAUSES.split(message.strip()):
        if _RULE.match(clause):
            found, more = _classify(clause, ctx)
        else:
            ext, rest, more = _extensions(clause, ctx)
            commands += ext
            notes += more
            consumed = ext or more
            found, more = ([], []) if consumed and _only_filler(rest) else _classify(rest, ctx)
        commands += found
        notes += more
    if len(commands) > 1:
        commands = [c for c in commands if c.action != "continue"] or commands[:1]
    if not commands and not notes:
        commands = [SteerCommand(action="continue")]
    return commands, notes
