import gzip
import struct

import numpy as np
import pytest

from guinn.data.idx import load_idx_pair, read_idx
from guinn.datasets import load_idx_dataset
from guinn.errors import DataError

CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr)
    header = bytes([0, 0, CODES[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data: bytes, gz: bool = False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", list(CODES))
def test_round_trip(tmp_path, dtype, gz):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(write(tmp_path / "a.idx", idx_bytes(arr), gz))
    assert out.dtype == dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)
    out[0, 0, 0] = 1  # writable by default


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (1, 2, 3, 2)])
def test_dims_1_to_4(tmp_path, shape):
    arr = np.arange(np.prod(shape), dtype=np.int32).reshape(shape)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "a", idx_bytes(arr))), arr)


def test_gzip_detected_by_magic_not_extension(tmp_path):
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(
        read_idx(write(tmp_path / "plain.idx", idx_bytes(arr), True)), arr
    )
    np.testing.assert_array_equal(read_idx(write(tmp_path / "fake.gz", idx_bytes(arr))), arr)


def test_readonly_cannot_be_made_writable(tmp_path):
    arr = np.arange(6, dtype=np.int16).reshape(2, 3)
    for dtype in (np.uint8, np.int16):
        out = read_idx(write(tmp_path / "a", idx_bytes(arr.astype(dtype))), readonly=True)
        np.testing.assert_array_equal(out, arr)
        assert out.dtype.isnative
        with pytest.raises(ValueError):
            out[0, 0] = 1
        with pytest.raises(ValueError):
            out.flags.writeable = True


@pytest.mark.parametrize("gz", [False, True])
def test_truncated(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 5), np.uint8))
    with pytest.raises(DataError, match="truncated"):
        read_idx(write(tmp_path / "a", data[:-1], gz))
    with pytest.raises(DataError, match="truncated"):
        read_idx(write(tmp_path / "b", data[:6], gz))  # inside the dimension sizes
    with pytest.raises(DataError, match="truncated"):
        read_idx(write(tmp_path / "c", b"", gz))


@pytest.mark.parametrize("gz", [False, True])
def test_trailing_bytes(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 5), np.uint8))
    with pytest.raises(DataError, match="trailing"):
        read_idx(write(tmp_path / "a", data + b"\x00", gz))


def test_wrong_magic(tmp_path):
    data = bytearray(idx_bytes(np.zeros(3, np.uint8)))
    data[0] = 1
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(write(tmp_path / "a", bytes(data)))


def test_unknown_dtype_code(tmp_path):
    data = bytearray(idx_bytes(np.zeros(3, np.uint8)))
    data[2] = 0x0A
    with pytest.raises(DataError, match="dtype code 0x0A"):
        read_idx(write(tmp_path / "a", bytes(data)))


@pytest.mark.parametrize("ndim", [0, 5, 255])
def test_wrong_number_of_dims(tmp_path, ndim):
    data = bytes([0, 0, 0x08, ndim]) + b"\x00\x00\x00\x01" * ndim + b"\x00"
    with pytest.raises(DataError, match="dimensions; expected 1 to 4"):
        read_idx(write(tmp_path / "a", data))


@pytest.mark.parametrize("size", [0, 2**31, 2**32 - 1])
def test_bad_dim_size(tmp_path, size):
    data = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 3, size)
    with pytest.raises(DataError, match="dimension 1"):
        read_idx(write(tmp_path / "a", data))


def test_huge_declared_payload_is_refused_before_reading(tmp_path):
    data = bytes([0, 0, 0x0E, 3]) + struct.pack(">III", 2**20, 2**20, 2**20)
    with pytest.raises(DataError, match="at most"):
        read_idx(write(tmp_path / "a", data))


def test_gzip_bomb_is_not_decompressed(tmp_path):
    # a small header followed by ~100 MB of zeros: only the declared 10 bytes + 1 are inflated
    header = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10)
    comp = gzip.compress(header + bytes(100 * 2**20), compresslevel=9)
    assert len(comp) < 200_000
    with pytest.raises(DataError, match="trailing"):
        read_idx(write(tmp_path / "bomb.gz", comp))


