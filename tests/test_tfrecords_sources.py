"""Sessions retrieved from UT-Zap50K and DeepFashion downloads (tiny fixtures in their real format)."""

import csv
import itertools
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfrecords.build import deepfashion, source_spec
from tfrecords.builders import BuildRequest, build
from tfrecords.dataset_info import SPLITS
from tfrecords.session_format import example_to_session, split_attribute

ZAP_HEADER = "CID,Category,SubCategory,HeelHeight,Insole,Closure,Gender,Material,ToeStyle"


def _jpg(path, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)).save(path, quality=90)


@pytest.fixture
def zap_dir(tmp_path):
    """A UT-Zap50K download: a grid of 72 tiny shoes plus planted problems."""
    root = tmp_path / "ut-zap50k"
    images = root / "ut-zap50k-images-square"
    rows = [ZAP_HEADER]
    kinds = [("Shoes", "Oxfords"), ("Shoes", "Loafers"), ("Boots", "Ankle")]
    materials = ["Leather", "Suede", "Faux Leather, Synthetic"]  # the last one needs quoting
    grid = itertools.product(kinds, materials, ["Lace up", "Buckle"], ["Round Toe", "Pointed Toe"])
    grid = itertools.product(grid, ["Flat", "Heel 1in - 1 3/4in"])
    for n, (((category, sub), material, closure, toe), heel) in enumerate(grid):
        cid = f"{7000000 + n}-{100 + n}"
        _jpg(str(images / category / sub / "Brand A." / f"{7000000 + n}.{100 + n}.jpg"), n)
        writer_row = [cid, category, sub, heel, "Padded;Cushioned", closure, "Women", material, toe]
        rows.append(writer_row)
    # Planted problems (line numbers: header is line 1, the grid lines 2..73).
    rows.append(["9000001-1", "Shoes", "Oxfords", "Flat", "", "Lace up", "Women", "Leather"])
    rows.append(
        ["9000002-2", "Socks", "Ankle", "Flat", "", "Lace up", "Women", "Leather", "Round Toe"]
    )
    rows.append(
        ["9000003-3", "Shoes", "Oxfords", "Flat", "", "Buckle", "Women", "Suede", "Round Toe"]
    )
    _jpg(str(images / "Boots" / "Ankle" / "B" / "9000004.4.jpg"), 99)
    rows.append(
        ["9000004-4", "Shoes", "Oxfords", "Flat", "", "Buckle", "Women", "Suede", "Round Toe"]
    )
    os.makedirs(root / "ut-zap50k-data")
    with open(root / "ut-zap50k-data" / "meta-data.csv", "w", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_MINIMAL)
        f.write(rows[0] + "\r\n")
        for row in rows[1:]:
            writer.writerow(row)
    return str(root)


ZAP_PROBLEM_LINES = {
    source_spec.UNREADABLE_ROW: 74,
    source_spec.UNKNOWN_VALUE: 75,
    source_spec.MISSING_IMAGE: 76,
    source_spec.WRONG_FOLDER: 77,
}


def _sessions(data_dir, dataset):
    build_dir = os.path.join(data_dir, dataset, "1.0.0")
    info = json.load(open(os.path.join(build_dir, "dataset_info.json")))
    by_split = {}
    for split in SPLITS:
        files = [os.path.join(build_dir, f) for f in info["splits"][split]["files"]]
        by_split[split] = [example_to_session(r.numpy()) for r in tf.data.TFRecordDataset(files)]
    retrieved = [
        json.loads(line) for line in open(os.path.join(build_dir, "retrieved_sessions.jsonl"))
    ]
    return info, by_split, {r["session_id"]: r for r in retrieved}


