"""
What spatial preprocessing changed, worded once for every caller that warns about it.
"""

__all__ = ["preprocessing_notes", "summarize_notes"]


def preprocessing_notes(config, *, padded, extent, n_missing) -> list[str]:
    """What spatial preprocessing changed, as the messages of the `InputWarning` callers issue."""
    notes = []
    if padded:
        notes.append(
            f"the data cover {extent[0]:.0f} × {extent[1]:.0f} of the model's {config.fov:.0f} field of "
            "view; the rest was padded with each frame's median"
        )
    if n_missing:
        notes.append(f"{n_missing} NaN or infinite pixels were replaced by their frame's median")
    return notes


def summarize_notes(notes) -> str:
    """
    The one message of an `InputWarning` that reports every change made to the input.

    One warning per call, summarising every change, rather than one warning per change.

    Parameters
    ----------
    notes : sequence of `str`
        What was changed, one message per change (at least one).

    Returns
    -------
    `str`
        The single note as it is, or all of them after ``"the input was changed: "``, separated by ``"; "``.

    Examples
    --------
    >>> from sunpy_jets.inputs._notes import summarize_notes
    >>> summarize_notes(["3 NaN or infinite pixels were replaced by their frame's median"])
    "3 NaN or infinite pixels were replaced by their frame's median"
    >>> summarize_notes(["the frames were resampled", "the sequence spans 5 frames"])
    'the input was changed: the frames were resampled; the sequence spans 5 frames'
    """
    return notes[0] if len(notes) == 1 else "the input was changed: " + "; ".join(notes)
