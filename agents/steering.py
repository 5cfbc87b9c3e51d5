"""Conversational steering: what a user may ask of a running search, as typed commands,
and the steering agent that turns a chat message into them.

The graph applies commands at round boundaries (``steer`` node); ``agentnas chat`` and
``agentnas steer`` (through ``RUN_DIR/steer.jsonl``) produce them with :func:`interpret`:
with an LLM, the model answers JSON ``{"commands": [...], "reply": "..."}`` (one repair
after an invalid answer, then the offline interpreter decides and the reply says so);
without one, the deterministic rule-based interpreter :func:`interpret_offline`
("offline policy (no LLM)") does. Only the command models are used by the graph.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agentnas.agents.llm import (
    OFFLINE_LABEL,
    LLMBackend,
    LLMBudgetExhausted,
    LLMCallFailed,
    answer_of,
    prompt_record,
)
from agentnas.agents.schemas import Attempt, CallKey
from agentnas.agents.structured import parse_answer, schema_text

SteerAction = Literal[
    "instruct",  # free text shown to every Designer from now on
    "focus",  # give these partitions the round's budget (empty list = all again)
    "add_heuristic",  # store a user heuristic in the knowledge base
    "extend_budget",  # more distinct evaluations
    "extend_rounds",  # more rounds
    "stop",  # finish after this round and write the report
    "continue",  # nothing to change
]


class SteerCommand(BaseModel):
    action: SteerAction
    text: str = ""
    partitions: list[int] = Field(default_factory=list)
    amount: int = Field(default=0, ge=0)
    polarity: Literal["positive", "negative"] = "positive"


# ---------------------------------------------------------------- the steering agent


class SteerPartition(BaseModel):
    """A partition as the user sees it: cells whose ``feature`` lies in [low, high]."""

    id: int
    feature: str
    low: float
    high: float
    size: int = 0


class SteerContext(BaseModel):
    """What the steering agent knows about the run at a round boundary."""

    round: int = 0
    space: str = ""
    hardware: str = ""
    objectives: list[str] = Field(default_factory=list)
    partitions: list[SteerPartition] = Field(default_factory=list)
    front: list[dict[str, Any]] = Field(default_factory=list)  # a few rows: arch + metrics
    budget: int = 0  # current limit (distinct evaluations, seeds included)
    rounds: int = 0  # current limit
    evaluations: int = 0  # so far
    heuristics: int = 0  # active heuristics in scope
    focus: list[int] = Field(default_factory=list)  # current focus (empty = all)


class SteerAttempt(Attempt):
    """An :class:`Attempt` of the steering role (the shared ``Role`` has no such value)."""

    role: Literal["steering"] = "steering"  # type: ignore[assignment]


class SteerResult(BaseModel):
    """``commands`` empty means nothing actionable was understood (the chat asks again);
    ``[continue]`` means the user wants the run to go on unchanged."""

    commands: list[SteerCommand]
    reply: str
    attempts: list[SteerAttempt] = Field(default_factory=list)
    label: str = OFFLINE_LABEL  # who decided: the model label or the offline policy
    fallback_used: bool = False


class SteerAnswer(BaseModel):
    """What the steering prompt asks an LLM for."""

    commands: list[SteerCommand] = Field(default_factory=list)
    reply: str = ""


STEER_SYSTEM = (
    "You are the steering assistant of a running hardware-aware neural architecture search. "
    "The user talks to you between rounds; you turn what they say into typed commands that "
    "the search applies at the next round boundary, and you reply in one or two sentences "
    "saying what will change. Answer with one JSON object only."
)

_ACTIONS_HELP = (
    "Actions: instruct (text: free advice shown to every Designer from now on); focus "
    "(partitions: ids that get the budget from now on; [] = all partitions again); "
    "add_heuristic (text: a design rule stored in the knowledge base; polarity 'negative' "
    "when it says what to avoid; partitions: [id] to scope it to one partition, else []); "
    "extend_budget (amount: extra distinct evaluations, > 0); extend_rounds (amount: extra "
    "rounds, > 0); stop (finish now and write the report); continue (no change). "
    "Partitions are ordered by complexity: 'low latency', 'small', 'cheap' mean the "
    "lowest-complexity partitions, 'high accuracy', 'large' the highest. Use several "
    "commands when the user asks for several things; never invent partition ids."
)


def _context_text(ctx: SteerContext) -> str:
    parts = "\n".join(
        f"- partition {p.id}: {p.feature} in [{p.low:g}, {p.high:g}] ({p.size} cells)"
        for p in ctx.partitions
    )
    front = "\n".join(
        "- "
        + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())
        for r in ctx.front
    )
    return (
        f"Search space {ctx.space or '?'} on {ctx.hardware or '?'}; objectives: "
        f"{', '.join(ctx.objectives) or '?'}.\n"
        f"Round {ctx.round} just finished: {ctx.evaluations} of {ctx.budget} evaluations "
        f"used, {ctx.rounds} rounds planned, {ctx.heuristics} heuristics in the knowledge "
        f"base, focus: {ctx.focus or 'all partitions'}.\n"
        f"Partitions:\n{parts or '(none)'}\nSome Pareto-front members:\n{front or '(none)'}"
    )


def steer_prompt(message: str, ctx: SteerContext) -> str:
    return (
        f"{_context_text(ctx)}\n{_ACTIONS_HELP}\n"
        f"The user says: {message!r}\n"
        f"Answer schema: {schema_text(SteerAnswer)}"
    )


def check_commands(commands: list[SteerCommand], ctx: SteerContext) -> list[str]:
    """Why a list of commands cannot be applied (empty when it can)."""
    ids = {p.id for p in ctx.partitions}
    errors = []
    for c in commands:
        if c.action == "focus" and ids and not set(c.partitions) <= ids:
            bad = sorted(set(c.partitions) - ids)
            errors.append(f"focus names partitions {bad} that do not exist (ids: {sorted(ids)})")
        if c.action in ("extend_budget", "extend_rounds") and c.amount <= 0:
            errors.append(f"{c.action} needs an amount > 0")
        if c.action in ("instruct", "add_heuristic") and not c.text.strip():
            errors.append(f"{c.action} needs a non-empty text")
    return errors


def _partition_name(p: SteerPartition | None, i: int) -> str:
    if p is None:
        return f"p{i}"
    values = f"{p.low:g}" if p.low == p.high else f"{p.low:g}–{p.high:g}"
    return f"p{i} ({p.feature} {values})"


def describe(commands: list[SteerCommand], ctx: SteerContext) -> list[str]:
    """One line per command saying what will change at the next round boundary."""
    budget, rounds = ctx.budget, ctx.rounds
    by_id = {p.id: p for p in ctx.partitions}
    lines = []
    for c in commands:
        if c.action == "extend_budget":
            lines.append(f"budget +{c.amount} evaluations ({budget} → {budget + c.amount})")
            budget += c.amount
        elif c.action == "extend_rounds":
            lines.append(f"rounds +{c.amount} ({rounds} → {rounds + c.amount})")
            rounds += c.amount
        elif c.action == "focus" and not c.partitions:
            lines.append("focus cleared: every partition gets budget again")
        elif c.action == "focus":
            names = ", ".join(_partition_name(by_id.get(i), i) for i in c.partitions)
            lines.append(f"from now on the budget goes only to {names}")
        elif c.action == "add_heuristic":
            scope = f", partition {c.partitions[0]}" if len(c.partitions) == 1 else ""
            lines.append(f"new user heuristic ({c.polarity}{scope}) in the KB: {c.text}")
        elif c.action == "instruct":
            lines.append(f"instruction to every Designer from now on: {c.text}")
        elif c.action == "stop":
            lines.append("stop: the run finishes at this boundary and writes its report")
        else:
            lines.append("no change: the run continues")
    return lines


# ---------------------------------------------------------------- offline interpreter

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


def _offline_result(
    message: str, ctx: SteerContext, prefix: str = "", attempts: list[SteerAttempt] | None = None,
    attempt_offset: int = 0,
) -> SteerResult:  # fmt: skip
    commands, notes = interpret_offline(message, ctx)
    lines = describe(commands, ctx) + notes
    reply = prefix + ("; ".join(lines) or "nothing to apply")
    attempts = list(attempts or [])
    attempts.append(
        SteerAttempt(
            key=CallKey(node="steer", round=ctx.round, attempt=attempt_offset + len(attempts)),
            label=OFFLINE_LABEL,
            answer={"content": reply, "tool_calls": []},
            parsed={"commands": [c.model_dump(mode="json") for c in commands], "message": message},
        )
    )
    return SteerResult(
        commands=commands, reply=reply, attempts=attempts, label=OFFLINE_LABEL,
        fallback_used=bool(prefix),
    )  # fmt: skip


def interpret(
    message: str,
    context: SteerContext,
    llm: LLMBackend,
    *,
    max_repairs: int = 1,
    attempt_offset: int = 0,
) -> SteerResult:
    """Turn one chat message into steering commands (see the section comment above).
    ``attempt_offset`` numbers the calls of several messages in one round distinctly, so a
    replay of the trace answers each one."""
    if not llm.is_llm:
        return _offline_result(message, context, attempt_offset=attempt_offset)
    from agentnas.agents.prompts import repair_message

    messages: list[Any] = [
        SystemMessage(STEER_SYSTEM),
        HumanMessage(steer_prompt(message, context)),
    ]
    attempts: list[SteerAttempt] = []
    reason = "no answer"
    for i in range(max_repairs + 1):
        key = CallKey(node="steer", round=context.round, attempt=attempt_offset + i)
        att = SteerAttempt(key=key, label=llm.label, prompt=prompt_record(messages))
        attempts.append(att)
        t0 = time.perf_counter()
        p0, c0 = llm.prompt_tokens, llm.completion_tokens
        try:
            answer_msg = llm.invoke(messages, key=key)
        except (LLMCallFailed, LLMBudgetExhausted) as exc:
            att.errors.append(f"{type(exc).__name__}: {exc}")
            att.seconds = time.perf_counter() - t0
            reason = f"LLM call failed: {exc}"
            break
        att.seconds = time.perf_counter() - t0
        att.prompt_tokens = llm.prompt_tokens - p0
        att.completion_tokens = llm.completion_tokens - c0
        att.answer = answer_of(answer_msg)
        att.llm_calls.append({**key.model_dump(), "answer": att.answer, "llm": llm.label})
        parsed, errors = parse_answer(
            answer_msg, SteerAnswer, list_field="commands", tool_name="steer"
        )
        if parsed is not None:
            att.parsed = parsed.model_dump(mode="json")
            errors = check_commands(parsed.commands, context) or (
                [] if parsed.commands else ["commands is empty; use [{'action': 'continue'}]"]
            )
        if parsed is not None and not errors:
            lines = describe(parsed.commands, context)
            reply = parsed.reply.strip() or "; ".join(lines)
            return SteerResult(
                commands=parsed.commands, reply=reply, attempts=attempts, label=llm.label
            )
        att.errors.extend(errors)
        reason = "; ".join(errors)
        messages = [*messages, answer_msg, HumanMessage(repair_message(errors, what="answer"))]
    prefix = f"{llm.label} gave no usable answer ({reason[:160]}); {OFFLINE_LABEL} decided: "
    return _offline_result(message, context, prefix, attempts, attempt_offset)