def _check_invariants(info, by_split, retrieved, spec):
    level = spec.coarseness
    split_of_image = {}
    assert sum(len(v) for v in by_split.values()) == info["num_sessions"] > 0
    for split, sessions in by_split.items():
        for session in sessions:
            assert 3 <= len(session.images) <= 5
            paths = retrieved[session.session_id]["images"]
            assert len(set(paths)) == len(paths)  # no image twice in a session
            for path in paths:
                assert split_of_image.setdefault(path, split) == split  # no leak across splits
            values = [dict(map(split_attribute, a)) for a in session.attributes]
            previous_max = 0
            for t, (before, after) in enumerate(zip(values[:-1], values[1:])):
                changed = [a for a in spec.attributes if before[a] != after[a]]
                assert 1 <= len(changed) <= 2
                assert source_spec.UNKNOWN not in [before[a] for a in changed] + [
                    after[a] for a in changed
                ]
                assert before[spec.fixed] == after[spec.fixed]
                assert min(level[a] for a in changed) >= previous_max  # coarse before fine
                previous_max = max(level[a] for a in changed)
                assert sorted(session.changed_attributes[t]) == sorted(changed)
                assert session.descriptions[t].strip()


def _build_ut_zap50k(data_dir: str, zap_dir: str):
    """zap_seq from the fake UT-Zap50K folder: 40 sessions at 16x16, seed 3."""
    return build(
        BuildRequest(
            "zap_seq",
            data_dir,
            source="ut_zap50k",
            source_dir=zap_dir,
            num_sessions=40,
            seed=3,
            image_size=16,
        )
    )


def test_ut_zap50k_build_keeps_every_invariant_and_reports_every_problem(tmp_path, zap_dir):
    data_dir = str(tmp_path / "data")
    info, built = _build_ut_zap50k(data_dir, zap_dir)
    assert built
    info, by_split, retrieved = _sessions(data_dir, "zap_seq")
    _check_invariants(info, by_split, retrieved, source_spec.ZAP_SPEC)
    assert by_split["train"]
    problems = info["source_problems"]
    for reason, line in ZAP_PROBLEM_LINES.items():
        assert problems[reason]["count"] == 1, reason
        assert problems[reason]["first"][0].startswith(f"ut-zap50k-data/meta-data.csv:{line}: ")
    # Quoted value with a comma, multi-valued field, the schema and descriptions.
    schema = info["attribute_schema"]
    assert "faux_leather_synthetic" in schema["material"]
    assert schema["gender"] == ["women"]
    assert info["descriptions"]["source"] == "generated"
    assert info["descriptions"]["generated"] == info["statistics"]["num_descriptions"]
    assert set(info["statistics"]["phrase_type_counts"]) <= {
        "single",
        "composition",
        "propositional",
    }
    retrieval = info["retrieval"]
    assert retrieval["requested"] == {"train": 34, "val": 2, "test": 4}
    assert sum(retrieval["built"].values()) == info["num_sessions"]
    assert "changes_without_neighbour" in retrieval and "per_split" in retrieval


def test_source_build_is_deterministic_from_the_seed(tmp_path, zap_dir):
    outputs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        data_dir = str(tmp_path / name)
        build(
            BuildRequest(
                "zap_seq",
                data_dir,
                source="ut_zap50k",
                source_dir=zap_dir,
                num_sessions=20,
                seed=seed,
                image_size=8,
            )
        )
        outputs.append(
            open(os.path.join(data_dir, "zap_seq", "1.0.0", "retrieved_sessions.jsonl")).read()
        )
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_human_descriptions_replace_generated_ones(tmp_path, zap_dir):
    data_dir = str(tmp_path / "gen")
    build(
        BuildRequest(
            "zap_seq",
            data_dir,
            source="ut_zap50k",
            source_dir=zap_dir,
            num_sessions=10,
            seed=1,
            image_size=8,
        )
    )
    first = json.loads(
        open(os.path.join(data_dir, "zap_seq", "1.0.0", "retrieved_sessions.jsonl")).readline()
    )
    human = tmp_path / "human.csv"
    human.write_text(
        "session_id,turn,description\n"
        f'{first["session_id"]},1,"make it suede, please"\n'
        "no-such-session,1,is red\n"
        f"{first['session_id']},x,broken turn\n"
    )
    data_dir = str(tmp_path / "human")
    info, _ = build(
        BuildRequest(
            "zap_seq",
            data_dir,
            source="ut_zap50k",
            source_dir=zap_dir,
            num_sessions=10,
            seed=1,
            image_size=8,
            descriptions_file=str(human),
        )
    )
    _, by_split, _ = _sessions(data_dir, "zap_seq")
    session = next(s for v in by_split.values() for s in v if s.session_id == first["session_id"])
    assert session.descriptions[0] == "make it suede, please"
    assert session.descriptions[1:] == first["descriptions"][1:]
    assert info["descriptions"]["human"] == 1 and info["descriptions"]["source"] == "mixed"
    assert info["source_problems"][source_spec.DESCRIPTION_KEY]["count"] == 1
    assert info["source_problems"][source_spec.DESCRIPTION_ROW]["first"][0].startswith(
        "human.csv:4: "
    )


