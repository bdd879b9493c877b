"""Every keras.applications constructor back from `kdsl import`: at its
default input size and at another size it accepts, the model built from
the imported kd has the layer table, counts and layer configs of the
original (docs/import.md lists what kd writes differently: a nested
Sequential comes back as a functional model), and the folded and flat
imports have the same layer table.  The smallest model of each family runs
in `make test`; the rest under the slow marker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")

from keras_compare import kdsl_table  # noqa: E402
from test_import import round_trip  # noqa: E402

from dsl import catalog as kcat  # noqa: E402
from dsl.compiler import check_text  # noqa: E402
from dsl.importer import import_model  # noqa: E402

FAMILIES = {  # the families; the first one of each runs in make test (the smallest)
    "ResNet": ["ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2"],
    "VGG": ["VGG16", "VGG19"],
    "Inception": ["InceptionV3"],
    "InceptionResNet": ["InceptionResNetV2"],
    "Xception": ["Xception"],
    "MobileNet": ["MobileNetV3Small", "MobileNet", "MobileNetV2", "MobileNetV3Large"],
    "DenseNet": ["DenseNet121", "DenseNet169", "DenseNet201"],
    "EfficientNet": [f"EfficientNetB{i}" for i in range(8)]
    + [f"EfficientNetV2B{i}" for i in range(4)] + ["EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"],
    "NASNet": ["NASNetMobile", "NASNetLarge"],
    "ConvNeXt": ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"],
}
OTHER_SIZE = (197, 197, 3)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"  # odd, so that paddings computed from the size change too


def _cases():
    for family, names in FAMILIES.items():
        for i, name in enumerate(names):
            for size in ("default", "other"):
                fast = i == 0 and size == "other"
                marks = () if fast else (pytest.mark.slow,)
                yield pytest.param(name, size, marks=marks, id=f"{name}-{size}")


def test_every_constructor_is_covered():
    listed = {name for names in FAMILIES.values() for name in names}
    assert listed == set(kcat.load().application_names())


@pytest.mark.parametrize("name, size", list(_cases()))
def test_application_round_trip(name, size, tmp_path):
    keras.backend.clear_session(free_memory=False)
    kwargs = {} if size == "default" else {"input_shape": OTHER_SIZE}
    original = getattr(keras.applications, name)(weights=None, **kwargs)
    text, _ = round_trip(original, tmp_path, stem=name.lower())
    model = re.findall(r"^model (\w+)", text, re.M)[-1]
    assert f"{name}(" not in text  # written out layer by layer, not as the application
    flat = import_model(original, flat=True).text
    assert "block " not in flat
    tables = [kdsl_table(check_text(t, "app.kd").graphs[model]) for t in (text, flat)]
    assert tables[0] == tables[1]  # folding changes how the kd reads, not what it makes
    if name == "ResNet50":  # reads like examples/resnet50.kd: two blocks, a loop per long stage
        assert len(text.splitlines()) <= 2 * len((EXAMPLES / "resnet50.kd").read_text().splitlines())
        assert text.count("\nblock ") == 2 and text.count("for i in range(") == 2
    if name == "DenseNet121":  # one loop per dense block: 6, 12, 24 and 16 conv blocks
        loops = [line.strip() for line in text.splitlines() if line.strip().startswith("for ")]
        assert [loop.split(" {")[0] for loop in loops] == [f"for i in range(1, {k + 1})" for k in (6, 12, 24, 16)]
