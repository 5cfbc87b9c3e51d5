"""The rule-based steering parser ("offline policy (no LLM)"): a chat message → typed
steering actions (:mod:`agentnas.agents.steering_commands`), deterministically.

Used by :func:`agentnas.agents.steering.interpret` when there is no LLM, and as its
fallback after the model's answers were unusable. See :func:`interpret_offline` for the
phrase families and slash forms it understands. What it does not understand it says so,
with the closest forms it does: nothing is ever kept as a free-text instruction.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from agentnas.agents.steering_commands import (
    AddHeuristic,
    Avoid,
    ClearConstraint,
    ClearRules,
    Constrain,
    Continue,
    EditHeuristic,
    ExtendBudget,
    ExtendRounds,
    Focus,
    Freeze,
    Pause,
    Prefer,
    Question,
    Resume,
    RetireHeuristic,
    SteerContext,
    Stop,
    Unfreeze,
)

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
    r"\s*(?:;|\n|(?<=[.!])\s+|,?\s+then\s+|,\s*and\s+|\s+and\s+also\s+|,\s*also\s+)\s*", re.I
)
_FILLER_WORDS = (
    "add give it me us more extra another extend increase raise bump the by and please "
    "also with plus of a an to let's lets do run let for budget rounds round evaluations "
    "then ok okay so just search allow set"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_CONTINUE = {"", "go", "go on", "continue", "next", "keep going", "carry on", "proceed", "ok",
             "okay", "yes", "y", "run", "c", "go ahead", "next round"}  # fmt: skip
_STOP = re.compile(
    r"^(?:please\s+)?(?:stop|finish|halt|end|quit|terminate|wrap(?:\s+it)?\s+up|"
    r"(?:that'?s\s+)?enough)\b(?!\s+(?:using|picking|choosing|adding|with|searching))",
    re.I,
)
_PAUSE = re.compile(
    r"^(?:please\s+)?(?:pause|hold(?:\s+on)?|wait)(?:\s+(?:the\s+)?(?:run|search|here|now))?$", re.I
)
_RESUME = re.compile(r"^(?:please\s+)?(?:resume|unpause)(?:\s+(?:the\s+)?(?:run|search))?$", re.I)
_RULE = re.compile(r"^\s*(?:rule|heuristic|hint|tip|lesson)\s*:\s*(.+)$", re.I | re.S)
_NEGATIVE_CUE = re.compile(
    r"\b(?:avoid|never|don'?t|do\s+not|stop\s+using|shouldn'?t|should\s+not|must\s+not|"
    r"no|without|ban|forbid|get\s+rid\s+of|fewer)\b",
    re.I,
)
_HEURISTIC_CUE = re.compile(
    r"\b(?:avoid|never|don'?t|do\s+not|stop\s+using|shouldn'?t|should\s+not|must\s+not|"
    r"prefer|always|favou?r)\b",
    re.I,
)
_POSITIVE_CUE = re.compile(r"\b(?:prefer|always|favou?r|use\s+more|more)\b", re.I)
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
_FREEZE = re.compile(r"^(?:please\s+)?(?:freeze|lock|skip|leave\s+out|ignore)\b", re.I)
_UNFREEZE = re.compile(r"^(?:please\s+)?(?:unfreeze|unlock|thaw|reopen)\b", re.I)
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

# ---------------------------------------------------------------- constraints

_METRIC_WORDS = {
    "latency_ms": r"latency_ms|latency|latencies|delay|inference\s+time|run\s*time|speed",
    "energy_mj": r"energy_mj|energy|power|consumption",
    "accuracy": r"accuracy|acc|top-?1",
    "params_m": r"params_m|params|parameters|parameter\s+count|model\s+size",
    "flops_m": r"flops_m|flops|macs|mults?",
    "mzi_count": r"mzi_count|mzis?|mzi\s+count",
}
_UNIT_SCALE = {  # unit -> (metric, factor to the metric's own unit)
    "ms": ("latency_ms", 1.0), "msec": ("latency_ms", 1.0), "milliseconds": ("latency_ms", 1.0),
    "s": ("latency_ms", 1000.0), "sec": ("latency_ms", 1000.0), "seconds": ("latency_ms", 1000.0),
    "us": ("latency_ms", 1e-3), "µs": ("latency_ms", 1e-3), "microseconds": ("latency_ms", 1e-3),
    "mj": ("energy_mj", 1.0), "millijoules": ("energy_mj", 1.0), "j": ("energy_mj", 1000.0),
    "joules": ("energy_mj", 1000.0), "uj": ("energy_mj", 1e-3), "µj": ("energy_mj", 1e-3),
    "%": ("accuracy", 1.0), "percent": ("accuracy", 1.0),
}  # fmt: skip
_UNIT = (
    r"(?P<unit>ms|msec|milliseconds|seconds|sec|s|us|µs|microseconds|mj|millijoules|joules|j|"
    r"uj|µj|%|percent)?"
)
_CMP_WORDS = [
    (r"<=|=<|≤|at\s+most|no\s+more\s+than|not\s+more\s+than|not\s+above|up\s+to|"
     r"max(?:imum)?(?:\s+of)?|within", "<="),
    (r">=|=>|≥|at\s+least|no\s+less\s+than|not\s+less\s+than|not\s+below|"
     r"min(?:imum)?(?:\s+of)?", ">="),
    (r"<|under|below|less\s+than|lower\s+than|smaller\s+than|faster\s+than|beneath", "<"),
    (r">|over|above|more\s+than|greater\s+than|higher\s+than|better\s+than|exceeding", ">"),
]  # fmt: skip
_CMP = "|".join(f"(?P<c{i}>{w})" for i, (w, _) in enumerate(_CMP_WORDS))
_METRIC = "|".join(f"(?P<m_{m}>{w})" for m, w in _METRIC_WORDS.items())
_VALUE = r"(?P<value>\d+(?:\.\d+)?|\.\d+)\s*" + _UNIT + r"(?![\w])"
_CONSTRAINT = re.compile(rf"(?:\b(?:{_METRIC})\b(?:\s+\w+){{0,3}}?\s*)?(?:{_CMP})\s*{_VALUE}", re.I)
_METRIC_AFTER = re.compile(rf"^\s*(?:of\s+)?(?:{_METRIC})\b", re.I)
_CLEAR_CONSTRAINT = re.compile(
    r"\b(?:clear|remove|drop|lift|forget|cancel|delete|no\s+more)\b.*\b(?:constraints?|limits?|bounds?|caps?)\b",
    re.I,
)
_METRIC_ANY = re.compile(rf"\b(?:{_METRIC})\b", re.I)


def _metric_of(m: re.Match[str]) -> str | None:
    for name in _METRIC_WORDS:
        if m.groupdict().get(f"m_{name}"):
            return name
    return None


def _comparison(m: re.Match[str]) -> str:
    return next(op for i, (_, op) in enumerate(_CMP_WORDS) if m.group(f"c{i}"))


def _constraint(clause: str, ctx: SteerContext) -> tuple[list[Any], list[str]] | None:
    """``latency under 3 ms`` / ``energy_mj <= 5`` / ``accuracy at least 93 %`` (units
    converted to the metric's own), or None when the clause holds no bound."""
    m = _CONSTRAINT.search(clause)
    if not m:
        return None
    metric = _metric_of(m)
    if metric is None:  # "keep it below 3 ms latency"
        after = _METRIC_AFTER.search(clause[m.end() :])
        metric = _metric_of(after) if after else None
    value = float(m.group("value"))
    unit = (m.group("unit") or "").lower()
    if unit:
        u_metric, factor = _UNIT_SCALE[unit]
        if metric is None:
            metric = u_metric
        if metric != u_metric:
            return [], [f"'{unit}' is not a unit of {metric}"]
        value *= factor
    if metric is None:
        return None
    if metric == "accuracy" and not unit and value <= 1.0 and _accuracy_in_percent(ctx):
        value *= 100.0  # "accuracy >= 0.93" on a run that reports %
    return [Constrain(metric=metric, op=_comparison(m), value=value, text=clause)], []


def _accuracy_in_percent(ctx: SteerContext) -> bool:
    rng = ctx.metrics.get("accuracy")
    return rng is None or rng.high > 1.0


def _clear_constraint(clause: str) -> list[Any] | None:
    if not _CLEAR_CONSTRAINT.search(clause):
        return None
    m = _METRIC_ANY.search(clause)
    return [ClearConstraint(metric=_metric_of(m) if m else None)]


# ---------------------------------------------------------------- operation rules

_OP_SYNONYMS = {
    "avg_pool_3x3": (
        r"avg[\s_-]*pool(?:s|ing)?(?:[\s_-]*3x3)?|average[\s-]*pool(?:s|ing)?|pool(?:s|ing)?"
    ),
    "nor_conv_3x3": r"(?:nor[\s_]*)?conv(?:olution)?s?[\s_-]*3x3|3x3[\s_-]*conv(?:olution)?s?",
    "nor_conv_1x1": r"(?:nor[\s_]*)?conv(?:olution)?s?[\s_-]*1x1|1x1[\s_-]*conv(?:olution)?s?",
    "skip_connect": r"skip[\s_-]*connect(?:ions?|s)?|skips?|identity|identities",
    "none": r"none|zero[\s-]*ops?|zero\s+edges?|empty\s+edges?",
}
_OUTPUT = re.compile(
    r"\b(?:near|at|close\s+to|next\s+to|by|into|before|on)\s+the\s+(?:output|last\s+node|final\s+node)"
    r"(?:\s+node)?\b|\bnear\s+output\b|\boutput\s+edges?\b",
    re.I,
)
_INPUT = re.compile(
    r"\b(?:near|at|close\s+to|from|on)\s+the\s+input(?:\s+node)?\b|\binput\s+edges?\b", re.I
)
_LAST_EDGE = re.compile(r"\b(?:in|on|at)\s+the\s+last\s+edge\b", re.I)
_EDGE = re.compile(r"\be?(\d)\s*<-\s*(\d)\b")
_EDGE_WORDS = re.compile(r"\b(?:on|at|in)?\s*(?:edges?|the\s+edges?)\b", re.I)
_RULE_FILLER = frozenset(
    [
        "avoid",
        "never",
        "don't",
        "dont",
        "do",
        "not",
        "use",
        "using",
        "stop",
        "no",
        "without",
        "ban",
        "forbid",
        "get",
        "rid",
        "of",
        "fewer",
        "prefer",
        "always",
        "favour",
        "favor",
        "more",
        "any",
        "the",
        "a",
        "an",
        "please",
        "cells",
        "cell",
        "in",
        "on",
        "at",
        "edge",
        "edges",
        "put",
        "place",
        "all",
        "and",
        "any",
        "of",
        "ones",
        # what a photonic-mlp choice is ("no tanh activations", "prefer the reck mesh")
        "activation",
        "activations",
        "mesh",
        "meshes",
        "layer",
        "layers",
    ]
)


_OP_LIKE = re.compile(r"(?<![\w<-])[a-z]+(?:_[a-z0-9]+)+(?![\w])")


def _op_pattern(op: str) -> str:
    return _OP_SYNONYMS.get(op, re.escape(op))


def _ops_named(clause: str, ctx: SteerContext) -> list[tuple[str, tuple[int, int]]]:
    found = []
    taken: list[tuple[int, int]] = []
    ops = ctx.operations or list(_OP_SYNONYMS)
    for op in sorted(ops, key=len, reverse=True):  # longer names first ("nor_conv_3x3")
        for m in re.finditer(
            rf"(?<![\w])(?:{re.escape(op)}|{_op_pattern(op)})(?![\w])", clause, re.I
        ):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                found.append((op, m.span()))
                taken.append(m.span())
    return found


def _edges(clause: str, ctx: SteerContext) -> tuple[list[str], str]:
    """Edge labels a clause names, and the clause without them."""
    edges: list[str] = []
    rest = clause
    out = ctx.output_edges or ["3<-0", "3<-1", "3<-2"]
    for pattern, names in (
        (_OUTPUT, out),
        (
            _INPUT,
            ctx.input_edges
            or [e for e in ctx.edges or ["1<-0", "2<-0", "3<-0"] if e.endswith("<-0")],
        ),
        (_LAST_EDGE, [(ctx.edges or ["3<-2"])[-1]]),
    ):
        if pattern.search(rest):
            edges += names
            rest = pattern.sub(" ", rest)
    for a, b in _EDGE.findall(rest):
        edges.append(f"{a}<-{b}")
    rest = _EDGE.sub(" ", rest)
    return sorted(set(edges), key=edges.index), rest


_SOFT = re.compile(
    r"\b(?:(?:where|when|if)\s+(?:possible|you\s+can)|ideally|softly|if\s+it\s+helps)\b", re.I
)


def _op_rule(clause: str, ctx: SteerContext) -> list[Any] | None:
    """``avoid avg_pool_3x3 near the output`` / ``no avg pools`` / ``prefer 3x3 convs on
    edge 3<-2``: one operation, a cue and (optionally) where; anything more is a
    heuristic in words (None here). With "where possible" / "ideally" the rule is soft:
    a user heuristic in the KB (on one NB201 edge with the rule tag the offline policy
    weighs edits with), not a hard rule."""
    soft = _SOFT.search(clause)
    if soft:
        hard = _op_rule(clause[: soft.start()] + " " + clause[soft.end() :], ctx)
        if not hard or hard[0].action not in ("avoid", "prefer"):
            return hard
        r = hard[0]
        one_edge = len(r.edges) == 1 and "<-" in r.edges[0]
        tag = f" [rule p*: e{r.edges[0]}={r.op}]" if one_edge else ""
        polarity = "negative" if r.action == "avoid" else "positive"
        return [AddHeuristic(text=f"{clause.strip()}{tag}", polarity=polarity)]
    named = _ops_named(clause, ctx)
    negative, positive = _NEGATIVE_CUE.search(clause), _POSITIVE_CUE.search(clause)
    if not negative and not positive:
        return None
    if not named:  # "avoid max_pool": an operation name the space lacks, refused by the check
        m = _OP_LIKE.search(clause)
        if m is None:
            return None
        named = [(m.group(0), m.span())]
    if len(named) != 1:
        return None
    op, (a, b) = named[0]
    edges, rest = _edges(clause[:a] + " " + clause[b:], ctx)
    leftover = [w for w in re.findall(r"[\w']+", rest.lower()) if w not in _RULE_FILLER]
    if leftover:
        return None
    action = Avoid if negative else Prefer
    return [action(op=op, edges=edges, text=clause)]


# ---------------------------------------------------------------- questions

_QUESTION = re.compile(
    r"^(?:why|what|which|how|who|when|where|explain|tell\s+me|show\s+me|describe|is|are|"
    r"does|did|was|were|has|have)\b",
    re.I,
)
_SMALL_TALK = re.compile(
    r"^(?:hi|hello|hey|yo|hiya|howdy|thanks?|thank\s+you|thx|ty|cheers|cool|nice|great|"
    r"awesome|lol|haha|hmm+|good\s+(?:morning|afternoon|evening|job)|well\s+done|bye|"
    r"how\s+are\s+you|how'?s\s+it\s+going|what'?s\s+up|sup|wow|oops|sorry)\b[\s\w,!.?']{0,20}$",
    re.I,
)
_CELL = re.compile(r"\|[^\s]+\|")
_TARGETS = (
    (re.compile(r"\b(?:front\s+(?:member|cell)?\s*#?|f)(\d+)\b", re.I), "f"),
    (re.compile(r"\b(?:partition|part|p)\s*#?(\d+)\b", re.I), "p"),
    (re.compile(r"\b(?:round|r)\s*#?(\d+)\b", re.I), "r"),
)


def question_target(text: str) -> str:
    """The TARGET a question is about: a cell string, ``fN``, ``pN``, ``rN``, or ""."""
    m = _CELL.search(text)
    if m:
        return m.group(0)
    for pattern, prefix in _TARGETS:
        m = pattern.search(text)
        if m:
            return f"{prefix}{int(m.group(1))}"
    return ""


def _is_question(text: str) -> bool:
    return bool(_QUESTION.match(text)) or text.rstrip().endswith("?")


# ---------------------------------------------------------------- budgets, focus


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


def _extensions(clause: str, ctx: SteerContext) -> tuple[list[Any], str, list[str]]:
    """Budget/round extensions in a clause, the clause without them, and notes."""
    commands: list[Any] = []
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
            action = ExtendBudget if kind == "budget" else ExtendRounds
            commands.append(action(amount=amount))
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


def _only_filler(text: str) -> bool:
    return set(text.lower().strip(" ,.;:!?").split()) <= _FILLER


def _heuristic(text: str, ctx: SteerContext) -> list[Any]:
    rule = _RULE.match(text)
    body = rule.group(1).strip() if rule else text
    negative = _NEGATIVE_TEXT.search(body) if rule else _NEGATIVE_CUE.search(body)
    ids = {p.id for p in ctx.partitions}
    named = _partition_ids(body)
    scope = [i for i in named if i in ids][:1] if len(named) == 1 else []
    return [
        AddHeuristic(text=body, polarity="negative" if negative else "positive", partitions=scope)
    ]


def _freeze(text: str, ctx: SteerContext) -> tuple[list[Any], list[str]] | None:
    unfreeze = _UNFREEZE.match(text)
    if not unfreeze and not _FREEZE.match(text):
        return None
    named = _partition_ids(text)
    if unfreeze:
        return [Unfreeze(partitions=named)], []
    if not named:
        return [], ["say which partitions to freeze, e.g. 'freeze p3' or 'freeze partitions 4 5'"]
    return [Freeze(partitions=named)], []


def _focus(text: str, low: str, ctx: SteerContext) -> tuple[list[Any], list[str]] | None:
    ids = {p.id for p in ctx.partitions}
    named = _partition_ids(text)
    if _ALL.search(text) and (_FOCUS_VERB.search(text) or _PART_WORD.search(text)):
        return [Focus(partitions=[])], []
    if named and (
        _FOCUS_VERB.search(text) or _only_filler(_P_ID.sub(" ", _PART_WORD.sub(" ", low)))
    ):
        known = [i for i in named if i in ids] if ids else named
        notes = [f"no partition {i} (ids: {sorted(ids)})" for i in named if i not in known]
        return ([Focus(partitions=known)] if known else []), notes
    lo, hi = _LOW.search(text), _HIGH.search(text)
    bare = _only_filler(_KINDS.sub(" ", (_LOW if lo else _HIGH).sub(" ", low)))
    if (lo or hi) and not (lo and hi) and ctx.partitions and (_FOCUS_VERB.search(text) or bare):
        return [Focus(partitions=_by_complexity(ctx, "low" if lo else "high"))], []
    return None


def _classify(clause: str, ctx: SteerContext) -> tuple[list[Any], list[str]] | None:
    """One clause without budget/round numbers → (actions, notes), or None when it is
    not understood."""
    text = clause.strip(" \t,.;:!")
    low = re.sub(r"\s+", " ", text.lower())
    if low in _CONTINUE or (low.startswith("please ") and low[7:] in _CONTINUE):
        return [Continue()], []
    if _PAUSE.match(text):
        return [Pause()], []
    if _RESUME.match(text):
        return [Resume()], []
    if _RULE.match(text):
        return _heuristic(text, ctx), []
    cleared = _clear_constraint(text)
    if cleared:
        return cleared, []
    bound = _constraint(text, ctx)
    if bound is not None:
        return bound
    rule = _op_rule(text, ctx)
    if rule:
        return rule, []
    if _HEURISTIC_CUE.search(text):
        return _heuristic(text, ctx), []
    if _STOP.match(text):
        return [Stop()], []
    for parse in (_freeze, lambda t, c: _focus(t, low, c)):
        found = parse(text, ctx)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- slash forms

SLASH_FORMS = (
    "/constraint latency < 3", "/constraint clear [METRIC]", "/avoid OP [near the output]",
    "/prefer OP [EDGE]", "/rules clear", "/focus p1 p2 | all", "/freeze p3", "/unfreeze [p3]",
    "/budget +50", "/rounds +2", "/pause", "/resume", "/stop", "/why TARGET",
    "/heuristic add TEXT", "/heuristic edit ID TEXT", "/heuristic rm ID",
)  # fmt: skip
EXAMPLES = (
    "keep latency under 3 ms", "energy below 5 mJ", "accuracy at least 93",
    "clear the latency constraint", "avoid avg_pool_3x3 near the output",
    "no avg pools near the output", "prefer nor_conv_3x3 on edge 3<-2",
    "focus on partitions 4 and 5", "focus on low latency", "freeze p3", "unfreeze p3",
    "add 50 evaluations", "2 more rounds", "pause", "resume", "stop",
    "why was |nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2| chosen?",
    "why is partition 5 slow?", "rule: skip_connect at the output cuts latency",
)  # fmt: skip


def closest_forms(text: str, n: int = 3) -> list[str]:
    """The understood forms nearest to ``text`` (for the "not understood" reply)."""
    pool = [*EXAMPLES, *SLASH_FORMS]
    found = difflib.get_close_matches(text.lower(), pool, n=n, cutoff=0.35)
    if text.startswith("/"):
        name = text.split()[0].lower()
        found = [f for f in SLASH_FORMS if f.startswith(name)][:n] or found
    return found or ["keep latency under 3 ms", "add 50 evaluations", "why is partition 2 slow?"]


def _amount(arg: str, current: int) -> int | None:
    m = re.fullmatch(r"\s*(\+)?\s*(\d+)\s*", arg)
    if not m:
        return None
    n = int(m.group(2))
    return n if m.group(1) else n - current


def _slash_limits(name: str, arg: str, ctx: SteerContext) -> tuple[list[Any], list[str]]:
    current = ctx.budget if name == "/budget" else ctx.rounds
    amount = _amount(arg, current)
    if amount is None:
        return [], [f"usage: {name} +N (N more) or {name} N (a new total above {current})"]
    if amount <= 0:
        return [], [f"{name[1:]} is already {current}; it can only grow (say 'stop' to end)"]
    return [(ExtendBudget if name == "/budget" else ExtendRounds)(amount=amount)], []


def _slash_heuristic(arg: str, ctx: SteerContext) -> tuple[list[Any], list[str]]:
    verb, _, rest = arg.strip().partition(" ")
    rest = rest.strip()
    usage = ["usage: /heuristic add TEXT | edit ID TEXT | rm ID | list"]
    if verb == "add" and rest:
        return _heuristic(rest, ctx), []
    if verb == "edit" and len(rest.split(maxsplit=1)) == 2:
        hid, text = rest.split(maxsplit=1)
        return [EditHeuristic(id=_full_id(hid, ctx), text=text)], []
    if verb in ("rm", "retire", "remove", "del") and rest:
        return [RetireHeuristic(id=_full_id(rest.split()[0], ctx))], []
    return [], usage


def _full_id(prefix: str, ctx: SteerContext) -> str:
    """A heuristic id from its first characters (the tables show 10)."""
    hits = [h for h in ctx.heuristic_ids if h.startswith(prefix)]
    return hits[0] if len(hits) == 1 else prefix


def _slash_rule(name: str, arg: str, ctx: SteerContext) -> tuple[list[Any], list[str]]:
    if name == "/rules":
        return (
            ([ClearRules()], []) if arg.strip() in ("clear", "") else ([], ["usage: /rules clear"])
        )
    verb = "avoid" if name == "/avoid" else "prefer"
    found = _op_rule(f"{verb} {arg}", ctx)
    if found:
        return found, []
    # no space known (an empty context): the operations the parser's synonyms name
    ops = ctx.operations or (list(_OP_SYNONYMS) if not ctx.space else [])
    if not ops:
        return [], [f"{ctx.space} has no operations a rule can name; say it as a heuristic "
                    f"instead (/heuristic add {verb} …)"]  # fmt: skip
    where = " | ".join(["near the output", "near the input", "EDGE"] if ctx.edges else [])
    return [], [f"usage: {name} OP [{where or 'near the output | EDGE'}], OP one of "
                f"{', '.join(ops)}; slots: {', '.join(ctx.edges) or '3<-0 … 1<-0'}"]  # fmt: skip


def _slash_partitions(name: str, arg: str, ctx: SteerContext) -> tuple[list[Any], list[str]]:
    ids = [int(x) for x in re.findall(r"\d+", arg)]
    if name == "/focus":
        return [Focus(partitions=[] if arg.strip() in ("", "all") else ids)], []
    if name == "/unfreeze":
        return [Unfreeze(partitions=ids)], []
    return ([Freeze(partitions=ids)], []) if ids else ([], ["usage: /freeze p3 [p4 …]"])


def parse_slash(line: str, ctx: SteerContext) -> tuple[list[Any], list[str]]:
    """Slash forms that are actions (``/constraint``, ``/budget``, ``/why``, …). The chat
    handles its read-only displays (``/front``, ``/status``, ``/help``, …) itself."""
    name, _, arg = line.strip().partition(" ")
    name = name.lower()
    if name == "/constraint":
        if arg.strip().lower().startswith(("clear", "rm", "remove", "none")):
            m = _METRIC_ANY.search(arg)
            return [ClearConstraint(metric=_metric_of(m) if m else None)], []
        found = _constraint(arg, ctx)
        if found is not None:
            return found
        return [], ["usage: /constraint METRIC < VALUE [UNIT], e.g. /constraint latency < 3"]
    if name == "/why":
        target = arg.strip()
        return ([Question(text=line.strip(), target=question_target(target) or target)], [])
    if name in ("/budget", "/rounds"):
        return _slash_limits(name, arg, ctx)
    if name in ("/avoid", "/prefer", "/rules"):
        return _slash_rule(name, arg, ctx)
    if name in ("/focus", "/freeze", "/unfreeze"):
        return _slash_partitions(name, arg, ctx)
    if name == "/heuristic":
        return _slash_heuristic(arg, ctx)
    simple = {"/pause": Pause, "/resume": Resume, "/stop": Stop, "/continue": Continue}
    if name in simple:
        return [simple[name]()], []
    return [], [not_understood(line)]


def not_understood(text: str) -> str:
    forms = "; ".join(f"'{f}'" for f in closest_forms(text))
    return f"not understood: {text.strip()[:80]!r}; nothing changed. Closest forms: {forms}"


# ---------------------------------------------------------------- entry point


def interpret_offline(message: str, ctx: SteerContext) -> tuple[list[Any], list[str]]:
    """The deterministic parser ("offline policy (no LLM)").

    Slash forms go to :func:`parse_slash`. A question (why/what/which/how…, or ending in
    ``?``) becomes one :class:`Question` with its TARGET (cell, fN, pN, rN); small talk
    gets a friendly note. Otherwise the message is split into clauses (``;``, sentence
    ends, "then", ", and", "also"); each clause yields budget/round extensions ("add 50
    evaluations", "2 more rounds", "budget to 200") and then at most one of: continue,
    pause, resume, a heuristic in words ("rule: …"), clear constraint, a constraint
    ("keep latency under 3 ms", "energy below 5 mJ", "accuracy >= 93"), an avoid/prefer
    rule on one operation ("no avg pools near the output"), a heuristic ("avoid deep
    stacks", "prefer 1x1 over 3x3"), stop, freeze/unfreeze, or focus (partition ids,
    "all partitions", "low latency" → the lowest-complexity third, "high accuracy" → the
    highest). A clause that fits none is "not understood": the reply lists the closest
    forms and nothing is applied. Returns (actions, notes); ``[]`` = nothing to apply.
    """
    text = message.strip()
    if text.startswith("/"):
        return parse_slash(text, ctx)
    if _SMALL_TALK.match(text):
        return [], ["hello: I steer this search (constraints, rules, focus, budget) and answer "
                    "questions about it; nothing changed. /help lists examples"]  # fmt: skip
    if _is_question(text):
        return [Question(text=text, target=question_target(text))], []
    commands: list[Any] = []
    notes: list[str] = []
    for clause in _CLAUSES.split(text):
        found = None
        if _RULE.match(clause):
            found = _classify(clause, ctx)
        else:
            ext, rest, more = _extensions(clause, ctx)
            commands += ext
            notes += more
            if (ext or more) and _only_filler(rest):
                continue
            found = _classify(rest, ctx)
        if found is None:
            notes.append(not_understood(clause))
            continue
        commands += found[0]
        notes += found[1]
    if len(commands) > 1:
        commands = [c for c in commands if c.action != "continue"] or commands[:1]
    if not commands and not notes:
        commands = [Continue()]
    return commands, notes