def test_bad_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((10, 10), np.uint8)))
    with pytest.raises(DataError, match="gzip"):
        read_idx(write(tmp_path / "a.gz", good[:2] + b"garbage" * 10))
    corrupt = bytearray(good)
    corrupt[-6] ^= 0xFF  # CRC
    with pytest.raises(DataError, match="gzip"):
        read_idx(write(tmp_path / "b.gz", bytes(corrupt)))
    with pytest.raises(DataError, match="gzip"):
        read_idx(write(tmp_path / "c.gz", good[: len(good) // 2]))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope.idx")
    with pytest.raises(DataError, match="directory"):
        read_idx(tmp_path)


def make_pair(tmp_path, n_images=4, n_labels=4, prefix=""):
    x = np.arange(n_images * 6, dtype=np.uint8).reshape(n_images, 2, 3)
    y = np.arange(n_labels, dtype=np.uint8)
    xp = write(tmp_path / f"{prefix}x.gz", idx_bytes(x), True)
    yp = write(tmp_path / f"{prefix}y", idx_bytes(y))
    return xp, yp, x, y


def test_load_idx_pair(tmp_path):
    xp, yp, x, y = make_pair(tmp_path)
    x2, y2 = load_idx_pair(xp, yp)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_pair_count_mismatch(tmp_path):
    xp, yp, _, _ = make_pair(tmp_path, n_images=4, n_labels=3)
    with pytest.raises(DataError, match="4 images but .* 3 labels"):
        load_idx_pair(xp, yp)


def test_pair_wrong_shapes_and_dtypes(tmp_path):
    xp, yp, _, _ = make_pair(tmp_path)
    with pytest.raises(DataError, match=r"expected uint8 images of shape \(N, height, width\)"):
        load_idx_pair(yp, yp)
    with pytest.raises(DataError, match=r"expected uint8 labels of shape \(N,\)"):
        load_idx_pair(xp, xp)
    floats = write(tmp_path / "f", idx_bytes(np.zeros((4, 2, 3), np.float32)))
    with pytest.raises(DataError, match="uint8 images"):
        load_idx_pair(floats, yp)


def test_load_idx_dataset(tmp_path):
    xp, yp, x, y = make_pair(tmp_path)
    txp, typ, tx, ty = make_pair(tmp_path, 2, 2, prefix="t")
    (x2, y2), (tx2, ty2) = load_idx_dataset(xp, yp, txp, typ)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(ty2, ty)
    train, test = load_idx_dataset(xp, yp)
    assert test is None and train[0].shape == (4, 2, 3)
    with pytest.raises(DataError, match="both test files or neither"):
        load_idx_dataset(xp, yp, txp)


def test_load_idx_dataset_image_size_mismatch(tmp_path):
    xp, yp, _, _ = make_pair(tmp_path)
    other = write(tmp_path / "o", idx_bytes(np.zeros((4, 3, 3), np.uint8)))
    with pytest.raises(DataError, match="same image size"):
        load_idx_dataset(xp, yp, other, yp)


def test_an_idx_pair_trains_through_an_experiment(tmp_path):
    """Any IDX image/label pair (e.g. Fashion-MNIST files) is a dataset for experiments and the CLI."""
    from guinn.core.specs import LayerSpec
    from guinn.data.catalog import load_dataset
    from guinn.experiment import Experiment

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 120).astype(np.uint8)
    x = np.zeros((120, 12, 12), np.uint8)
    for i, label in enumerate(y):  # a bright bar whose row encodes the class
        x[i, 2 + 4 * label : 4 + 4 * label, 1:11] = 255
    images = write(tmp_path / "train-images.gz", idx_bytes(x), gz=True)
    labels = write(tmp_path / "train-labels", idx_bytes(y))
    spec = {"kind": "idx", "train_images": str(images), "train_labels": str(labels), "test_fraction": 0.25}
    data = load_dataset(spec)
    assert data.image_shape == (12, 12) and data.input_dim == 144 and data.n_classes == 3
    assert data.x_train.max() == 1.0 and len(data.x_test) == 30
    exp = Experiment(dataset=spec, layers=(LayerSpec(16, "relu"),), epochs=30, batch_size=16,
                     validation_split=0.0, optimizer={"name": "adam", "learning_rate": 0.01})
    model, _, data = exp.run()
    assert model.evaluate(data.x_test, np.eye(3)[data.y_test], verbose=0)[1] == 1.0


def test_a_swapped_image_and_label_pair_is_named(tmp_path):
    images = write(tmp_path / "images.idx", idx_bytes(np.zeros((50, 28, 28), np.uint8)))
    labels = write(tmp_path / "labels.idx", idx_bytes(np.zeros(50, np.uint8)))
    assert load_idx_pair(images, labels)[0].shape == (50, 28, 28)
    with pytest.raises(DataError, match="looks like a label file: are the image and label files swapped"):
        load_idx_pair(labels, images)


def test_images_larger_than_a_network_takes_are_refused_before_inflating(tmp_path):
    """A 255 KB gzip file claiming (2, 16384, 8192) fits the 256 MiB image bound, so it was
    inflated and turned into 1 GiB of float32 before the network refused its input size."""
    images = write(tmp_path / "bomb.gz", bytes([0, 0, 0x08, 3]) + struct.pack(">III", 2, 16384, 8192), True)
    labels = write(tmp_path / "labels", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(DataError, match="images of 16,384x8,192 pixels; a network takes at most 10,000,000 inputs"):
        load_idx_pair(images, labels)  # no pixel data follows the header: it is never read


def test_more_labels_than_images_are_counted_not_sized(tmp_path):
    """One image with ten labels read 'expected at most 8 bytes' (the labels' size bound)."""
    xp, yp, _, _ = make_pair(tmp_path, n_images=1, n_labels=10)
    with pytest.raises(DataError, match=r"has 1 image but .* has 10 labels; expected one label per image"):
        load_idx_pair(xp, yp)
