import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import Helioprojective

from sunpy_jets.datasets import (
    JetSequenceDataset,
    TensorJetDataset,
    augment_sequence,
    grouped_split,
    read_cache_index,
    write_cached_sequence,
)
from sunpy_jets.exceptions import FileFormatError, InputError, InputTypeError
from sunpy_jets.model import JetModelConfig, JetRCNN


@pytest.fixture
def cache(tmp_path):
    times = Time("2011-01-20T09:15:44") + [0, 24, 48] * u.s
    center = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer="earth", obstime=times[0]))
    rng = np.random.default_rng(0)
    for i in range(12):
        write_cached_sequence(tmp_path, f"seq{i:02d}", rng.normal(size=(3, 8, 8)), target=i % 2, group=f"E{i // 3}",
                              times=times, center=center)  # fmt: skip
    return tmp_path


def _all_transforms(x):
    """The 8 distinct flips/rotations of the last two dims."""
    out = []
    for k in range(4):
        r = torch.rot90(x, k, dims=(-2, -1))
        out += [r, torch.flip(r, dims=(-1,))]
    return out


def test_cache_dataset_items(cache):
    ds = JetSequenceDataset(cache)
    assert len(ds) == 12
    x, y = ds[3]
    assert x.shape == (3, 1, 8, 8) and x.dtype == torch.float32
    assert y.dtype == torch.float32 and float(y) == 1.0
    raw = np.load(cache / "seq03.npz", allow_pickle=False)["frames"]
    np.testing.assert_array_equal(x[:, 0].numpy(), raw)
    assert list(ds.groups[:4]) == ["E0", "E0", "E0", "E1"]


def test_cache_dataset_with_split_indices(cache):
    index = read_cache_index(cache)
    train, val, test = grouped_split(index["group"], fractions=(0.5, 0.25, 0.25), seed=0)
    sets = [JetSequenceDataset(index, idx) for idx in (train, val, test)]
    assert sum(len(s) for s in sets) == 12
    assert not set(sets[0].groups) & set(sets[2].groups)
    assert list(sets[0].index["label_id"]) == list(index["label_id"][train])


def test_augmentation_same_for_all_frames_and_seeded(cache):
    plain = JetSequenceDataset(cache)
    aug = JetSequenceDataset(cache, augment=True, seed=5)
    again = JetSequenceDataset(cache, augment=True, seed=5)
    other = JetSequenceDataset(cache, augment=True, seed=6)
    changed = 0
    for i in range(len(plain)):
        x, _ = plain[i]
        a, _ = aug[i]
        assert torch.equal(a, again[i][0])
        # the augmented sequence is one of the 8 symmetries applied to the whole sequence
        assert any(torch.equal(a, t) for t in _all_transforms(x))
        changed += not torch.equal(a, x)
    assert changed > 0
    assert any(not torch.equal(aug[i][0], other[i][0]) for i in range(len(plain)))
    # a new epoch draws new transforms, reproducibly
    first = [aug[i][0] for i in range(len(aug))]
    aug.set_epoch(1)
    again.set_epoch(1)
    assert any(not torch.equal(first[i], aug[i][0]) for i in range(len(aug)))
    assert all(torch.equal(aug[i][0], again[i][0]) for i in range(len(aug)))


def test_augmentation_independent_of_workers(cache):
    ds = JetSequenceDataset(cache, augment=True, seed=1)
    serial = torch.cat([x for x, _ in DataLoader(ds, batch_size=4, num_workers=0)])
    parallel = torch.cat([x for x, _ in DataLoader(ds, batch_size=4, num_workers=2)])
    assert torch.equal(serial, parallel)


def test_loader_feeds_the_model(cache):
    config = JetModelConfig(n_frames=3, image_size=8, channels=(4, 8), hidden_size=8, head_size=4)
    model = JetRCNN(config)
    x, y = next(iter(DataLoader(JetSequenceDataset(cache), batch_size=4)))
    assert x.shape == (4, 3, 1, 8, 8) and y.shape == (4,)
    logits = model(x)
    assert logits.shape == (4,)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, y).backward()


def test_corrupted_file_fails_clearly(cache):
    ds = JetSequenceDataset(cache)
    (cache / "seq00.npz").write_bytes(b"garbage")
    with pytest.raises(FileFormatError, match="rebuild"):
        ds[0]


def test_cache_dataset_bad_input(cache):
    with pytest.raises(InputTypeError, match="folder or the table"):
        JetSequenceDataset(42)
    with pytest.raises(InputError, match=r"indices must lie in \[0, 12\)"):
        JetSequenceDataset(cache, [0, 12])
    with pytest.raises(InputError, match="integers"):
        JetSequenceDataset(cache, [0.5])
    with pytest.raises(InputError, match="seed"):
        JetSequenceDataset(cache, seed=-1)


def test_tensor_dataset():
    x = torch.randn(6, 4, 8, 8)
    ds = TensorJetDataset(x, [0, 1, 0, 1, 1, 0], groups=list("aabbcc"), augment=True, seed=0)
    item, y = ds[2]
    assert item.shape == (4, 1, 8, 8) and float(y) == 0.0
    assert any(torch.equal(item, t) for t in _all_transforms(x[2].unsqueeze(1)))
    assert torch.equal(item, TensorJetDataset(x, [0, 1, 0, 1, 1, 0], augment=True, seed=0)[2][0])
    plain = TensorJetDataset(x.unsqueeze(2).numpy(), np.ones(6))
    assert torch.equal(plain[5][0], x[5].unsqueeze(1))
    assert list(ds.groups) == list("aabbcc")


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (torch.zeros(2, 3, 8), [0, 1], "shape"),
        (torch.zeros(2, 3, 8, 8), [0], "one per sequence"),
        (torch.zeros(2, 3, 8, 8), [0, 2], "0 \\(no jet\\) or 1"),
        (torch.full((2, 3, 8, 8), float("nan")), [0, 1], "NaN"),
    ],
)
def test_tensor_dataset_bad_input(x, y, match):
    with pytest.raises(InputError, match=match):
        TensorJetDataset(x, y)


def test_augment_sequence_keeps_values():
    x = torch.arange(2 * 16.0).reshape(2, 1, 4, 4)
    g = torch.Generator().manual_seed(3)
    y = augment_sequence(x, g)
    assert y.shape == x.shape
    assert torch.equal(y.flatten().sort().values, x.flatten().sort().values)
    # both frames moved the same way
    assert any(torch.equal(y, t) for t in _all_transforms(x))
