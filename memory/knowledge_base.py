"""The knowledge base: design heuristics in a persistent Chroma collection.

One folder holds one Chroma database (``chroma.sqlite3`` plus an index folder) with one
collection, ``agentnas-heuristics``, embedded by the bundled all-MiniLM-L6-v2 in cosine
space. A folder can be shared by several runs (``--kb DIR``): opening it keeps every
heuristic, so a second run starts with what the first one learnt.

Scope matching: a heuristic applies to a request (space, hardware, partition P) when its
space and hardware are equal and its partition is P or "all" (stored as
:data:`~agentnas.memory.heuristic.ALL_PARTITIONS`). Retired heuristics are kept (for
export and audit) but never retrieved.

Measured on 2 CPU cores (idle machine … shared with ~7 busy processes): opening a folder
0.09-0.47 s, the model load on first embedding 4.2-12.5 s once per process (imports of
torch/transformers dominate), then an add 16-240 ms and a query 12-130 ms. Keep one
:class:`KnowledgeBase` per process and reuse it; list/get/export never load the model.
"""

from __future__ import annotations

import builtins
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypedDict, Unpack

from chromadb.api.shared_system_client import SharedSystemClient
from pydantic import ValidationError

from agentnas.memory.chroma_folder import check_folder, open_collection, private_copy
from agentnas.memory.claim import claim_for_text
from agentnas.memory.claim_vectors import claim_words, vectors_for
from agentnas.memory.embedding import embed
from agentnas.memory.heuristic import (
    ALL_PARTITIONS,
    Heuristic,
    Polarity,
    Scope,
    from_metadata,
    heuristic_id,
    merge_into,
    retired,
    revised,
    scope_filter,
    technical_tokens,
    to_metadata,
)
from agentnas.memory.kb_lock import APPLIED_NAME, FolderLock, shared
from agentnas.tools.errors import UserError

DEFAULT_KB_DIR = Path("runs/kb")
"""Where ``agentnas kb`` looks when no ``--kb DIR`` is given."""

DEDUPE_DISTANCE = 0.05
"""Cosine distance under which a new text may be the same rule as an existing one
(rewordings like "few"/"fewer" sit around 0.01-0.04, distinct rules above 0.2; but
rules differing only in a number or in word order also sit below 0.03, hence the extra
check on :func:`~agentnas.memory.heuristic.technical_tokens`)."""
_TWIN_CANDIDATES = 5


class AddOptions(TypedDict, total=False):
    """The keywords of :meth:`KnowledgeBase.add`, with the defaults of
    :meth:`KnowledgeBase.add_or_merge` (positive, no evidence, round 0, source "user")."""

    polarity: Polarity
    evidence_for: int
    evidence_against: int
    round: int
    source: str


def _sort_key(h: Heuristic) -> tuple[str, str, int, int, str]:
    part = ALL_PARTITIONS if h.scope.partition is None else h.scope.partition
    return (h.scope.space, h.scope.hardware, part, h.created_round, h.text)


