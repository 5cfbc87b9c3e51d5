"""Reading a structured answer out of whatever a chat model sent back.

Structured output is asked for by prompting (the JSON schema is in the prompt) because that
works on every OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp); this module then
finds the JSON: in a tool call's arguments, inside a code fence, or embedded in prose, with
a few forgiving repairs (trailing commas, Python literals). Every failure is a short reason
string that goes back to the model verbatim.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from typing import Any, TypeVar

from langchain_core.messages import AIMessage
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON|javascript)?\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
MAX_ANSWER_CHARS = 200_000
"""Longer answers are refused unread (no useful structured answer is this long)."""
_MAX_EMBEDDED_STARTS = 64
"""Bound on the positions tried by the embedded-JSON scan, which keeps it linear in length."""
_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")
_REFUSAL = re.compile(
    r"\b(i can(?:no|')t|i cannot|i am unable|i'm unable|i won't|sorry|as an ai)\b", re.I
)


def message_text(message: AIMessage | str) -> str:
    """The text of a message; content blocks (list form) are joined."""
    if isinstance(message, str):
        return message
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def _loads(text: str) -> Any:
    """json.loads, then the same without trailing commas, then a Python literal."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _clean(value: Any) -> Any:
    """``value`` with lone surrogates and NUL bytes replaced in every string.

    JSON escapes such as ``\\ud800`` decode to strings that cannot be written as UTF-8;
    they would crash the trace and the checkpoint writers far from the parser.
    """
    if isinstance(value, str):
        return _UNWRITABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _embedded(text: str) -> list[Any]:
    """Every JSON object or array that starts somewhere in ``text`` (first ones first)."""
    found: list[Any] = []
    decoder = json.JSONDecoder()
    tried = 0
    for i, ch in enumerate(text):
        if ch not in "{[":
            continue
        tried += 1
        if tried > _MAX_EMBEDDED_STARTS:
            break
        try:
            value, _ = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict | list) and value:
            found.append(value)
            if isinstance(value, dict):
                break  # the first complete object is the answer; inner ones are parts of it
    return found


def extract_json(text: str) -> tuple[Any, str | None]:
    """The JSON value an answer contains (strings cleaned), or ``(None, reason)``.

    Never raises: an answer too long, too deeply nested or undecodable is a reason.
    """
    if len(text) > MAX_ANSWER_CHARS:
        digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
        return None, (
            f"the answer was {len(text)} characters long (limit {MAX_ANSWER_CHARS}, "
            f"sha256 {digest}); it was not read"
        )
    value, reason = _extract(text)
    return (_clean(value), None) if reason is None else (None, reason)


def _extract(text: str) -> tuple[Any, str | None]:
    stripped = text.strip()
    if not stripped:
        return None, "the answer was empty"
    candidates = [stripped] + [m.strip() for m in _FENCE.findall(text)]
    for c in candidates:
        value = _loads(c)
        if isinstance(value, dict | list):
            return value, None
    for c in candidates:
        embedded = _embedded(c)
        if embedded:
            return embedded[0], None
        # a fenced block with trailing commas: find the outermost braces and repair
        lo, hi = c.find("{"), c.rfind("}")
        if 0 <= lo < hi:
            value = _loads(c[lo : hi + 1])
            if isinstance(value, dict):
                return value, None
    if _REFUSAL.search(stripped[:300]):
        return None, f"the answer was a refusal, not JSON: {stripped[:120]!r}"
    return None, f"no JSON object found in the answer: {stripped[:120]!r}"


def parse_answer(
    message: AIMessage | str,
    schema: type[T],
    *,
    list_field: str | None = None,
    tool_name: str | None = None,
) -> tuple[T | None, list[str]]:
    """Parse ``message`` into ``schema``.

    A tool call named ``tool_name`` (or named like the schema) is read first: some servers
    answer structured requests that way. A bare JSON list is wrapped as ``{list_field: …}``.
    Returns the model and ``[]``, or ``None`` and the reasons.
    """
    names = {schema.__name__.lower(), (tool_name or "").lower()} - {""}
    payloads: list[Any] = []
    if isinstance(message, AIMessage):
        for call in message.tool_calls or []:
            if call.get("name", "").lower() in names:
                payloads.append(_clean(call.get("args") or {}))
    if not payloads:
        value, reason = extract_json(message_text(message))
        if reason:
            return None, [reason]
        payloads.append(value)
    errors: list[str] = []
    for value in payloads:
        if isinstance(value, list) and list_field:
            value = {list_field: value}
        if not isinstance(value, dict):
            errors.append(f"expected a JSON object, got {type(value).__name__}")
            continue
        try:
            return schema.model_validate(value), []
        except ValidationError as exc:
            errors.append(_validation_reason(exc))
    return None, errors


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:4]:
        where = ".".join(str(x) for x in err["loc"]) or "answer"
        parts.append(f"{where}: {err['msg']}")
    return "the JSON does not match the schema (" + "; ".join(parts) + ")"


def schema_text(schema: type[BaseModel]) -> str:
    """Compact JSON schema for prompts."""
    return json.dumps(schema.model_json_schema(), separators=(",", ":"))
