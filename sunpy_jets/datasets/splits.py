"""
Train/validation/test splits grouped by HEK event.

The 883 Solar Jet Hunter jets come from only 229 HEK events, and jets of one event share their field
of view and often overlap in time: a split per sequence puts near-duplicates on both sides and
overstates test scores. Every sequence of a group (the SOL event) therefore goes to the same set.
"""

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from ..exceptions import InputError

__all__ = ["grouped_split"]

_CANDIDATES = 64  # shuffled group splits tried per cut; the one closest to the wanted sizes is kept


def _best_cut(groups, labels, fraction, seed):
    """Indices (rest, cut) of a group split whose cut holds about ``fraction`` of the samples."""
    n = len(groups)
    if fraction <= 0:
        return np.arange(n), np.array([], dtype=int)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise InputError("a grouped split needs at least two distinct groups in each set it cuts")
    # GroupShuffleSplit sizes the cut in groups, not samples; among several shuffles keep the one whose
    # sample count (and class balance, when labels are given) is closest to the target.
    test_size = min(max(fraction, 1.0 / n_groups), 1 - 1.0 / n_groups)
    splitter = GroupShuffleSplit(n_splits=_CANDIDATES, test_size=test_size, random_state=seed)
    overall = labels.mean() if labels is not None else None
    best, best_score = None, np.inf
    for rest, cut in splitter.split(np.zeros(n), groups=groups):
        score = abs(len(cut) / n - fraction)
        if labels is not None and len(cut):
            score += 0.5 * abs(labels[cut].mean() - overall)
        if score < best_score:
            best, best_score = (rest, cut), score
    return best


def grouped_split(groups, *, fractions=(0.7, 0.15, 0.15), labels=None, seed=0):
    """
    Split samples into train, validation and test sets so that no group spans two sets.

    Parameters
    ----------
    groups : array-like of str or int
        The group of each sample (the HEK SOL event of each label).
    fractions : tuple of three floats
        Wanted fractions of the samples in train, validation and test; they sum to 1. Whole groups
        move, so the sizes are met approximately.
    labels : array-like of {0, 1}, optional
        When given, the split also keeps the class balance of each set close to the overall one.
    seed : int
        Seed of the shuffles; the same seed gives the same split.

    Returns
    -------
    train, validation, test : `numpy.ndarray` of int
        Sorted sample indices of each set.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        The fractions are not three non-negative numbers summing to 1, groups are empty, or there are
        too few groups to fill the sets.

    Examples
    --------
    >>> groups = [f"event{i // 4}" for i in range(80)]  # 20 events of 4 sequences
    >>> train, val, test = grouped_split(groups, seed=1)
    >>> len(train), len(val), len(test)
    (56, 12, 12)
    >>> set(np.array(groups)[train]) & set(np.array(groups)[test])
    set()
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.size == 0:
        raise InputError("groups must be a non-empty 1-D sequence: one group (HEK event) per sample")
    given = fractions
    try:
        fractions = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        fractions = None
    if fractions is None or len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise InputError(
            f"fractions must be three non-negative numbers summing to 1 (train, val, test); got {given!r}"
        )
    if labels is not None:
        try:
            labels = np.asarray(labels, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(f"labels must be numbers (0 for non-jet, 1 for jet): {exc}") from exc
        if labels.shape != groups.shape:
            raise InputError(
                f"labels has shape {labels.shape} but groups has {groups.shape}: give one label per sample"
            )
    # Group ids as integers: sklearn accepts any hashable, but integers keep the shuffles independent of
    # how the names happen to sort.
    try:
        _, group_ids = np.unique(groups, return_inverse=True)
    except TypeError as exc:  # groups that cannot be sorted: None among strings, arbitrary objects
        raise InputError(f"groups must be strings or integers, one HEK event per sample ({exc})") from exc
    f_train, f_val, f_test = fractions
    rest, test = _best_cut(group_ids, labels, f_test, seed)
    rest_val_fraction = f_val / (f_train + f_val) if f_train + f_val > 0 else 0.0
    sub_labels = labels[rest] if labels is not None else None
    if f_train == 0:
        train_local, val_local = np.array([], dtype=int), np.arange(len(rest))
    else:
        train_local, val_local = _best_cut(group_ids[rest], sub_labels, rest_val_fraction, seed + 1)
    train, val = rest[train_local], rest[val_local]
    for name, idx, f in (("train", train, f_train), ("validation", val, f_val), ("test", test, f_test)):
        if f > 0 and len(idx) == 0:
            raise InputError(f"the {name} set is empty: there are too few groups ({len(np.unique(groups))})")
    return np.sort(train), np.sort(val), np.sort(test)
