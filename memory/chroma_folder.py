"""Opening a knowledge-base folder as a Chroma database, with clear errors.

Chroma happily creates a database inside any folder and reports a corrupt one with a
low-level message ("file is not a database"); a user pointing ``--kb`` at the wrong place
deserves one line saying what is wrong. This module owns those checks and the collection
settings (name, cosine space, embedding function, telemetry off).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings

from agentnas.memory.embedding import MiniLMEmbeddingFunction
from agentnas.memory.kb_lock import HIDDEN
from agentnas.tools.errors import UserError
from agentnas.tools.folder_format import check_format, write_format
from agentnas.tools.sqlite_files import check_sqlite

COLLECTION = "agentnas-heuristics"
"""The one collection in a KB folder (Chroma wants 3-512 characters of [a-zA-Z0-9._-])."""

DB_FILE = "chroma.sqlite3"


def check_folder(path: Path, *, create: bool) -> None:
    """Refuse a file, a missing folder when ``create`` is false, and a non-empty folder
    without a Chroma database (so a mistyped ``--kb`` cannot litter a project folder)."""
    if path.exists() and not path.is_dir():
        raise UserError(f"knowledge base path {path} is a file; give a folder")
    if not path.exists():
        if not create:
            raise UserError(
                f"no knowledge base at {path}; give an existing KB folder with --kb DIR, "
                "or create one with `agentnas kb add` or a run"
            )
        return
    if not (path / DB_FILE).exists() and any(p.name not in HIDDEN for p in path.iterdir()):
        raise UserError(
            f"{path} is not a knowledge base (no {DB_FILE}, and it is not empty); "
            "give an empty or new folder, or one written by agentnas"
        )
    if (path / DB_FILE).exists():
        check_format(path, "kb")


def check_database(path: Path) -> None:
    """Refuse a ``chroma.sqlite3`` that is empty, not SQLite, truncated or damaged.
    SQLite (and so Chroma) would open an empty file as a new database and rewrite it: a
    damaged KB must never be taken for an empty one. Checking changes no byte."""
    check_sqlite(
        path / DB_FILE,
        f"cannot open knowledge base {path}: {DB_FILE}",
        "restore it from a backup or `agentnas kb export`, or give another --kb",
        tables=("collections", "embeddings"),
    )


def open_collection(path: Path, *, create: bool) -> tuple[ClientAPI, Collection]:
    """Open (or create) the heuristics collection in the folder ``path`` (absolute).

    Raises :class:`UserError` when the folder is not a usable knowledge base.
    """
    check_folder(path, create=create)
    check_database(path)
    new = not (path / DB_FILE).exists()
    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:
        # Chroma caches the half-started system per path; a second attempt in this
        # process would then fail with an unrelated AttributeError. Drop it.
        SharedSystemClient._identifier_to_system.pop(str(path), None)
        raise UserError(
            f"cannot open knowledge base {path}: {exc}; expected a folder written by "
            f"agentnas (Chroma {chromadb.__version__}) or a new folder"
        ) from exc
    try:
        collection = client.get_or_create_collection(
            COLLECTION,
            embedding_function=MiniLMEmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"agentnas_kb_version": 1},
        )
    except Exception as exc:
        client.close()
        raise UserError(
            f"cannot open knowledge base {path}: {exc}; expected a collection "
            f"{COLLECTION!r} embedded with {MiniLMEmbeddingFunction.name()}"
        ) from exc
    if new:
        write_format(path, "kb")
    return client, collection


def private_copy(path: Path) -> tuple[Path, Path]:
    """Copy a KB folder (checked first, read-only) into a new temporary folder; returns
    (the temporary folder to delete afterwards, the copy's KB folder)."""
    check_folder(path, create=False)
    check_database(path)
    tmp = Path(tempfile.mkdtemp(prefix="agentnas-kb-read-"))
    try:
        shutil.copytree(path, tmp / "kb", ignore=shutil.ignore_patterns(*HIDDEN))
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(f"cannot read knowledge base {path} ({exc})") from None
    return tmp, tmp / "kb"
