import numpy as np
import pytest

from sunpy_jets.datasets import SolarJetHunterCatalogue, build_manifest, grouped_split, read_nonjet_positions
from sunpy_jets.exceptions import InputError

from conftest import realdata_path


@pytest.fixture(scope="module")
def events():
    cat = SolarJetHunterCatalogue.read(realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv"))
    return np.asarray(cat["sol_event"])


def _assert_disjoint_groups(groups, sets):
    seen = [set(groups[s]) for s in sets]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not seen[i] & seen[j]


def test_real_catalogue_split_is_grouped(events):
    assert len(events) == 883 and len(set(events)) == 229
    train, val, test = grouped_split(events, seed=0)
    # every jet in exactly one set
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(883))
    _assert_disjoint_groups(events, (train, val, test))
    for idx, fraction in ((train, 0.7), (val, 0.15), (test, 0.15)):
        assert abs(len(idx) / 883 - fraction) < 0.02


def test_split_is_deterministic_and_seed_dependent(events):
    a = grouped_split(events, seed=3)
    b = grouped_split(events, seed=3)
    c = grouped_split(events, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[2], c[2])


def test_split_with_labels_keeps_balance():
    cat = SolarJetHunterCatalogue.read(realdata_path("sjh_catalogue", "Jet_clusters_3.0_2.0_paperID.csv"))
    nonjets = read_nonjet_positions(realdata_path("sjh_catalogue", "No_jet_df.csv"))
    manifest = build_manifest(cat, nonjets)
    groups, labels = np.asarray(manifest["group"]), np.asarray(manifest["target"])
    train, val, test = grouped_split(groups, labels=labels, seed=0)
    _assert_disjoint_groups(groups, (train, val, test))
    for idx in (train, val, test):
        assert 0.4 < labels[idx].mean() < 0.6


def test_custom_fractions():
    groups = np.repeat(np.arange(100), 3)
    train, val, test = grouped_split(groups, fractions=(0.8, 0.0, 0.2), seed=0)
    assert len(val) == 0
    assert len(test) == 60 and len(train) == 240


@pytest.mark.parametrize(
    ("groups", "kwargs", "match"),
    [
        ([], {}, "non-empty"),
        (["a", "b", "c"], {"fractions": (0.5, 0.5)}, "three non-negative"),
        (["a", "b", "c"], {"fractions": (0.5, 0.6, -0.1)}, "three non-negative"),
        (["a", "a", "a"], {}, "at least two distinct groups"),
        (["a", "b", "c"], {"labels": [1, 0]}, "one label per sample"),
    ],
)
def test_bad_input(groups, kwargs, match):
    with pytest.raises(InputError, match=match):
        grouped_split(groups, **kwargs)