def test_wrong_source_dir_fails_at_once_saying_what_was_expected(tmp_path, zap_dir):
    with pytest.raises(source_spec.SourceLayoutError, match="ut-zap50k-data/meta-data.csv"):
        build(
            BuildRequest(
                "zap_seq", str(tmp_path / "d"), source="ut_zap50k", source_dir=str(tmp_path)
            )
        )
    with pytest.raises(source_spec.SourceLayoutError, match="Anno/list_attr_img.txt"):
        build(
            BuildRequest(
                "deepfashion_seq", str(tmp_path / "d"), source="deepfashion", source_dir=zap_dir
            )
        )
    with pytest.raises(ValueError, match="builds --dataset=zap_seq"):
        build(
            BuildRequest(
                "deepfashion_seq", str(tmp_path / "d"), source="ut_zap50k", source_dir=zap_dir
            )
        )
    assert not os.path.exists(tmp_path / "d")


def test_symlink_out_of_the_source_folder_is_refused_by_the_raw_checks(tmp_path, zap_dir):
    outside = tmp_path / "outside.jpg"
    _jpg(str(outside), 5)
    target = os.path.join(
        zap_dir, "ut-zap50k-images-square", "Shoes", "Oxfords", "Brand A.", "7000000.100.jpg"
    )
    os.remove(target)
    os.symlink(outside, target)
    info, _ = build(
        BuildRequest(
            "zap_seq",
            str(tmp_path / "d"),
            source="ut_zap50k",
            source_dir=zap_dir,
            num_sessions=60,
            seed=0,
            image_size=8,
        )
    )
    info_raw, _, retrieved = _sessions(str(tmp_path / "d"), "zap_seq")
    uses_link = [
        s for s in retrieved.values() if any(p.endswith("7000000.100.jpg") for p in s["images"])
    ]
    assert uses_link  # retrieval picked the linked image; the raw checks then refused it
    assert info["skipped"]["outside_raw_dir"]["count"] == len(uses_link)
    assert info["num_sessions"] == sum(info_raw["retrieval"]["built"].values()) - len(uses_link)


# ------------------------------------------------------------------------------ DeepFashion

DF_ATTRIBUTES = [
    ("floral print", 1),
    ("striped", 1),
    ("lace", 2),
    ("cotton", 2),
    ("maxi", 3),
    ("a-line", 3),
    ("v-neck", 4),
    ("pocket", 4),
    ("boho", 5),
]
DF_CATEGORIES = [("Blouse", 1), ("Skirt", 2), ("Dress", 3), ("Romper", 3)]


def _listing(path, header, rows, count=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"{len(rows) if count is None else count}\n{header}\n")
        for row in rows:
            f.write(row + "\n")


