"""allocator.keep_freed_memory: a process that frees a run's buffers reuses them for the
next run instead of taking fresh (page-faulting) memory from the kernel."""

import subprocess
import sys
import textwrap

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


def _faults_of_a_later_run(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CYCLES, mode], capture_output=True, text=True, check=True, timeout=60)
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not allocator.keep_freed_memory(), reason="not glibc: keep_freed_memory does nothing")
def test_a_later_run_reuses_the_freed_memory_instead_of_faulting_in_fresh_pages():
    pages = 8 * (4 << 20) // 4096  # 8192 pages of 4 KiB written per run
    assert _faults_of_a_later_run("default") > pages // 4  # glibc's default gives them back
    assert _faults_of_a_later_run("keep") < pages // 100


def test_it_is_applied_once_and_answers_the_same_afterwards():
    first = allocator.keep_freed_memory()
    assert allocator.keep_freed_memory() is first
    assert allocator.MMAP_FROM_BYTES < allocator.KEEP_FREED_BYTES
