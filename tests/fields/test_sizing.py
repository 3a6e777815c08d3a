"""Hash tables sized from the signal: model.encoding.max_params_per_sample."""
import pytest

from inr.errors import InrError
from inr.fields.model import build_field, sized_for
from inr.fields.spec import ModelConfig
from inr.nn.encodings import encoding_config


def hash_model(**keys):
    return ModelConfig(encoding=encoding_config("hash", **keys))


@pytest.mark.parametrize("pixels,log2", [(256 * 256, 11), (512 * 512, 13)])
def test_the_largest_table_within_one_parameter_per_pixel(pixels, log2):
    sized = sized_for(hash_model(max_params_per_sample=1.0), 2, 1, pixels)
    rows = sized.encoding.table_size
    assert 2**log2 < rows < 2 ** (log2 + 1)  # past the largest power of two that fits, short of the next
    assert pixels - 64 < build_field(sized, 2, 1).param_count() <= pixels  # within a row's worth of the budget
    bigger = sized_for(hash_model(table_size=rows + 1), 2, 1, pixels)
    assert build_field(bigger, 2, 1).param_count() > pixels  # one more row would not fit


def test_a_cap_that_fits_is_kept():
    sized = sized_for(hash_model(log2_table_size=8, max_params_per_sample=1.0), 2, 1, 512 * 512)
    assert sized.encoding.table_size == 2**8


def test_no_budget_or_another_encoding_leaves_the_model_as_it_is():
    model = hash_model(log2_table_size=19)
    assert sized_for(model, 2, 1, 100) is model
    siren = ModelConfig()
    assert sized_for(siren, 2, 1, 100) is siren
    with pytest.raises(InrError, match="max_params_per_sample must be >= 0"):
        sized_for(hash_model(max_params_per_sample=-1.0), 2, 1, 100)


def test_a_signal_too_small_for_any_table_gets_the_smallest():
    sized = sized_for(hash_model(max_params_per_sample=1.0), 2, 1, 100)
    assert sized.encoding.table_size == 2**6


def test_a_table_of_any_size_hashes_into_its_rows():
    import numpy as np

    from inr.nn.hashgrid import vertex_index

    def count(rows):
        return build_field(hash_model(levels=2, base_resolution=4, max_resolution=64, table_size=rows), 2, 1).param_count()

    assert count(101) - count(100) == 2  # the 5² level stays dense; the 65² one hashes into T rows of 2 features
    corners = np.stack(np.meshgrid(np.arange(65), np.arange(65), indexing="ij"), -1).reshape(-1, 2)
    rows = np.asarray(vertex_index(corners, 64, 100, 2))
    assert rows.max() < 100 and len(np.unique(rows)) == 100
    with pytest.raises(InrError, match="table_size must be >= 0"):
        build_field(hash_model(table_size=-1), 2, 1)
