"""Hash tables sized from the signal: model.encoding.max_params_per_sample."""
import pytest

from inr.errors import InrError
from inr.fields.model import build_field, sized_for
from inr.fields.spec import ModelConfig
from inr.nn.encodings import encoding_config


def hash_model(**keys):
    return ModelConfig(encoding=encoding_config("hash", **keys))


@pytest.mark.parametrize("pixels,log2,count", [(256 * 256, 11, 59745), (512 * 512, 13, 172535)])
def test_the_largest_table_within_one_parameter_per_pixel(pixels, log2, count):
    sized = sized_for(hash_model(max_params_per_sample=1.0), 2, 1, pixels)
    assert sized.encoding.log2_table_size == log2
    assert build_field(sized, 2, 1).param_count() == count <= pixels
    bigger = sized_for(hash_model(log2_table_size=log2 + 1), 2, 1, pixels)
    assert build_field(bigger, 2, 1).param_count() > pixels  # the next size up would not fit


def test_no_budget_or_another_encoding_leaves_the_model_as_it_is():
    model = hash_model(log2_table_size=19)
    assert sized_for(model, 2, 1, 100) is model
    siren = ModelConfig()
    assert sized_for(siren, 2, 1, 100) is siren
    with pytest.raises(InrError, match="max_params_per_sample must be >= 0"):
        sized_for(hash_model(max_params_per_sample=-1.0), 2, 1, 100)


def test_a_signal_too_small_for_any_table_gets_the_smallest():
    sized = sized_for(hash_model(max_params_per_sample=1.0), 2, 1, 100)
    assert sized.encoding.log2_table_size == 6
