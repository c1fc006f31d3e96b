"""Where the tests find the published benchmark tables (../shared/data) and facts about them."""
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SKIP_REASON = "benchmark data not found at ../shared/data (see data/README.md)"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=SKIP_REASON)

NB201_DIR = DATA / "nasbench201"
ENAS_FILE = DATA / "enas" / "final_structures6.txt"
BEST_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
BEST_INDEX = 6111