@pytest.fixture
def deepfashion_dir(tmp_path):
    root = tmp_path / "Category and Attribute Prediction Benchmark"
    category_rows, attr_rows, partition_rows = [], [], []
    n = 0
    for category, texture, fabric, shape in itertools.product((3, 4), (0, 1, None), (2, 3), (4, 5)):
        n += 1
        name = f"img/Pretty_{DF_CATEGORIES[category - 1][0]}/img_{n:08d}.jpg"
        _jpg(str(root / "Img" / name), n)
        labels = ["-1"] * len(DF_ATTRIBUTES)
        for index in (texture, fabric, shape):
            if index is not None:
                labels[index] = "1"
        labels[8] = "0"  # unknown counts as not positive
        category_rows.append(f"{name:<60}{category}")
        attr_rows.append(f"{name:<60}" + " ".join(f"{v:>2}" for v in labels))
        split = "train" if n % 6 else ("val" if n % 12 else "test")
        partition_rows.append(f"{name:<60}{split}")
    # Planted problems.
    bad = [
        ("img/Pretty_Dress/img_00000901.jpg", "attr_count"),
        ("img/Pretty_Dress/img_00000902.jpg", "bad_label"),
        ("img/Pretty_Dress/img_00000903.jpg", "no_partition"),
        ("img/Pretty_Dress/img_00000904.jpg", "missing_file"),
        ("Pretty_Dress/img_00000905.jpg", "wrong_folder"),
    ]
    for name, kind in bad:
        if kind != "missing_file":
            _jpg(str(root / "Img" / name), 7)
        category_rows.append(f"{name} 3")
        labels = ["-1"] * len(DF_ATTRIBUTES)
        if kind == "attr_count":
            labels = labels[:-1]
        if kind == "bad_label":
            labels[0] = "2"
        attr_rows.append(f"{name} " + " ".join(labels))
        if kind != "no_partition":
            partition_rows.append(f"{name} train")
    anno = root / "Anno"
    _listing(
        str(anno / "list_category_cloth.txt"),
        "category_name  category_type",
        [f"{c:<29}{t}" for c, t in DF_CATEGORIES],
    )
    _listing(
        str(anno / "list_attr_cloth.txt"),
        "attribute_name  attribute_type",
        [f"{a:<29}{t}" for a, t in DF_ATTRIBUTES],
    )
    _listing(str(anno / "list_category_img.txt"), "image_name  category_label", category_rows)
    _listing(
        str(anno / "list_attr_img.txt"),
        "image_name  attribute_labels",
        attr_rows,
        count=len(attr_rows) + 1,
    )
    _listing(
        str(root / "Eval" / "list_eval_partition.txt"),
        "image_name  evaluation_status",
        partition_rows,
    )
    return str(root)


def test_deepfashion_build_keeps_every_invariant_and_reports_every_problem(
    tmp_path, deepfashion_dir
):
    data_dir = str(tmp_path / "data")
    build(
        BuildRequest(
            "deepfashion_seq",
            data_dir,
            source="deepfashion",
            source_dir=deepfashion_dir,
            num_sessions=30,
            seed=2,
            image_size=8,
        )
    )
    info, by_split, retrieved = _sessions(data_dir, "deepfashion_seq")
    _check_invariants(info, by_split, retrieved, source_spec.DEEPFASHION_SPEC)
    schema = info["attribute_schema"]
    assert set(schema) == {
        "category",
        "fabric",
        "shape",
        "texture",
        "part",
        "style",
        "category_type",
    }
    assert schema["texture"] == ["floral_print", "none", "striped"]
    assert schema["style"] == ["none"]
    assert schema["category_type"] == ["full_body"]
    problems = info["source_problems"]
    expected = {
        source_spec.UNREADABLE_ROW: "Anno/list_attr_img.txt:",
        source_spec.UNKNOWN_VALUE: "Anno/list_attr_img.txt:",
        source_spec.MISSING_ANNOTATION: "Anno/list_category_img.txt:",
        source_spec.MISSING_IMAGE: "Anno/list_category_img.txt:",
        source_spec.WRONG_FOLDER: "Anno/list_category_img.txt:",
        source_spec.COUNT_MISMATCH: "Anno/list_attr_img.txt:1:",
    }
    for reason, where in expected.items():
        assert problems[reason]["count"] == 1, reason
        assert problems[reason]["first"][0].startswith(where), problems[reason]
    # Sessions come from the benchmark's own partition: an image's split is its pool.
    partition = dict(
        line.split()
        for line in open(os.path.join(deepfashion_dir, "Eval", "list_eval_partition.txt"))
        .read()
        .splitlines()[2:]
    )
    for split, sessions in by_split.items():
        for session in sessions:
            for path in retrieved[session.session_id]["images"]:
                assert partition[path[len("Img/") :]] == split


