import imageio.v3 as iio
import numpy as np
import pytest

from inr.errors import InrError
from inr.grid import axis_centers, grid
from inr.modalities.image import ImageDataConfig, ImageModality
from inr.modalities.image_io import load_image, resize


def test_pixel_centres():
    np.testing.assert_allclose(axis_centers(4), [-0.75, -0.25, 0.25, 0.75])
    g = grid((2, 3))
    assert g.shape == (2, 3, 2)
    np.testing.assert_allclose(g[1, 2], [0.5, 2 / 3], rtol=1e-6)


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg"])
def test_formats_and_channels(tmp_path, ext):
    rgb = (np.arange(8 * 8 * 3).reshape(8, 8, 3) * 3 % 256).astype(np.uint8)
    path = tmp_path / f"a{ext}"
    iio.imwrite(path, rgb)
    pixels, bits = load_image(path)
    assert pixels.shape == (8, 8, 3) and pixels.dtype == np.float32 and bits == 8
    if ext != ".jpg":
        np.testing.assert_allclose(pixels, rgb / 255.0, atol=1e-6)


def test_rgba_gray_and_16_bit(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 7
    iio.imwrite(tmp_path / "rgba.png", rgba)
    px, _ = load_image(tmp_path / "rgba.png")
    assert px.shape == (4, 5, 3) and np.all(px[..., 0] == 1.0) and np.all(px[..., 1:] == 0)

    gray16 = np.full((6, 6), 65535 // 2, np.uint16)
    iio.imwrite(tmp_path / "g16.png", gray16)
    px, bits = load_image(tmp_path / "g16.png")
    assert px.shape == (6, 6, 1) and bits == 16
    np.testing.assert_allclose(px, 0.5, atol=1e-4)


@pytest.mark.parametrize("content,match", [
    (b"definitely not an image", "cannot read as an image"),
    (b"", "cannot read as an image"),
])
def test_not_an_image(tmp_path, content, match):
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(InrError, match=match):
        load_image(path)


def test_too_small_and_missing(tmp_path):
    iio.imwrite(tmp_path / "one.png", np.zeros((1, 1), np.uint8))
    with pytest.raises(InrError, match="one.png: image is 1x1 pixels"):
        load_image(tmp_path / "one.png")
    with pytest.raises(InrError, match="nope.png: file not found"):
        load_image(tmp_path / "nope.png")


def test_resize_is_antialiased_bilinear():
    # Halving: each output pixel is a (1, 3, 3, 1)/8 triangle over 4 source pixels.
    a = np.zeros((8, 8, 1), np.float32)
    a[:, 3] = 1.0
    row = resize(a, (4, 4))[0, :, 0]
    np.testing.assert_allclose(row, [0, 3 / 8, 1 / 8, 0], atol=1e-6)
    const = np.full((9, 7, 3), 0.3, np.float32)
    out = resize(const, (4, 11))
    assert out.shape == (4, 11, 3)
    np.testing.assert_allclose(out, 0.3, atol=1e-6)


def test_even_split_and_normalisation(small_image):
    mod = ImageModality()
    sig = mod.load(small_image, ImageDataConfig(normalize="symmetric", split="even"))
    data = mod.training_data(sig, ImageDataConfig(normalize="symmetric", split="even"))
    assert data["coords"].shape == (256, 2) and data["targets"].shape == (256, 1)
    assert float(data["targets"].min()) >= -1 and float(data["targets"].max()) <= 1
    assert float(data["targets"].min()) < 0  # mapped to [-1, 1]
