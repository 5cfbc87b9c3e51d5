"""Plant a key in memory the process has freed, in many malloc arenas, then write a
knowledge base and print (one JSON line) which of its files hold the key.

``python tests/plant_key_kb.py KEY KB_DIR``. Freed chunks of every size class hold the
key, as an LLM run's heap holds its ``Authorization`` headers and the model's answers;
hnswlib then allocates its index buffers and writes them whole to the KB folder."""

from __future__ import annotations

import ctypes
import json
import sys
import threading
from pathlib import Path

THREADS = 32  # alive at once: each takes its own malloc arena


def plant(key: bytes) -> None:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    barrier = threading.Barrier(THREADS)

    def fill_and_free() -> None:
        barrier.wait()
        ptrs = []
        for n in [*range(16, 4096, 8)] * 3 + [*range(4096, 300_000, 2999)]:
            ptr = libc.malloc(n)
            ctypes.memmove(ptr, key * (n // len(key) + 1), n)
            ptrs.append(ptr)
        barrier.wait()
        for ptr in ptrs:
            libc.free(ptr)

    threads = [threading.Thread(target=fill_and_free) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main(key: str, kb_dir: str) -> None:
    import numpy as np

    big = np.ones(1_000_000)  # freeing a large block raises glibc's mmap threshold,
    del big  # so index buffers come from the heap, as in a long run
    plant(key.encode())
    from agentnas.memory.heuristic import Scope
    from agentnas.memory.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(Path(kb_dir))
    for i in range(12):
        kb.add(
            f"Prefer nor_conv_3x3 on edge {i % 6} for latency under {i} ms",
            Scope(space="nb201", hardware="hwnasbench:fpga"),
        )
    kb.close()
    files = [p for p in Path(kb_dir).rglob("*") if p.is_file()]
    print(json.dumps({
        "files": sorted(p.name for p in files),
        "hits": sorted(str(p.relative_to(kb_dir)) for p in files if key.encode() in p.read_bytes()),
    }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