def test_deepfashion_wrong_header_fails_at_once(tmp_path, deepfashion_dir):
    path = os.path.join(deepfashion_dir, "Anno", "list_attr_cloth.txt")
    lines = open(path).read().splitlines()
    lines[1] = "name type"
    open(path, "w").write("\n".join(lines) + "\n")
    with pytest.raises(source_spec.SourceLayoutError, match="attribute_name attribute_type"):
        build(
            BuildRequest(
                "deepfashion_seq",
                str(tmp_path / "d"),
                source="deepfashion",
                source_dir=deepfashion_dir,
            )
        )


@pytest.mark.parametrize("dataset", ["zap_seq", "deepfashion_seq"])
def test_train_py_trains_from_a_source_build(tmp_path, request, dataset):
    """`train.py --dataset=zap_seq|deepfashion_seq` on a build from the source download: the tiny
    edit-mode config, whose attribute slots take their sizes from the build's own schema."""
    import json
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data_dir, run_dir = str(tmp_path / "data"), str(tmp_path / "run")
    if dataset == "zap_seq":
        source, source_dir, seed = "ut_zap50k", request.getfixturevalue("zap_dir"), 3
    else:
        source, source_dir, seed = "deepfashion", request.getfixturevalue("deepfashion_dir"), 2
    build(
        BuildRequest(
            dataset,
            data_dir,
            source=source,
            source_dir=source_dir,
            num_sessions=40,
            seed=seed,
            image_size=16,
        )
    )
    cmd = [
        sys.executable,
        os.path.join(root, "scripts", "train.py"),
        "--config=tiny_edit",
        f"--dataset={dataset}",
        f"--data_dir={data_dir}",
        f"--run_dir={run_dir}",
        "--epochs=1",
        "--steps_per_epoch=2",
        "--nodamsm",
        "--verbose=0",
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=root)
    env.pop("TF_CONFIG", None)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with open(os.path.join(run_dir, "train_state.json")) as f:
        assert json.load(f)["complete"]
    with open(os.path.join(run_dir, "config.json")) as f:
        sizes = json.load(f)["model"]["attribute_sizes"]
    with open(os.path.join(data_dir, dataset, "1.0.0", "dataset_info.json")) as f:
        schema = json.load(f)["attribute_schema"]
    assert sizes == [len(v) for v in schema.values()]


def test_table_1_reads_a_source_build(tmp_path, zap_dir):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data_dir = str(tmp_path / "data")
    info, _ = _build_ut_zap50k(data_dir, zap_dir)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.dataset_stats",
            "--datasets=zap_seq",
            f"--data_dir={data_dir}",
            f"--out_dir={tmp_path / 'sheets'}",
        ],
        cwd=root,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("| zap_seq"))
    assert f"| {info['num_sessions']} |" in row
    assert (tmp_path / "sheets" / "zap_seq_samples.png").exists()


def test_deepfashion_rows_with_malformed_names_or_bytes_are_reported_not_fatal(deepfashion_dir):
    good_items, _, _ = deepfashion.read_deepfashion(deepfashion_dir, seed=0)
    with open(os.path.join(deepfashion_dir, "Anno", "list_category_img.txt"), "ab") as f:
        f.write(b"img/Pretty_Dress/img\x00_00000906.jpg 3\n")  # a NUL in the name
        f.write(b"img/Pretty_Dress/img_\xff\xfe.jpg 3\n")  # bytes that are not UTF-8
    with open(os.path.join(deepfashion_dir, "Anno", "list_attr_img.txt"), "ab") as f:
        f.write(b"img/Pretty_Dress/img\x00_00000906.jpg " + b" ".join([b"-1"] * 9) + b"\n")
    with open(os.path.join(deepfashion_dir, "Eval", "list_eval_partition.txt"), "ab") as f:
        f.write(b"img/Pretty_Dress/img\x00_00000906.jpg train\n")
    items, problems, _ = deepfashion.read_deepfashion(deepfashion_dir, seed=0)
    assert len(items) == len(good_items)
    report = problems.as_dict()
    assert report[source_spec.MALFORMED_PATH]["count"] == 1
    (nul,) = report[source_spec.MALFORMED_PATH]["first"]
    assert nul.startswith("Anno/list_category_img.txt:") and "NUL" in nul
    assert report[source_spec.NOT_UTF8]["count"] == 1
    assert "list_category_img.txt" in report[source_spec.NOT_UTF8]["first"][0]
