"""
PyTorch datasets of jet / no-jet sequences, with the recipe's augmentation.

Both datasets return ``(frames, target)``: ``frames`` a float32 tensor ``(T, 1, H, W)`` and
``target`` a float32 scalar tensor (1 jet, 0 no jet), as `~sunpy_jets.model.JetRCNN` and
``BCEWithLogitsLoss`` expect. Augmentation (training only) applies one random horizontal flip,
vertical flip and rotation by k × 90° to all frames of a sequence alike.

Augmentation is reproducible: with a ``seed``, the transform of sample ``i`` in epoch ``e`` comes
from a generator seeded with ``(seed, e, i)``, so it does not depend on the order of loading, on
the number of `~torch.utils.data.DataLoader` workers, or on which worker loads it. Call
``set_epoch(e)`` at the start of each epoch to draw new transforms (the workers of a
``DataLoader`` with ``persistent_workers=False`` see the new epoch, since they are started anew).
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from astropy.table import QTable

from .._validation import as_seed
from ..exceptions import FileFormatError, InputError, InputTypeError
from .cache import read_cache_index

__all__ = ["augment_sequence", "AugmentedDataset", "JetSequenceDataset", "TensorJetDataset"]


def augment_sequence(frames, generator=None):
    """
    Flip and rotate all frames of a sequence alike, at random.

    Parameters
    ----------
    frames : `torch.Tensor`
        ``(..., H, W)``, e.g. ``(T, 1, H, W)``; square frames keep their shape under rotation.
    generator : `torch.Generator`, optional
        Source of the random draws (the global one when not given).

    Returns
    -------
    `torch.Tensor`
        The transformed frames (a new tensor).

    Examples
    --------
    >>> import torch
    >>> x = torch.arange(4.0).reshape(1, 1, 2, 2)
    >>> y = augment_sequence(x, torch.Generator().manual_seed(0))
    >>> sorted(y.flatten().tolist()) == [0.0, 1.0, 2.0, 3.0]
    True
    """
    draws = torch.randint(0, 2, (2,), generator=generator)
    k = int(torch.randint(0, 4, (1,), generator=generator))
    if draws[0]:
        frames = torch.flip(frames, dims=(-1,))
    if draws[1]:
        frames = torch.flip(frames, dims=(-2,))
    if k:
        frames = torch.rot90(frames, k, dims=(-2, -1))
    return frames.contiguous()


class _AugmentMixin:
    """Seeded, per-(epoch, index) augmentation shared by the datasets."""

    def _init_augment(self, augment, seed):
        self.augment = bool(augment)
        self.seed = as_seed(seed)
        self.epoch = 0

    def set_epoch(self, epoch):
        """
        Choose the epoch whose augmentations are drawn (with a seed, each epoch has its own).

        Parameters
        ----------
        epoch : int
            Epoch number, from 0.
        """
        self.epoch = int(epoch)

    def _maybe_augment(self, frames, index):
        if not self.augment:
            return frames
        if self.seed is None:
            return augment_sequence(frames)  # the global generator, which DataLoader seeds per worker
        generator = torch.Generator().manual_seed(
            int(np.random.SeedSequence([self.seed, self.epoch, int(index)]).generate_state(1)[0])
        )
        return augment_sequence(frames, generator)


class AugmentedDataset(_AugmentMixin, Dataset):
    """
    Random flips and rotations of the ``(frames, label)`` samples of any dataset, seeded per (seed, epoch, index).

    What `~sunpy_jets.training.fit` wraps a training set in when the recipe asks for augmentation and
    the set does not augment itself.

    Parameters
    ----------
    dataset : `torch.utils.data.Dataset`
        ``(frames, label)`` samples.
    seed : int, optional
        Makes the augmentation reproducible (see the module description).

    Examples
    --------
    >>> import torch
    >>> from sunpy_jets.datasets import AugmentedDataset, TensorJetDataset
    >>> base = TensorJetDataset(torch.arange(16.0).reshape(1, 1, 4, 4), [1])
    >>> a, b = AugmentedDataset(base, seed=3), AugmentedDataset(base, seed=3)
    >>> torch.equal(a[0][0], b[0][0])
    True
    """

    def __init__(self, dataset, seed=None):
        self.dataset = dataset
        self._init_augment(True, seed)

    def __len__(self):
        return len(self.dataset)

    def set_epoch(self, epoch):
        super().set_epoch(epoch)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def __getitem__(self, i):
        x, y = self.dataset[i]
        return self._maybe_augment(x, i), y


def _check_indices(indices, n):
    if indices is None:
        return np.arange(n)
    indices = np.asarray(indices)
    if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
        raise InputError("indices must be a 1-D array of integers (e.g. one set of grouped_split)")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise InputError(f"indices must lie in [0, {n}); got values from {indices.min()} to {indices.max()}")
    return indices


class JetSequenceDataset(_AugmentMixin, Dataset):
    """
    Sequences from the preprocessed cache (see `sunpy_jets.datasets.cache`).

    Parameters
    ----------
    cache : str, `~pathlib.Path` or `~astropy.table.QTable`
        The cache folder, or its index from `~sunpy_jets.datasets.read_cache_index`.
    indices : array-like of int, optional
        Rows of the index to use (e.g. the train set of `~sunpy_jets.datasets.grouped_split` run on
        ``index["group"]``); all rows by default.
    augment : bool
        Apply random flips and 90° rotations (training only).
    seed : int, optional
        Makes the augmentation reproducible (see the module description).
    config : `~sunpy_jets.model.JetModelConfig`, optional
        When given with a folder, entries built with other preprocessing constants are left out.

    Attributes
    ----------
    index : `~astropy.table.QTable`
        The cache rows this dataset serves, in order.
    targets : `numpy.ndarray`
        0/1 label of each sample.
    groups : `numpy.ndarray`
        Group (HEK event) of each sample.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from astropy.time import Time
    >>> from sunpy.coordinates import Helioprojective
    >>> from sunpy_jets.datasets import write_cached_sequence
    >>> folder = tempfile.mkdtemp()
    >>> times = Time("2011-01-20T09:15:44") + [0, 24] * u.s
    >>> center = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer="earth", obstime=times[0]))
    >>> for i in range(3):
    ...     _ = write_cached_sequence(folder, f"s{i}", np.full((2, 8, 8), i), target=i % 2, group=f"g{i}",
    ...                               times=times, center=center)
    >>> ds = JetSequenceDataset(folder, [0, 2], augment=True, seed=0)
    >>> x, y = ds[1]
    >>> tuple(x.shape), x.dtype, float(y)
    ((2, 1, 8, 8), torch.float32, 0.0)
    """

    def __init__(self, cache, indices=None, *, augment=False, seed=None, config=None):
        if isinstance(cache, QTable):
            index = cache
        elif isinstance(cache, (str, bytes)) or hasattr(cache, "__fspath__"):
            index = read_cache_index(cache, config=config, verify=True)
        else:
            raise InputTypeError(f"cache must be a folder or the table of read_cache_index, not {type(cache).__name__}")
        for column in ("path", "target", "group", "label_id"):
            if column not in index.colnames:
                raise InputError(f"the cache index lacks column {column!r}: make it with read_cache_index")
        self.index = index[_check_indices(indices, len(index))]
        self.targets = np.asarray(self.index["target"], dtype=np.float32)
        self.groups = np.asarray(self.index["group"])
        self._init_augment(augment, seed)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        # Checksums were verified when the index was read; a file that breaks later still fails clearly.
        frames = self._load(str(self.index["path"][int(i)]))
        x = torch.from_numpy(frames).unsqueeze(1)
        return self._maybe_augment(x, i), torch.tensor(self.targets[int(i)], dtype=torch.float32)

    @staticmethod
    def _load(path):
        try:
            with np.load(path, allow_pickle=False) as archive:
                frames = archive["frames"]
        except (OSError, ValueError, KeyError) as exc:
            raise FileFormatError(f"{path} cannot be read as a cached sequence ({exc}): rebuild the cache") from exc
        if frames.ndim != 3:
            raise FileFormatError(f"{path} holds shape {frames.shape}, not (T, H, W): rebuild the cache")
        return np.ascontiguousarray(frames, dtype=np.float32)


class TensorJetDataset(_AugmentMixin, Dataset):
    """
    Sequences held in memory (generated data, small experiments).

    Parameters
    ----------
    sequences : array-like or `torch.Tensor`
        ``(N, T, H, W)`` or ``(N, T, 1, H, W)``.
    targets : array-like
        ``(N,)`` labels, 0 or 1.
    groups : array-like, optional
        ``(N,)`` group of each sequence (default: each its own group).
    augment : bool
        Apply random flips and 90° rotations.
    seed : int, optional
        Makes the augmentation reproducible.

    Examples
    --------
    >>> import torch
    >>> ds = TensorJetDataset(torch.zeros(4, 3, 8, 8), [0, 1, 0, 1])
    >>> x, y = ds[1]
    >>> tuple(x.shape), float(y), len(ds)
    ((3, 1, 8, 8), 1.0, 4)
    """

    def __init__(self, sequences, targets, *, groups=None, augment=False, seed=None):
        try:
            x = torch.as_tensor(np.asarray(sequences, dtype=np.float32) if not torch.is_tensor(sequences) else sequences)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"sequences must be a numeric array or tensor (N, T, H, W): {exc}") from exc
        if x.ndim == 4:
            x = x.unsqueeze(2)
        if x.ndim != 5 or x.shape[2] != 1 or 0 in x.shape:
            raise InputError(f"sequences must have shape (N, T, H, W) or (N, T, 1, H, W), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise InputError("sequences hold NaN or Inf values: preprocess them first")
        try:
            y = np.asarray(targets, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InputError(f"targets must be 0 (no jet) or 1 (jet): {exc}") from exc
        if y.shape != (x.shape[0],):
            raise InputError(f"targets must have shape ({x.shape[0]},), one per sequence, got {y.shape}")
        if not np.isin(y, (0.0, 1.0)).all():
            raise InputError("targets must be 0 (no jet) or 1 (jet)")
        self.sequences = x.to(torch.float32)
        self.targets = y
        self.groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        if self.groups.shape != y.shape:
            raise InputError(f"groups must have shape {y.shape}, one per sequence, got {self.groups.shape}")
        self._init_augment(augment, seed)

    def __len__(self):
        return self.sequences.shape[0]

    def __getitem__(self, i):
        return self._maybe_augment(self.sequences[int(i)], i), torch.tensor(self.targets[int(i)])
