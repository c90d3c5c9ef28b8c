"""
Training sets generated with `sunpy_jets.synthetic`: what the bundled default weights are trained on.

Sequences are made at the model's own pixel scale and size (300″ over ``image_size`` pixels, so no
resampling is needed), preprocessed once with `~sunpy_jets.inputs.prepare_sequence`, and held
in memory (`~sunpy_jets.datasets.TensorJetDataset`) or in the on-disk cache of
`sunpy_jets.datasets.cache` (`~sunpy_jets.datasets.JetSequenceDataset`), which an interrupted build
resumes.
"""

import warnings

import numpy as np
import torch
from tqdm.auto import tqdm

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from ..datasets import (
    JetSequenceDataset,
    TensorJetDataset,
    read_cache_index,
    read_cached_sequence,
    write_cached_sequence,
)
from ..exceptions import FileFormatError, InputError
from ..inputs.preprocessing import prepare_sequence
from ..model.config import JetModelConfig
from ..synthetic import make_sequence

__all__ = ["synthetic_dataset"]

_SPLITS = {"train": 0, "validation": 1, "test": 2}


def _generate(config, seed, split, i):
    # Jets and negatives alternate; each sample has its own seed, so sets of any size share their first samples.
    kind = "jet" if i % 2 == 0 else "negative"
    sequence = make_sequence(
        kind=kind, seed=np.random.SeedSequence([seed, _SPLITS[split], i]), n_frames=config.n_frames,
        cadence=config.cadence, shape=(config.image_size, config.image_size), scale=config.pixel_scale,
    )  # fmt: skip
    with warnings.catch_warnings():
        # Bad frames are part of the simulation; the preprocessing notes about them are expected here.
        warnings.simplefilter("ignore")
        prepared = prepare_sequence(sequence.maps, config)
    return prepared, int(sequence.label), sequence.kind


def synthetic_dataset(n, *, config=None, seed=0, split="train", augment=False, cache_dir=None, progress=True):
    """
    A dataset of ``n`` generated sequences (jets and hard negatives alternating), preprocessed for ``config``.

    Parameters
    ----------
    n : int
        Number of sequences.
    config : `~sunpy_jets.model.JetModelConfig`, optional
        The model's recipe (frames, size, field of view, standardisation).
    seed : int
        Seed of the generator; ``split`` gives each set its own sequences.
    split : {"train", "validation", "test"}
        Which set (sets with the same seed never share a sequence).
    augment : bool
        Random flips and 90° rotations (training set).
    cache_dir : str or `~pathlib.Path`, optional
        Keep the preprocessed sequences in this on-disk cache (reused when present); in memory otherwise.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dataset : `~sunpy_jets.datasets.TensorJetDataset` or `~sunpy_jets.datasets.JetSequenceDataset`
        Yields ``(frames (T, 1, H, W), label)``; ``dataset.kinds`` lists what each sequence shows.
    positions : `~astropy.coordinates.SkyCoord`
        The centre of each sequence (for on-disk / off-limb scores).

    Examples
    --------
    >>> from sunpy_jets.model import JetModelConfig
    >>> config = JetModelConfig(image_size=32, n_frames=3, channels=(4,))
    >>> dataset, positions = synthetic_dataset(2, config=config, seed=0, progress=False)
    >>> len(dataset), tuple(dataset[0][0].shape), len(positions)
    (2, (3, 1, 32, 32), 2)
    """
    config = JetModelConfig() if config is None else config
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise InputError(f"n must be a positive integer, not {n!r}")
    if split not in _SPLITS:
        raise InputError(f"split must be one of {', '.join(_SPLITS)}, not {split!r}")
    if cache_dir is None:
        frames, labels, kinds, centers = [], [], [], []
        for i in tqdm(range(n), desc=f"generating {split} set", unit="sequence", disable=not progress):
            prepared, label, kind = _generate(config, seed, split, i)
            frames.append(prepared.frames)
            labels.append(label)
            kinds.append(kind)
            centers.append(prepared.center)
        dataset = TensorJetDataset(torch.stack(frames), labels, augment=augment, seed=seed)
        dataset.kinds = kinds
        return dataset, _stack(centers)

    ids = [f"synthetic-s{seed}-{split}-{i:06d}" for i in range(n)]
    kinds = []
    for i, label_id in enumerate(tqdm(ids, desc=f"generating {split} set", unit="sequence", disable=not progress)):
        try:
            kinds.append(read_cached_sequence(cache_dir, label_id, config=config)[1].get("label", ""))
            continue
        except (FileFormatError, InputError):
            pass  # absent or built for another configuration: (re)generate it
        prepared, label, kind = _generate(config, seed, split, i)
        write_cached_sequence(
            cache_dir, label_id, prepared.frames, target=label, group=label_id, times=prepared.times,
            center=prepared.center, extent=prepared.extent, config=config, label=kind,
        )  # fmt: skip
        kinds.append(kind)
    index = read_cache_index(cache_dir, config=config)
    rows = {str(k): j for j, k in enumerate(index["label_id"])}
    dataset = JetSequenceDataset(index, [rows[k] for k in ids], augment=augment, seed=seed)
    dataset.kinds = [str(k) for k in dataset.index["label"]]
    return dataset, dataset.index["center"]


def _stack(centers):
    """One helioprojective SkyCoord of many, each with its own time (Earth observer)."""
    from sunpy.coordinates import Helioprojective

    tx = u.Quantity([c.Tx for c in centers])
    ty = u.Quantity([c.Ty for c in centers])
    obstime = Time([c.obstime for c in centers])
    return SkyCoord(tx, ty, frame=Helioprojective(observer="earth", obstime=obstime))
