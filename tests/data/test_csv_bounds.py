"""Every CSV bound is checked before the time or memory it protects is spent.

Each hostile file is read in a subprocess whose address space is limited to 1.5 GiB
(``resource.setrlimit(RLIMIT_AS)``): the read must end with the DataError naming the
bound, within seconds of CPU time (this process's own, which other load on the machine
does not stretch as it does wall time), and its peak resident memory must grow by a bounded amount
(``VmHWM`` after the call minus ``VmRSS`` before it, from ``/proc/self/status``;
``ru_maxrss`` would include the peak of the forking pytest process).
"""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

resource = pytest.importorskip("resource")
if not os.path.exists("/proc/self/status"):
    pytest.skip("needs /proc/self/status (Linux)", allow_module_level=True)

from workbench import limits  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3 * 2**29  # 1.5 GiB of address space
CPU_SECONDS = 10.0  # the refusals take well under a second of CPU; reading what they refuse, minutes

SCRIPT = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (@LIMIT@, @LIMIT@))
from workbench.data import DataError, file_sha256, load_dataset, read_csv
from workbench.spec import DataSpec
path = sys.argv[1]


def kb(key):  # this process's resident size now (VmRSS) or at its peak (VmHWM), in kB
    with open("/proc/self/status") as f:
        return int(f.read().split(key + ":")[1].split()[0])


before = kb("VmRSS")
t0 = time.process_time()
out = {"error": None, "type": None}
try:
    @CALL@
except BaseException as exc:
    out["error"], out["type"] = str(exc)[:400], type(exc).__name__
out["cpu_seconds"] = time.process_time() - t0
out["grew_mb"] = (kb("VmHWM") - before) / 1024
print(json.dumps(out))
"""


def bounded(call: str, path: Path, timeout: float = 90.0) -> dict:
    """Run ``call`` (Python, with ``path`` bound to the file) under the 1.5 GiB limit."""
    code = SCRIPT.replace("@LIMIT@", str(LIMIT)).replace("@CALL@", call)
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def refused(out: dict, message: str, grew_mb: float) -> None:
    assert out["type"] == "DataError", out
    assert out["error"] == message, out
    assert out["cpu_seconds"] < CPU_SECONDS, out
    assert out["grew_mb"] < grew_mb, out


# --- bytes -----------------------------------------------------------------------------------
@pytest.fixture
def terabyte(tmp_path):
    p = tmp_path / "huge.csv"
    try:
        with open(p, "wb") as f:
            f.truncate(10**12)  # sparse: no disk space used
    except OSError as exc:
        pytest.skip(f"no sparse 1 TB file here: {exc}")
    if p.stat().st_blocks * 512 > 1 << 20:
        pytest.skip("this file system does not keep the file sparse")
    return p


TOO_LARGE = "file is too large: 953674.3 MB (1000000000000 bytes); the limit is 50.0 MB"


def test_a_sparse_terabyte_file_is_refused_before_it_is_hashed_or_read(terabyte):
    call = "load_dataset(DataSpec(source='csv', csv_path=path))"
    refused(bounded(call, terabyte), f"data.csv_path: {terabyte}: {TOO_LARGE}", grew_mb=16)
    refused(bounded("file_sha256(path)", terabyte), TOO_LARGE, grew_mb=16)
    refused(bounded("read_csv(path)", terabyte), TOO_LARGE, grew_mb=16)


def test_a_gzip_bomb_is_refused_while_it_is_decompressed(tmp_path):
    p = tmp_path / "bomb.csv.gz"
    row = ",".join(["0"] * 500) + "\n"  # 1000 characters, 500 columns
    with gzip.open(p, "wb", compresslevel=9) as g:
        g.write(",".join(f"c{j}" for j in range(500)).encode() + b"\n")
        for _ in range(60):
            g.write(row.encode() * 1000)  # 60 MB once decompressed
    assert p.stat().st_size < 200_000
    out = bounded("read_csv(path)", p)
    refused(out, "file is too large: more than 50.0 MB once decompressed; the limit is 50.0 MB", grew_mb=16)


# --- line length and columns -------------------------------------------------------------------
def test_a_long_first_line_in_a_small_gzip_file_is_refused_while_it_is_read(tmp_path):
    p = tmp_path / "longline.csv.gz"
    with gzip.open(p, "wb", compresslevel=9) as g:
        g.write(b"12," * 17_000_000 + b"1\n" + b"1,2\n" * 10)  # 51 MB line: 17 million columns
    assert p.stat().st_size < 100_000
    out = bounded("read_csv(path)", p)
    refused(out, f"line 1: longer than {limits.MAX_CSV_LINE_CHARS} characters; the limit is "
                 f"{limits.MAX_CSV_COLS} columns of at most {limits.MAX_CSV_CELL_CHARS} characters", grew_mb=48)


def test_too_many_columns_within_the_line_length(tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text("1," * 120_000 + "1\n" + "1,2\n" * 10)
    refused(bounded("read_csv(path)", p), f"line 1: 120001 columns; the limit is {limits.MAX_CSV_COLS}",
            grew_mb=48)


def test_a_multi_line_record_is_bounded_too(tmp_path):
    p = tmp_path / "quoted.csv"
    part = '"' + "x" * 1000 + '\n' + "y" * 1000 + '",'  # each record line is short; the record is not
    p.write_text("a,b\n" + part * 2000 + "1\n")
    out = bounded("read_csv(path)", p)
    refused(out, f"line 2: longer than {limits.MAX_CSV_LINE_CHARS} characters; the limit is "
                 f"{limits.MAX_CSV_COLS} columns of at most {limits.MAX_CSV_CELL_CHARS} characters", grew_mb=48)


# --- rows and classes ---------------------------------------------------------------------------
def test_too_many_rows(tmp_path):
    p = tmp_path / "rows.csv"
    p.write_text("a,label\n" + "1,x\n2,y\n" * (limits.MAX_CSV_ROWS // 2) + "3,x\n")
    out = bounded("read_csv(path)", p)
    refused(out, f"line {limits.MAX_CSV_ROWS + 2}: more than {limits.MAX_CSV_ROWS} data rows; "
                 f"the limit is {limits.MAX_CSV_ROWS}", grew_mb=96)


def test_too_many_classes_is_refused_at_the_first_label_too_many(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("a,label\n" + "".join(f"{i},c{i}\n" for i in range(limits.MAX_CSV_ROWS)))
    out = bounded("read_csv(path)", p)
    refused(out, f"line {limits.MAX_CLASSES + 2}, column 'label': {limits.MAX_CLASSES + 1} distinct labels "
                 f"('c{limits.MAX_CLASSES}' is one too many); at most {limits.MAX_CLASSES} classes are supported "
                 f"(is 'label' the right target column?)", grew_mb=16)


def test_the_line_length_bound_is_derived_from_the_column_bound():
    assert limits.MAX_CSV_LINE_CHARS == limits.MAX_CSV_COLS * (limits.MAX_CSV_CELL_CHARS + 1)
    assert limits.MAX_CSV_CELL_CHARS >= 32  # any float as written fits
