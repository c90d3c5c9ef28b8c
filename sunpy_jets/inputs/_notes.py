"""
What spatial preprocessing changed, worded once for every caller that warns about it.
"""

__all__ = ["preprocessing_notes"]


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
