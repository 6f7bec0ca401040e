"""allocator.keep_freed_memory: a process that frees a run's buffers reuses them for the
next run instead of taking fresh (page-faulting) memory from the kernel."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench import allocator

CYCLES = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from workbench.allocator import keep_freed_memory
    if sys.argv[1] == "keep":
        assert keep_freed_memory()
    def run():  # a Medium group's footprint: eight 4 MiB buffers, written, then freed
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        buffers = [np.ones(1 << 20, np.float32) for _ in range(8)]
        del buffers
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    print([run() for _ in range(4)][-1])  # the fourth run: any adaptive threshold has settled
""")


def _huge_pages_always() -> bool:
    try:
        return "[always]" in Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False


def _faults_of_a_later_run(mode: str) -> int:
    env = dict(os.environ, NUMPY_MADVISE_HUGEPAGE="0")  # 4 KiB pages: faults count the pages touched
    out = subprocess.run([sys.executable, "-c", CYCLES, mode], capture_output=True, text=True, check=True,
                         timeout=60, env=env)
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(allocator.glibc_mallopt() is None, reason="not glibc: keep_freed_memory does nothing")
@pytest.mark.skipif(_huge_pages_always(), reason="transparent huge pages 'always': few faults either way")
def test_a_later_run_reuses_the_freed_memory_instead_of_faulting_in_fresh_pages():
    pages = 8 * (4 << 20) // 4096  # 8192 pages of 4 KiB written per run
    assert _faults_of_a_later_run("default") > pages // 4  # glibc's default gives them back
    assert _faults_of_a_later_run("keep") < pages // 100


def test_it_is_applied_once_and_answers_the_same_afterwards(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator, "glibc_mallopt", lambda: lambda param, value: calls.append((param, value)) or 1)
    assert allocator.keep_freed_memory() is True
    assert allocator.keep_freed_memory() is True
    assert calls == [(-3, allocator.MMAP_FROM_BYTES), (-1, allocator.KEEP_FREED_BYTES)]  # once, both set
    assert allocator.MMAP_FROM_BYTES < allocator.KEEP_FREED_BYTES


def test_without_glibc_it_does_nothing_and_says_so(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator, "glibc_mallopt", lambda: None)
    assert allocator.keep_freed_memory() is False