class KnowledgeBase:
    """Heuristics stored in a Chroma ``PersistentClient`` folder.

    ``create=False`` refuses a folder that does not exist yet (for read-only commands that
    should not leave an empty database behind). Any folder that is not a Chroma database
    (a file, a corrupt ``chroma.sqlite3``, a non-empty folder without one) raises
    :class:`UserError`.
    """

    def __init__(self, path: str | Path, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path).expanduser().resolve()
        started = time.perf_counter()
        self._copy: Path | None = None
        opened = self.path
        if read_only:
            # Chroma writes to every database it opens (migrations, its own bookkeeping);
            # a read-only command reads a private copy, so the KB keeps every byte
            self._copy, opened = private_copy(self.path)
        self._folder_lock: FolderLock | None = None
        try:
            if read_only:
                self._client, self._collection = open_collection(opened, create=create)
            else:
                # several runs may share this folder: open it (and create it) in turn
                check_folder(self.path, create=create)
                self.path.mkdir(parents=True, exist_ok=True)
                self._folder_lock = FolderLock(self.path, self._reopen)
                with self._folder_lock.held(write=False):
                    self._client, self._collection = open_collection(opened, create=create)
        except BaseException:
            self._drop_copy()
            raise
        self.open_seconds = time.perf_counter() - started
        """Seconds spent opening the client and collection (no model load: that is lazy)."""

    def _drop_copy(self) -> None:
        if self._copy is not None:
            shutil.rmtree(self._copy, ignore_errors=True)
            self._copy = None

    def _reopen(self) -> None:
        """Another process wrote to the folder: drop our client (and Chroma's cached
        system with its in-memory index) and open the database afresh."""
        if not hasattr(self, "_client"):
            return
        self._client.close()
        SharedSystemClient._identifier_to_system.pop(str(self.path), None)
        self._client, self._collection = open_collection(self.path, create=False)

    def close(self) -> None:
        """Release the database (Chroma shares one system per folder and stops it when
        the last client closes). The object is unusable afterwards."""
        self._client.close()
        self._drop_copy()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- writes
    def add(self, text: str, scope: Scope, **options: Unpack[AddOptions]) -> Heuristic:
        """Store a heuristic and return it.

        Deduplicates: when an *active* heuristic with the same scope (exact partition) and
        polarity has a text within cosine distance :data:`DEDUPE_DISTANCE` of ``text``
        that names the same numbers and operations in the same order, that one is
        revised instead (its evidence grows by ``evidence_for`` / ``evidence_against``,
        ``last_round`` becomes ``round``) and returned with its own id and wording.
        Re-adding the exact text of a *retired* heuristic revives it.
        ``options`` are :meth:`add_or_merge`'s keywords (:class:`AddOptions`); use
        :meth:`add_or_merge` to learn which happened.
        """
        heuristic, _ = self.add_or_merge(text, scope, **options)
        return heuristic

    @shared(write=True)
    def add_or_merge(
        self,
        text: str,
        scope: Scope,
        *,
        polarity: Polarity = "positive",
        evidence_for: int = 0,
        evidence_against: int = 0,
        round: int = 0,
        source: str = "user",
    ) -> tuple[Heuristic, bool]:
        """:meth:`add`, also saying whether the text was merged into an existing
        heuristic (``True``) or stored as a new one (``False``)."""
        try:
            candidate = Heuristic(
                id="pending",
                text=text,
                scope=scope,
                polarity=polarity,
                evidence_for=evidence_for,
                evidence_against=evidence_against,
                created_round=round,
                last_round=round,
                source=source,
                claim=claim_for_text(
                    scope.space, text, polarity, "user" if source == "user" else "reflector"
                ),
            )
        except ValidationError as exc:
            raise UserError(f"invalid heuristic: {_first_error(exc)}") from exc
        vector = embed([candidate.text])[0]

        new_id = heuristic_id(candidate.text, scope, polarity)
        existing = self._get_or_none(new_id)
        # the same rule: an active twin, or this very text retired earlier (revived)
        twin = self._nearest_twin(vector, candidate)
        if twin is None and existing is not None and existing.text == candidate.text:
            twin = existing
        if twin is not None:
            merged = merge_into(twin, evidence_for, evidence_against, candidate.claim, round)
            self._store_change(twin, merged)
            return merged, True
        suffix = 1
        while existing is not None:  # hash collision between two different texts
            new_id = f"{heuristic_id(candidate.text, scope, polarity)}-{suffix}"
            existing = self._get_or_none(new_id)
            suffix += 1
        heuristic = candidate.model_copy(update={"id": new_id})
        self._collection.add(
            ids=[heuristic.id],
            documents=[heuristic.text],
            embeddings=[vector],
            metadatas=[to_metadata(heuristic)],
        )
        return heuristic, False

    def _nearest_twin(self, vector: Any, candidate: Heuristic) -> Heuristic | None:
        """The active heuristic in exactly ``candidate``'s scope and polarity whose text
        is within :data:`DEDUPE_DISTANCE` and names the same numbers and operations
        (:func:`technical_tokens`), if any."""
        part = candidate.scope.partition
        where = {
            "$and": [
                {"space": candidate.scope.space},
                {"hardware": candidate.scope.hardware},
                {"partition": ALL_PARTITIONS if part is None else part},
                {"polarity": candidate.polarity},
                {"status": "active"},
            ]
        }
        found = self._collection.query(
            query_embeddings=[vector],
            n_results=_TWIN_CANDIDATES,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        wanted = technical_tokens(candidate.text)
        for id_, text, metadata, distance in zip(
            found["ids"][0],
            found["documents"][0],
            found["metadatas"][0],
            found["distances"][0],
            strict=True,
        ):
            if distance >= DEDUPE_DISTANCE:
                break  # nearest first: the rest are farther
            if technical_tokens(text) == wanted:
                return from_metadata(id_, text, metadata)
        return None

    @shared(write=True)
    def revise(
        self,
        id: str,
        *,
        text: str | None = None,
        evidence_for_delta: int = 0,
        evidence_against_delta: int = 0,
        round: int | None = None,
    ) -> Heuristic:
        """Change a heuristic's wording and/or evidence counts by the KB's edit rule
        (:func:`~agentnas.memory.heuristic.revised`); ``round`` becomes its ``last_round``
        (unchanged when ``None``). Counts may not go below zero."""
        current = self.get(id)
        try:
            new = revised(
                current,
                text=text,
                evidence_for_delta=evidence_for_delta,
                evidence_against_delta=evidence_against_delta,
                round_=round,
            )
        except ValidationError as exc:
            raise UserError(f"invalid revision of {id}: {_first_error(exc)}") from exc
        except ValueError as exc:
            raise UserError(f"revising {id} {exc}") from None
        self._store_change(current, new)
        return new

    def _store_change(self, current: Heuristic, revised: Heuristic) -> None:
        """Write ``revised`` over ``current`` (same id); a new wording is embedded anew."""
        if revised.text != current.text:
            self._collection.update(
                ids=[revised.id],
                documents=[revised.text],
                embeddings=[embed([revised.text])[0]],
                metadatas=[to_metadata(revised)],
            )
        else:
            self._collection.update(ids=[revised.id], metadatas=[to_metadata(revised)])

    @shared(write=True)
    def retire(self, id: str, round: int) -> Heuristic:
        """Mark a heuristic retired at ``round``: kept and exported, never retrieved."""
        current = self.get(id)
        gone = retired(current, round)
        self._collection.update(ids=[id], metadatas=[to_metadata(gone)])
        return gone

    @shared(write=True)
    def rm(self, id: str) -> Heuristic:
        """Delete a heuristic for good and return what it was."""
        current = self.get(id)
        self._collection.delete(ids=[id])
        return current

    # -------------------------------------------------------------------------- reads
    def _get_or_none(self, id: str) -> Heuristic | None:
        found = self._collection.get(ids=[id], include=["documents", "metadatas"])
        if not found["ids"]:
            return None
        return from_metadata(found["ids"][0], found["documents"][0], found["metadatas"][0])

    @shared(write=False)
    def get(self, id: str) -> Heuristic:
        """The heuristic with this id; :class:`UserError` when there is none."""
        heuristic = self._get_or_none(id)
        if heuristic is None:
            raise UserError(
                f"no heuristic with id {id!r} in {self.path}; `agentnas kb list` shows the ids"
            )
        return heuristic

    @shared(write=False)
    def list(
        self,
        space: str | None = None,
        hardware: str | None = None,
        partition: int | None = None,
        include_retired: bool = False,
    ) -> builtins.list[Heuristic]:
        """Heuristics that apply to the given filters (``partition=P`` includes the
        every-partition ones), sorted by scope, then round created, then text."""
        where = scope_filter(
            space, hardware, partition, general_only=False, active_only=not include_retired
        )
        found = self._collection.get(where=where, include=["documents", "metadatas"])
        heuristics = [
            from_metadata(i, d, m)
            for i, d, m in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]
        return sorted(heuristics, key=_sort_key)

    @shared(write=False)
    def count(self, include_retired: bool = True) -> int:
        """Number of stored heuristics."""
        if include_retired:
            return self._collection.count()
        return len(self.list(include_retired=False))

    @shared(write=False)
    def query(
        self,
        text: str,
        space: str,
        hardware: str,
        partition: int | None = None,
        k: int = 5,
        max_distance: float | None = None,
    ) -> builtins.list[tuple[Heuristic, float]]:
        """Up to ``k`` active heuristics that apply to (space, hardware, partition),
        nearest to ``text`` first, each with its cosine distance in [0, 2].

        ``partition=None`` asks about no particular partition, so only heuristics for
        every partition apply. ``max_distance`` drops results farther than it.
        """
        if k < 1:
            raise UserError(f"k must be >= 1 (got {k})")
        if not text.strip():
            raise UserError("query text is empty; describe the cells or decision to match")
        found = self._collection.query(
            query_embeddings=[embed([text])[0]],
            n_results=k,
            where=scope_filter(space, hardware, partition, general_only=True, active_only=True),
            include=["documents", "metadatas", "distances"],
        )
        results = [
            (from_metadata(i, d, m), float(dist))
            for i, d, m, dist in zip(
                found["ids"][0],
                found["documents"][0],
                found["metadatas"][0],
                found["distances"][0],
                strict=True,
            )
        ]
        if max_distance is not None:
            results = [(h, dist) for h, dist in results if dist <= max_distance]
        return results

    # ---------------------------------------------------------------- export / import
    @shared(write=False)
    def export(self) -> builtins.list[dict[str, Any]]:
        """Every heuristic, retired ones included, as JSON-able dicts (the fields of
        :class:`Heuristic`), in :meth:`list` order."""
        return [h.model_dump(mode="json") for h in self.list(include_retired=True)]

    @shared(write=True)
    def import_(self, records: Iterable[dict[str, Any]]) -> int:
        """Store exported records as they are (same ids, counts, rounds, status),
        replacing any heuristic with the same id; no deduplication. Returns the number
        stored. A malformed record raises :class:`UserError` before anything is written."""
        by_id: dict[str, Heuristic] = {}
        for index, record in enumerate(records):
            try:
                heuristic = Heuristic.model_validate(record)
            except ValidationError as exc:
                raise UserError(f"record {index} is not a heuristic: {_first_error(exc)}") from exc
            by_id[heuristic.id] = heuristic
        if not by_id:
            return 0
        heuristics = builtins.list(by_id.values())
        self._collection.upsert(
            ids=[h.id for h in heuristics],
            documents=[h.text for h in heuristics],
            embeddings=self._embeddings(heuristics),
            metadatas=[to_metadata(h) for h in heuristics],
        )
        return len(heuristics)

    def _embeddings(self, heuristics: builtins.list[Heuristic]) -> builtins.list[Any]:
        """Vectors for ``heuristics``: a stored claim keeps its vector when only its
        wording's numbers changed (a Reflector revises ~100 claims a round; re-embedding
        them cost 2-50 s a run on 2 busy cores); new records and changed words embed."""
        found = self._collection.get(
            ids=[h.id for h in heuristics], include=["documents", "embeddings"]
        )
        stored = {
            i: (d, e)
            for i, d, e in zip(found["ids"], found["documents"], found["embeddings"], strict=True)
        }
        keep = {
            h.id: stored[h.id][1]
            for h in heuristics
            if h.id in stored and (h.claim is not None or stored[h.id][0] == h.text)
        }
        todo = [h for h in heuristics if h.id not in keep and h.claim is None]
        fresh = dict(
            zip([h.id for h in todo], embed([h.text for h in todo]) if todo else [], strict=True)
        )
        words = {h.id: claim_words(h.claim) for h in heuristics if h.id not in keep and h.claim}
        fresh.update(zip(words, vectors_for(list(words.values())), strict=True))
        return [keep[h.id] if h.id in keep else fresh[h.id] for h in heuristics]

    writer: str = ""
    """Who writes through this object (a run's id, set by the runner); with it, a run
    step's changes are stored once even when a resumed step writes them again."""

    def _applied(self) -> set[str]:
        try:
            return set((self.path / APPLIED_NAME).read_text(encoding="utf-8").splitlines())
        except OSError:
            return set()

    @shared(write=True)
    def store_run_records(
        self,
        records: builtins.list[dict[str, Any]],
        previous: dict[str, dict[str, Any]],
        step: str = "",
    ) -> int:
        """Store what a run computed from its own snapshot (``previous``: id -> the record
        as the run last saw it), without losing what other runs sharing the folder wrote
        since. Per record, under the folder lock: stored as is when the KB still holds the
        run's ``previous`` (or nothing); skipped when it already holds the record (a resumed
        step writing again); otherwise the run's own contribution (its evidence since
        ``previous``) is added to the KB's current record. Returns the number written."""
        marker = f"{self.writer} {step}" if self.writer and step else ""
        if marker and marker in self._applied():
            return 0  # this step's changes are in already (a resumed step)
        out: builtins.list[dict[str, Any]] = []
        for record in records:
            new = Heuristic.model_validate(record)
            current = self._get_or_none(new.id)
            prev = previous.get(new.id)
            old = Heuristic.model_validate(prev) if prev is not None else None
            if not marker and current is not None and _same(current, new):
                continue  # no journal: an equal record is taken as written already
            if current is None or (old is not None and _same(current, old)):
                out.append(new.model_dump(mode="json"))
            else:
                out.append(merge_contribution(current, new, old).model_dump(mode="json"))
        n = self.import_(out) if out else 0
        if marker:
            with (self.path / APPLIED_NAME).open("a", encoding="utf-8") as fh:
                fh.write(marker + "\n")
        return n


def _same(a: Heuristic, b: Heuristic) -> bool:
    return to_metadata(a) == to_metadata(b) and a.text == b.text


def merge_contribution(current: Heuristic, new: Heuristic, old: Heuristic | None) -> Heuristic:
    """``current`` plus what one run added between ``old`` (its snapshot, ``None``: the run
    created it) and ``new``, by the KB's one merge rule (:func:`merge_into`): the run's
    evidence counts (read in each record's own polarity: contradicting evidence may have
    flipped one) and its part of the claim (recovered from the two evidence-weighted
    means) are merged into ``current``; the run's retirement stands. A record that gained
    its first claim in the run takes it."""
    o_for, o_against = (0, 0) if old is None else (old.evidence_for, old.evidence_against)
    if old is not None and old.polarity != new.polarity:
        o_for, o_against = o_against, o_for
    d_for, d_against = new.evidence_for - o_for, new.evidence_against - o_against
    claim = _contribution(new.claim, old.claim if old else None)
    pooled = current.claim is not None and claim is not None and current.claim.key() == claim.key()
    if not pooled and new.polarity != current.polarity:  # a pooled claim reads its direction
        d_for, d_against = d_against, d_for
    round_ = max(current.last_round, new.last_round)
    merged = merge_into(current, d_for, d_against, claim, round_, status=new.status)
    if current.claim is None and new.claim is not None:
        merged = merged.model_copy(update={"claim": new.claim})
    return merged


def _contribution(new: Any, old: Any) -> Any:
    """The part of pooled claim ``new`` that was not in ``old`` (same key), or ``new``."""
    if new is None or old is None or old.key() != new.key():
        return new
    n = new.evidence - old.evidence
    if n <= 0:
        return new.model_copy(update={"evidence": 0})
    effect = new.effect
    if new.effect is not None and old.effect is not None:
        effect = (new.effect * new.evidence - old.effect * old.evidence) / n
    return new.model_copy(update={"evidence": n, "effect": effect})


def _first_error(exc: ValidationError) -> str:
    """One line from a pydantic error: the field path and what was wrong."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "value"
    return f"{where}: {error['msg']}"
