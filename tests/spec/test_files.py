"""Opening and saving experiment files: nothing lost, nothing hangs.

* only regular files are opened, checked on the open descriptor before a byte is read
  (a FIFO used to block ``load`` for ever);
* ``save`` refuses a read-only file unless told, weights larger than a file stores unless
  told to leave them out, and another user's symbolic link; temporary files a crash left
  are removed by the next save of the same file, never those of a save in progress;
* a CSV file beside or below the experiment file is stored relative to it, so the folder
  can be moved.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from workbench import experiment_file as ef
from workbench.files import safe_write
from workbench import limits as L
from workbench import spec as S

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _result(n_weights: int = 0) -> S.RunResult:
    weights = ef.encode_weights(np.arange(n_weights, dtype=np.float32)) if n_weights else None
    return S.RunResult(history={"epoch": (1.0, 2.0), "train_loss": (0.5, 0.25)}, weights=weights)


# ---------------------------------------------------------------------------
# Only regular files are opened


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_loading_a_fifo_is_refused_at_once_instead_of_hanging(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    code = "import sys; from workbench import experiment_file as ef\n" \
           "try:\n    ef.load(sys.argv[1])\nexcept ef.ExperimentFileError as exc:\n    print(exc)\n"
    # no writer ever opens the FIFO: a blocking open() would wait for ever (the timeout fails the test)
    proc = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert proc.stdout.strip() == f"{fifo} is a FIFO, not an experiment file", proc.stderr[-1000:]
    assert ef.regular_file_problem(fifo) == f"{fifo} is a FIFO, not an experiment file"


def test_regular_file_problem_names_what_the_path_is_without_opening_it(tmp_path, monkeypatch):
    ok = tmp_path / "ok.json"
    ef.save(ok, S.ExperimentSpec())
    assert ef.regular_file_problem(ok) is None
    assert ef.regular_file_problem(tmp_path) == f"{tmp_path} is a folder, not an experiment file"
    assert ef.regular_file_problem(tmp_path / "nope.json") == f"file not found: {tmp_path / 'nope.json'}"
    if os.path.exists("/dev/zero"):
        assert ef.regular_file_problem("/dev/zero") == "/dev/zero is a character device, not an experiment file"
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(L.MAX_FILE_BYTES + 1)  # sparse
    assert ef.regular_file_problem(big) == f"the file is too large: {L.MAX_FILE_BYTES + 1} bytes, the limit is {L.MAX_FILE_BYTES}"
    monkeypatch.setattr(os, "open", lambda *a, **k: pytest.fail("regular_file_problem opened the file"))
    assert ef.regular_file_problem(ok) is None


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_loading_a_device_is_refused_before_reading():
    """/dev/zero used to be read to MAX_FILE_BYTES and parsed as text."""
    t = time.thread_time()
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.load("/dev/zero")
    assert str(info.value) == "/dev/zero is a character device, not an experiment file"
    assert time.thread_time() - t < 0.05


def test_the_size_is_checked_on_the_open_file_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(L.MAX_FILE_BYTES + 1)
    monkeypatch.setattr(ef, "loads", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(ef.ExperimentFileError, match=f"too large: {L.MAX_FILE_BYTES + 1} bytes"):
        ef.load(big)


# ---------------------------------------------------------------------------
# Weights larger than a file stores


def test_weights_fit_is_the_saved_parameters_bound():
    assert ef.weights_fit(0) and ef.weights_fit(L.MAX_SAVED_PARAMETERS)
    assert not ef.weights_fit(L.MAX_SAVED_PARAMETERS + 1)


def test_weights_larger_than_a_file_stores_are_refused_by_name_and_can_be_left_out(tmp_path):
    n = L.MAX_SAVED_PARAMETERS + 1  # a real 10 M + 1 parameter vector: saved (54 MB) before, unreadable later
    result = S.RunResult(history={"epoch": (1.0,)}, weights=ef.encode_weights(np.zeros(n, np.float32)))
    path = tmp_path / "big.json"
    with pytest.raises(ef.WeightsTooLarge) as info:
        ef.save(path, S.ExperimentSpec(), result)
    assert isinstance(info.value, ef.ExperimentFileError)
    assert (info.value.n_params, info.value.limit) == (10_000_001, 10_000_000)
    assert str(info.value) == ("runs.0.result.weights: the trained weights have 10,000,001 parameters, more than the "
                               "10,000,000 an experiment file stores; save without weights")
    assert list(tmp_path.iterdir()) == []  # refused before anything was written
    with pytest.raises(ef.WeightsTooLarge):
        ef.dumps(S.ExperimentSpec(), result)
    ef.save(path, S.ExperimentSpec(), result, without_weights=True)
    loaded = ef.load(path)
    assert loaded.result.weights is None and loaded.result.history == result.history
    assert json.loads(path.read_text())["runs"][0]["result"]["weights"] is None


def test_without_weights_leaves_small_weights_out_too():
    text = ef.dumps(S.ExperimentSpec(), _result(6), without_weights=True)
    assert ef.loads(text).result == _result(0)
    assert ef.loads(ef.dumps(S.ExperimentSpec(), _result(6))).result.weights.n_params == 6


# ---------------------------------------------------------------------------
# Read-only files


def test_a_read_only_file_is_not_replaced_unless_asked(tmp_path):
    path = tmp_path / "kept.json"
    ef.save(path, S.ExperimentSpec(name="original"))
    os.chmod(path, 0o444)
    before = path.read_bytes()
    with pytest.raises(ef.ReadOnlyFile) as info:
        ef.save(path, S.ExperimentSpec(name="replacement"))
    assert str(info.value) == f"{path} is read-only (mode 0444)" and info.value.mode == 0o444
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["kept.json"]
    assert ef.write_problem(path) == f"{path} is read-only (mode 0444)"
    assert ef.write_problem(path, overwrite_readonly=True) is None
    ef.save(path, S.ExperimentSpec(name="replacement"), overwrite_readonly=True)
    assert ef.load(path).spec.name == "replacement"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444  # the mode is kept, as for every replaced file


# ---------------------------------------------------------------------------
# Temporary files


TEMP_RE = re.compile(r"^\.(?P<base>.+)\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{12}\.mlpw-tmp$")


def _temp(folder: Path, base: str, pid: int, host: str = "", age: float = 0.0, token: str = "ab") -> Path:
    host = host or safe_write._HOST_TAG
    path = folder / f".{base}.{host}-{pid}-{token * 6}.mlpw-tmp"
    path.write_text("half a file")
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_files_are_named_after_their_target_and_process(tmp_path, monkeypatch):
    names = []
    real_replace = os.replace

    def spy(src, dst):
        names.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    ef.save(tmp_path / "run.json", S.ExperimentSpec())
    m = TEMP_RE.match(names[0])
    assert m and m["base"] == "run.json" and int(m["pid"]) == os.getpid() and m["host"] == safe_write._HOST_TAG


@pytest.mark.skipif(os.name != "posix", reason="process liveness is asked with os.kill(pid, 0)")
def test_the_next_save_removes_what_a_crashed_save_left_and_nothing_else(tmp_path):
    target = tmp_path / "run.json"
    dead = _temp(tmp_path, "run.json", _dead_pid())  # the process that wrote it died mid-save
    alive = _temp(tmp_path, "run.json", os.getpid())  # a save in progress: kept
    old = _temp(tmp_path, "run.json", os.getpid(), age=ef.STALE_TEMP_SECONDS + 60, token="cd")  # too old to be in progress
    remote = _temp(tmp_path, "run.json", _dead_pid(), host="0badcafe")  # another host's pid means nothing here
    legacy = tmp_path / ".run.json.0123456789ab.tmp"  # the names save used before
    legacy.write_text("x")
    t = time.time() - ef.STALE_TEMP_SECONDS - 60
    os.utime(legacy, (t, t))
    other_target = _temp(tmp_path, "other.json", _dead_pid())
    lookalike = tmp_path / ".run.json.notes.mlpw-tmp"
    lookalike.write_text("mine")
    ef.save(target, S.ExperimentSpec())
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(p.name for p in (target, alive, remote, other_target, lookalike))
    assert not dead.exists() and not old.exists() and not legacy.exists()


@pytest.mark.skipif(os.name != "posix", reason="process liveness is asked with os.kill(pid, 0)")
def test_two_processes_saving_one_file_keep_each_others_temporary_file(tmp_path):
    """Another process in the middle of saving the same file: its temporary file stays
    while it runs and goes with the first save after it is gone."""
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        theirs = _temp(tmp_path, "run.json", other.pid)
        ef.save(tmp_path / "run.json", S.ExperimentSpec())
        assert theirs.exists()
    finally:
        other.communicate(b"")
    ef.save(tmp_path / "run.json", S.ExperimentSpec())
    assert not theirs.exists()
    assert ef.remove_stale_temporaries(tmp_path, "run.json") == []


# ---------------------------------------------------------------------------
# Symbolic links


def test_a_users_own_symlink_is_followed(tmp_path):
    real = tmp_path / "real.json"
    ef.save(real, S.ExperimentSpec())
    link = tmp_path / "link.json"
    link.symlink_to(real)
    ef.save(link, S.ExperimentSpec(name="through my link"))
    assert link.is_symlink() and ef.load(real).spec.name == "through my link"


@pytest.mark.skipif(not IS_ROOT, reason="making a link of another user needs root")
@pytest.mark.parametrize("chain", [False, True])
def test_another_users_symlink_is_not_followed(tmp_path, chain):
    """A shared sticky folder such as /tmp: someone plants out.json -> the victim's file;
    the CLI's --out out.json used to overwrite the victim."""
    victim = tmp_path / "home" / "precious.json"
    victim.parent.mkdir()
    victim.write_text("precious")
    shared = tmp_path / "shared"
    shared.mkdir()
    planted = shared / ("hop.json" if chain else "out.json")
    planted.symlink_to(victim)
    os.lchown(planted, 12345, 12345)
    out = planted
    if chain:  # the user's own link leads to the planted one
        out = shared / "out.json"
        out.symlink_to(planted)
    with pytest.raises(ef.ExperimentFileError) as info:
        ef.save(out, S.ExperimentSpec())
    message = str(info.value)
    assert message == (f"{planted} is a symbolic link owned by another user (uid 12345) pointing to {victim}; "
                       "it is not followed: save under another name or remove the link")
    assert victim.read_text() == "precious"
    assert ef.write_problem(out) == message
    assert sorted(p.name for p in shared.iterdir()) == sorted({"out.json", planted.name})


