"""Reading a structured answer out of whatever a chat model sent back.

Structured output is asked for by prompting (the JSON schema is in the prompt) because that
works on every OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp); this module then
finds the JSON: in a tool call's arguments, inside a code fence, or embedded in prose, with
a few forgiving repairs (trailing commas, Python literals). Every failure is a short reason
string that goes back to the model verbatim.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, TypeVar

from langchain_core.messages import AIMessage
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON|javascript)?\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
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
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _embedded(text: str) -> list[Any]:
    """Every JSON object or array that starts somewhere in ``text`` (first ones first)."""
    found: list[Any] = []
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch not in "{[":
            continue
        try:
            value, _ = decoder.raw_decode(text, i)
        except ValueError:
            continue
        if isinstance(value, dict | list) and value:
            found.append(value)
            if isinstance(value, dict):
                break  # the first complete object is the answer; inner ones are parts of it
    return found


def extract_json(text: str) -> tuple[Any, str | None]:
    """The JSON value an answer contains, or ``(None, reason)``."""
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
                payloads.append(call.get("args") or {})
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
