"""workbench.snapshots: the budget, the keepers, even thinning and the per-run stride,
nearest(), refusals, memory actually held, and a writer and a reader in two threads."""

from __future__ import annotations

import random
import threading
import tracemalloc

import numpy as np
import pytest

from workbench.snapshots import SNAPSHOT_BUDGET, SnapshotStore

MIB = 2**20


def vec(epoch: int, n: int) -> np.ndarray:
    """A recognisable vector: every entry is the epoch (exact in float32 below 2**24)."""
    return np.full(n, float(epoch), dtype=np.float64)


def check_accounting(store: SnapshotStore) -> None:
    arrays = store._arrays()
    assert store.nbytes == sum(a.nbytes for a in arrays)
    assert len(store) == len(arrays)
    assert store.nbytes <= store.budget_bytes
    for a in arrays:
        assert a.dtype == np.float32 and a.ndim == 1 and not a.flags.writeable


def floor_bytes(store: SnapshotStore, runs, target) -> int:
    """What thinning can never free, computed from the public API: per run its first
    snapshot, its protected one (if held), and its most recent one unless ``target``
    (whose most recent is about to be followed)."""
    total = 0
    for run in runs:
        eps = store.epochs(run)
        if not eps:
            continue
        keep = {eps[0]}
        if run != target:
            keep.add(eps[-1])
        p = store.protected(run)
        if p in eps:
            keep.add(p)
        total += sum(store.nearest(run, e)[1].nbytes for e in keep)
    return total


def test_the_default_budget_is_64_mib():
    assert SNAPSHOT_BUDGET == 64 * MIB
    assert SnapshotStore().budget_bytes == SNAPSHOT_BUDGET