@pytest.mark.skipif(not IS_ROOT, reason="making a link of another user needs root")
def test_the_cli_refuses_another_users_link_before_training(tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text("precious")
    out = tmp_path / "out.json"
    out.symlink_to(victim)
    os.lchown(out, 12345, 12345)
    example = ROOT / "resources" / "examples" / "xor.json"
    proc = subprocess.run([sys.executable, "main.py", "run", str(example), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    assert "is a symbolic link owned by another user (uid 12345)" in proc.stderr
    assert victim.read_text() == "precious"


# ---------------------------------------------------------------------------
# CSV paths relative to the experiment file


def _csv_spec(csv_path: str) -> S.ExperimentSpec:
    return S.ExperimentSpec(data=S.DataSpec(source="csv", csv_path=csv_path, target_column="y", val_fraction=0.25),
                            training=S.TrainingSpec(epochs=2, batch_size=8))


def _write_csv(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["x1,x2,y"] + [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")


def test_a_csv_beside_or_below_the_file_is_stored_relative_and_survives_moving_the_folder(tmp_path):
    from workbench.data import load_dataset

    a = tmp_path / "A"
    _write_csv(a / "data" / "points.csv")
    _write_csv(a / "beside.csv")
    ef.save(a / "exp.json", _csv_spec(str(a / "data" / "points.csv")))
    ef.save(a / "next.json", _csv_spec(str(a / "beside.csv")))
    assert json.loads((a / "exp.json").read_text())["spec"]["data"]["csv_path"] == "data/points.csv"
    assert json.loads((a / "next.json").read_text())["spec"]["data"]["csv_path"] == "beside.csv"
    b = tmp_path / "moved" / "B"
    b.parent.mkdir()
    shutil.move(str(a), str(b))
    spec = ef.load(b / "exp.json").spec
    assert spec.data.csv_path == "data/points.csv"  # load keeps it relative
    ds = load_dataset(spec.data, base_dir=b)  # the loader reads it against the file's folder
    assert len(ds.X_train) + len(ds.X_val) == 40
    # saved again elsewhere, the relative path is re-based (base_dir: where it was relative to)
    elsewhere = tmp_path / "other" / "copy.json"
    elsewhere.parent.mkdir()
    ef.save(elsewhere, spec, base_dir=b)
    assert ef.load(elsewhere).spec.data.csv_path == str(b / "data" / "points.csv")
    (b / "sub").mkdir()  # a folder the CSV is not below: absolute
    ef.save(b / "sub" / "x.json", spec, base_dir=b)
    assert ef.load(b / "sub" / "x.json").spec.data.csv_path == str(b / "data" / "points.csv")
    ef.save(b / "data" / "y.json", spec, base_dir=b)  # and beside it again: relative
    assert ef.load(b / "data" / "y.json").spec.data.csv_path == "points.csv"


def test_a_csv_outside_the_folder_stays_absolute(tmp_path):
    outside = tmp_path / "data" / "points.csv"
    _write_csv(outside)
    (tmp_path / "exp").mkdir()
    ef.save(tmp_path / "exp" / "e.json", _csv_spec(str(outside)))
    assert ef.load(tmp_path / "exp" / "e.json").spec.data.csv_path == str(outside)
    # a relative path without base_dir is kept as it was (nothing to read it against)
    ef.save(tmp_path / "exp" / "r.json", _csv_spec("../data/points.csv"))
    assert ef.load(tmp_path / "exp" / "r.json").spec.data.csv_path == "../data/points.csv"


def test_a_file_saved_through_a_link_from_another_folder_keeps_the_csv_absolute(tmp_path):
    """The loader reads a relative path against the folder of the path it opens (the
    link's): relative to the real folder would break there."""
    real = tmp_path / "real"
    _write_csv(real / "points.csv")
    ef.save(real / "e.json", S.ExperimentSpec())
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "e.json"
    link.symlink_to(real / "e.json")
    ef.save(link, _csv_spec(str(real / "points.csv")))
    assert ef.load(real / "e.json").spec.data.csv_path == str(real / "points.csv")