# -- the budget, property style ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_budget_never_exceeded_and_refusals_only_when_needed(seed):
    rng = random.Random(seed)
    budget = rng.choice([4_000, 10_000, 40_000])
    store = SnapshotStore(budget)
    runs = list(range(rng.randint(1, 5)))
    size = {r: rng.randint(1, budget // 4 // 3) for r in runs}  # floats per snapshot
    next_epoch = {r: 0 for r in runs}
    first = {}
    latest = {}
    best = {}
    for step in range(1500):
        run = rng.choice(runs)
        n = size[run]
        if rng.random() < 0.03:
            n = rng.randint(1, budget // 4 + 50)  # now and then an odd size, some too large
        epoch = next_epoch[run]
        next_epoch[run] += rng.choice([1, 1, 1, 2, 5])
        before = {r: store.epochs(r) for r in runs}
        nbytes_before = store.nbytes
        floor = floor_bytes(store, runs, run) + 4 * n
        ok = store.add(run, epoch, vec(epoch, n))
        check_accounting(store)
        if ok:
            assert floor <= budget
            assert store.epochs(run)[-1] == epoch
            latest[run] = epoch
            first.setdefault(run, epoch)
        else:  # refused: only when it cannot fit, and nothing changed
            assert 4 * n > budget or floor > budget
            assert {r: store.epochs(r) for r in runs} == before
            assert store.nbytes == nbytes_before
        if ok and rng.random() < 0.2:  # "validation improved": protect the newest epoch
            assert store.protect(run, epoch) is True
            best[run] = epoch
        for r in runs:
            eps = store.epochs(r)
            if r in first:
                assert eps[0] == first[r] and eps[-1] == latest[r]  # first and most recent kept
            if r in best:
                assert best[r] in eps  # the protected epoch is never thinned
            stride = store.stride(r)
            for e in eps[1:-1]:  # apart from the keepers: multiples of the stride only
                assert e % stride == 0 or e == best.get(r)
            for e in eps:  # and the values are the ones added for that epoch
                got, arr = store.nearest(r, e)
                assert got == e and arr[0] == e and arr[-1] == e


# -- even thinning, the best epoch, the stride -----------------------------------------------


def test_1000_epochs_of_1_mib_in_64_mib_stay_evenly_spaced_with_the_best_kept():
    store = SnapshotStore(64 * MIB)
    v = np.zeros(MIB // 4, dtype=np.float32)
    for e in range(1000):
        v[:] = e
        assert store.add("run", e, v)
        if e <= 377:
            store.protect("run", e)  # improving until epoch 377, then never again
        assert store.nbytes <= 64 * MIB
        eps = store.epochs("run")
        s = store.stride("run")
        regular = [x for x in eps if x != e and not (x == 377 and x % s)]
        # every multiple of the stride below the newest epoch is held, nothing else
        assert regular == list(range(0, e, s)), (e, s)
    eps = store.epochs("run")
    assert store.stride("run") == 32
    assert eps == sorted(set(range(0, 1000, 32)) | {377, 999})
    assert len(eps) == len(store) == 34 and store.nbytes == 34 * MIB
    gaps = np.diff(eps)
    irregular = [(a, b) for a, b, g in zip(eps, eps[1:], gaps) if g != 32]
    assert irregular == [(352, 377), (377, 384), (992, 999)]  # only at the best and the newest
    e, a = store.nearest("run", 377)
    assert e == 377 and np.all(a == 377)
    check_accounting(store)


def test_best_epoch_survives_heavy_thinning():
    store = SnapshotStore(8 * 400)  # room for 8 snapshots of 100 floats
    best = 1234
    for e in range(5000):
        assert store.add("r", e, vec(e, 100))
        if e <= best:
            store.protect("r", e)
    eps = store.epochs("r")
    assert best in eps and eps[0] == 0 and eps[-1] == 4999
    assert len(eps) <= 8
    e, a = store.nearest("r", best)
    assert e == best and np.all(a == best)
    assert store.protected("r") == best
    # the earlier "best" epochs were released: 1233 is not a multiple of the stride
    assert 1233 not in eps and store.stride("r") > 1


def test_protecting_another_epoch_releases_the_previous_one():
    store = SnapshotStore(8 * 4)  # 8 one-float snapshots
    for e in range(9):
        store.add("r", e, vec(e, 1))
    assert store.stride("r") == 2 and store.epochs("r") == [0, 2, 4, 6, 8]
    store.add("r", 9, vec(9, 1))
    assert store.protect("r", 9) is True
    store.add("r", 10, vec(10, 1))
    store.add("r", 11, vec(11, 1))
    assert store.epochs("r") == [0, 2, 4, 6, 8, 9, 10, 11]  # 9 protected (off the stride)
    store.protect("r", 11)
    assert store.epochs("r") == [0, 2, 4, 6, 8, 10, 11]  # 9 released and off the stride: gone
    store.protect("r", 10)
    assert store.epochs("r") == [0, 2, 4, 6, 8, 10, 11]  # 11 released but the newest: kept
    assert store.protect("r", 3) is False  # not held (recorded all the same)
    assert store.protected("r") == 3
    assert store.epochs("r") == [0, 2, 4, 6, 8, 10, 11]  # 10 released, on the stride: kept


def test_per_run_stride_thins_later_adds_too():
    store = SnapshotStore(10 * 400)  # 10 snapshots of 100 floats
    for e in range(10):
        store.add("a", e, vec(e, 100))
    assert store.stride("a") == 1 and store.epochs("a") == list(range(10))
    store.add("a", 10, vec(10, 100))  # the 11th: thin
    assert store.stride("a") == 2
    assert store.epochs("a") == [0, 2, 4, 6, 8, 10]
    store.add("a", 11, vec(11, 100))
    assert store.epochs("a") == [0, 2, 4, 6, 8, 10, 11]  # the newest is always kept...
    store.add("a", 12, vec(12, 100))
    assert store.epochs("a") == [0, 2, 4, 6, 8, 10, 12]  # ...until a newer one comes
    for e in range(13, 19):
        store.add("a", e, vec(e, 100))
    assert store.epochs("a") == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]  # 13, 15, 17 went
    assert store.nbytes == 10 * 400  # full
    store.add("a", 19, vec(19, 100))  # the 11th again: stride 4
    assert store.stride("a") == 4 and store.epochs("a") == [0, 4, 8, 12, 16, 19]


def test_per_run_stride_exact_sequence():
    """The same, checked add by add against the rule written out by hand."""
    store = SnapshotStore(10 * 4)
    held = []
    stride = 1
    for e in range(100):
        # the rule: the previous newest stays only on the stride (or if it is the first)
        if held and held[-1] != held[0] and held[-1] % stride:
            held.pop()
        held.append(e)
        while len(held) > 10:
            stride *= 2
            held = [x for x in held if x == held[0] or x == held[-1] or x % stride == 0]
        assert store.add("a", e, vec(e, 1))
        assert store.epochs("a") == held, e
        assert store.stride("a") == stride
    assert stride == 16 and held == [0, 16, 32, 48, 64, 80, 96, 99]


def test_thinning_picks_the_run_holding_the_most_bytes():
    store = SnapshotStore(10 * 400)
    for e in range(8):
        store.add("big", e, vec(e, 100))
    store.add("small", 0, vec(0, 100))
    store.add("small", 1, vec(1, 100))
    assert len(store) == 10
    store.add("small", 2, vec(2, 100))  # over: "big" holds the most bytes
    assert store.stride("big") == 2 and store.stride("small") == 1
    assert store.epochs("big") == [0, 2, 4, 6, 7]
    assert store.epochs("small") == [0, 1, 2]
    # a run of larger vectors holds more bytes with fewer snapshots
    store2 = SnapshotStore(4000)
    for e in range(3):
        store2.add("wide", e, vec(e, 300))  # 3 x 1200 bytes
    for e in range(2):
        store2.add("narrow", e, vec(e, 10))  # 2 x 40
    store2.add("narrow", 2, vec(2, 10))  # 3680 + 40 <= 4000: fits
    assert store2.stride("wide") == 1
    store2.add("narrow", 3, vec(3, 200))  # +800: over; "wide" has the most bytes
    assert store2.stride("wide") == 2 and store2.epochs("wide") == [0, 2]
    assert store2.stride("narrow") == 1


# -- nearest ------------------------------------------------------------------------------


def test_nearest_semantics():
    store = SnapshotStore(10_000)
    assert store.nearest("r", 3) is None
    for e in (3, 7, 20):
        store.add("r", e, vec(e, 5))
    cases = {0: 3, 2: 3, 3: 3, 4: 3, 6: 3, 7: 7, 8: 7, 19: 7, 20: 20, 10**9: 20}
    for asked, expected in cases.items():
        e, a = store.nearest("r", asked)
        assert e == expected and np.all(a == expected), asked
    assert store.nearest("other", 5) is None
    store.drop("r")
    assert store.nearest("r", 7) is None and store.epochs("r") == [] and len(store) == 0


def test_a_snapshot_is_a_float32_copy_the_caller_may_keep():
    store = SnapshotStore(1000)
    p = np.arange(12, dtype=np.float64).reshape(3, 4) / 3
    assert store.add("r", 0, p)
    p[:] = -1  # the engine goes on updating its buffer
    e, a = store.nearest("r", 0)
    assert a.dtype == np.float32 and a.shape == (12,)
    np.testing.assert_array_equal(a, (np.arange(12) / 3).astype(np.float32))
    with pytest.raises(ValueError):
        a[0] = 5.0  # read-only
    with pytest.raises(ValueError):
        a.flags.writeable = True  # a view of a read-only array cannot be made writeable
    kept = a
    for k in range(1, 200):  # heavy thinning and finally dropping the run
        store.add("r", k, vec(k, 12))
    assert 0 in store.epochs("r")  # the first is kept anyway
    store.drop("r")
    np.testing.assert_array_equal(kept, (np.arange(12) / 3).astype(np.float32))


def test_contains_and_len():
    store = SnapshotStore(1000)
    store.add(("group", 1), 0, vec(0, 3))
    store.add(("group", 1), 1, vec(1, 3))
    assert (("group", 1), 1) in store and (("group", 1), 2) not in store
    assert len(store) == 2 and store.nbytes == 24


# -- refusals -----------------------------------------------------------------------------


def test_a_vector_larger_than_the_budget_is_refused_without_allocating():
    store = SnapshotStore(1000)
    store.add("r", 0, vec(0, 10))  # 40 bytes, the first: kept whatever comes
    assert store.add("r", 1, np.zeros(251)) is False  # 1004 bytes > the budget itself
    assert store.add("r", 1, np.zeros(241)) is False  # 964 + the first 40 > 1000
    assert store.epochs("r") == [0]
    assert store.add("r", 1, np.zeros(240)) is True  # 960 + 40: exactly the budget
    assert store.epochs("r") == [0, 1] and store.nbytes == 1000
    # a 4 TiB vector (a broadcast view: no memory behind it) must be refused before any
    # allocation; an implementation that copied first would fail with MemoryError
    huge = np.broadcast_to(np.float32(0), (2**40,))
    tracemalloc.start()
    try:
        assert store.add("other", 0, huge) is False
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000
    assert store.epochs("other") == []
    check_accounting(store)


def test_the_exact_budget_and_the_keepers_of_one_run():
    store = SnapshotStore(1000)
    assert store.add("r", 0, vec(0, 125))  # 500
    assert store.add("r", 1, vec(1, 125))  # 1000: exactly the budget
    # epoch 2 would need 1500; epoch 0 (first) stays, epoch 1 is no keeper any more
    assert store.add("r", 2, vec(2, 125))
    assert store.epochs("r") == [0, 2] and store.nbytes == 1000


def test_refused_when_only_keepers_are_left_and_nothing_is_dropped():
    store = SnapshotStore(3 * 400)
    for e in range(3):
        store.add("a", e, vec(e, 100))
    store.protect("a", 1)  # first, protected, newest: all three are keepers
    assert store.add("b", 0, vec(0, 100)) is False
    assert store.epochs("a") == [0, 1, 2] and store.epochs("b") == [] and len(store) == 3
    # the same run can still go on: its previous newest is no keeper any more
    assert store.add("a", 3, vec(3, 100)) is True
    assert store.epochs("a") == [0, 1, 3]


@pytest.mark.parametrize("epoch", [-1, 1.5, True, "3"])
def test_bad_epochs_are_refused(epoch):
    store = SnapshotStore(100)
    with pytest.raises(ValueError, match="epoch"):
        store.add("r", epoch, vec(0, 1))
    with pytest.raises(ValueError, match="epoch"):
        store.protect("r", epoch)


def test_epochs_must_increase_per_run():
    store = SnapshotStore(1000)
    store.add("r", 5, vec(5, 1))
    store.add("s", 1, vec(1, 1))  # another run has its own order
    for e in (5, 4):
        with pytest.raises(ValueError, match="not after"):
            store.add("r", e, vec(e, 1))
    assert store.epochs("r") == [5]
    store.drop("r")
    assert store.add("r", 0, vec(0, 1))  # dropped: start again


def test_params_must_be_a_real_array():
    store = SnapshotStore(1000)
    with pytest.raises(TypeError):
        store.add("r", 0, [1.0, 2.0])
    with pytest.raises(TypeError):
        store.add("r", 0, np.zeros(3, dtype=complex))
    assert store.add("r", 0, np.arange(3))  # integers are fine
    assert len(store) == 1


@pytest.mark.parametrize("budget", [0, -1, 1.5, True])
def test_bad_budgets_are_refused(budget):
    with pytest.raises(ValueError, match="budget"):
        SnapshotStore(budget)


# -- memory actually held -------------------------------------------------------------------


def test_memory_held_is_the_sum_of_the_arrays():
    """tracemalloc sees NumPy's allocations: what the store keeps alive is its arrays'
    nbytes (plus small bookkeeping), no hidden copies, and dropping frees it all."""
    src = np.random.default_rng(0).standard_normal(16_384)  # float64, 128 KiB
    store = SnapshotStore(4 * MIB)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for e in range(300):  # 300 x 64 KiB = 18.75 MiB offered: thinned to <= 4 MiB
            assert store.add("r", e, src)
        held = tracemalloc.get_traced_memory()[0] - base
        nbytes = store.nbytes
        check_accounting(store)
        assert nbytes > 2 * MIB  # thinning keeps at least half the budget here
        assert nbytes <= held <= nbytes + 64 * 1024  # bookkeeping: a few hundred bytes a snapshot
        store.drop("r")
        freed_to = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert store.nbytes == 0 and len(store) == 0
    assert freed_to < 64 * 1024


# -- two threads ----------------------------------------------------------------------------


def test_a_writer_and_a_reader_in_two_threads():
    store = SnapshotStore(50 * 4000)
    n_epochs = 3000
    done = threading.Event()
    errors = []

    def writer():
        try:
            for e in range(n_epochs):
                store.add("r", e, vec(e, 1000))
                if e % 100 == 0:
                    store.protect("r", e)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    reads = 0
    while not done.is_set() or reads < 10:
        assert store.nbytes <= store.budget_bytes
        got = store.nearest("r", random.randrange(n_epochs))
        if got is not None:
            e, a = got
            assert a[0] == e and a[-1] == e  # an array is never one epoch's half and another's
        eps = store.epochs("r")
        assert eps == sorted(set(eps))
        reads += 1
    t.join(60)  # safety net only
    assert not t.is_alive() and not errors
    assert store.epochs("r")[-1] == n_epochs - 1 and 2900 in store.epochs("r")
    check_accounting(store)


def test_room_is_made_before_the_copy():
    """At no moment of an add does the store hold more than its budget: a full store
    thins first, then copies (a copy-first store would peak one vector above it)."""
    src = np.ones(65_536, dtype=np.float32)  # 256 KiB
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        store = SnapshotStore(2 * MIB)  # 8 snapshots
        for e in range(40):
            assert store.add("r", e, src)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base <= 2 * MIB + 32 * 1024
    assert peak - base >= 2 * MIB  # it was full at some point (the test can tell)
