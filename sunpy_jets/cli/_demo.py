"""
The end-to-end demonstration behind ``sunpy-jets demo``: sequences in, jet events and files out.

`run_demo` loads the bundled default weights, makes a synthetic AIA 304 Å sequence with a jet and
one without (a hard negative), or reads the user's own frames, runs detection on each, prints the
events, and writes what a user of the package would keep: HEK JSON, VOEvent XML and a figure. It
needs no network and runs in well under a minute on two CPU cores.
"""

import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import astropy.units as u
from astropy.table import QTable

from .._atomic import atomic_write_bytes
from ..exceptions import InputError, InputTypeError

__all__ = ["DemoResult", "run_demo", "demo_sequences"]

#: Frames of each synthetic demo sequence (18 minutes at 24 s, so several windows are scanned).
DEMO_FRAMES = 45


@dataclass
class DemoResult:
    """
    What `run_demo` did.

    Attributes
    ----------
    output : `~pathlib.Path`
        The output folder.
    events : dict of str to `~sunpy_jets.events.JetEvents`
        The events detected in each sequence, by sequence name.
    windows : dict of str to `~astropy.table.QTable`
        The probability of every window of each sequence (`~sunpy_jets.JetClassifier.scan`).
    truth : dict of str to bool or None
        Whether each sequence holds a jet (synthetic sequences), `None` for real frames.
    files : list of `~pathlib.Path`
        Every file written.

    Examples
    --------
    `run_demo` fills one in; built by hand it starts empty:

    >>> from pathlib import Path
    >>> from sunpy_jets.cli._demo import DemoResult
    >>> result = DemoResult(Path("demo_output"), truth={"jet": True, "quiet": False})
    >>> result.output.name, result.truth["jet"], result.events, result.windows, result.files
    ('demo_output', True, {}, {}, [])
    >>> result.events is DemoResult(Path("other")).events  # each result has its own containers
    False
    """

    output: Path
    events: dict = field(default_factory=dict)
    windows: dict = field(default_factory=dict)
    truth: dict = field(default_factory=dict)
    files: list = field(default_factory=list)


def demo_sequences(*, seed=0, n_frames=DEMO_FRAMES, config=None):
    """
    The two synthetic demo sequences, at the model's pixel scale and field of view.

    Returns
    -------
    dict of str to `~sunpy_jets.synthetic.SyntheticSequence`
        ``"synthetic_jet"`` (one jet) and ``"synthetic_nonjet"`` (a hard negative or quiet Sun).

    Examples
    --------
    >>> from sunpy_jets.cli._demo import demo_sequences
    >>> seqs = demo_sequences(seed=0, n_frames=3)
    >>> {name: seq.label for name, seq in seqs.items()}
    {'synthetic_jet': True, 'synthetic_nonjet': False}
    """
    from ..model.config import JetModelConfig
    from ..synthetic import make_sequence

    config = JetModelConfig() if config is None else config
    options = {
        "n_frames": n_frames,
        "cadence": config.cadence,
        "shape": (config.image_size, config.image_size),
        "scale": config.fov / config.image_size / u.pix,
    }
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, not {seed!r}")
    # Separate, fixed offsets keep the two scenes independent for any seed.
    return {
        "synthetic_jet": make_sequence(kind="jet", seed=int(seed), **options),
        "synthetic_nonjet": make_sequence(kind="negative", seed=int(seed) + 1_000_003, **options),
    }


def _demo_figure(maps_by_name, windows, events, threshold):
    """
    A figure with, per sequence, three frames (with the events live at that time) and the window probabilities.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.table import QTable
    >>> from sunpy_jets.cli._demo import _demo_figure, demo_sequences
    >>> from sunpy_jets.events import JetEvents
    >>> maps = list(demo_sequences(n_frames=3)["synthetic_jet"].maps)
    >>> start, end = maps[0].date.reshape(1), maps[-1].date.reshape(1)
    >>> windows = QTable({"start_time": start, "end_time": end, "probability": [0.9]})
    >>> found = JetEvents.from_columns(start=start, end=end, probability=[0.9], tx=maps[0].center.Tx.reshape(1),
    ...                                ty=maps[0].center.Ty.reshape(1), width=100 * u.arcsec)
    >>> fig = _demo_figure({"jet": maps}, {"jet": windows}, {"jet": found}, 0.45)
    >>> {ax.coords[0].get_axislabel() for ax in fig.axes[:3]}
    {'Helioprojective Longitude (Solar-X)'}
    >>> fig.axes[1].texts[0].get_text(), fig.axes[1].texts[0].get_fontsize()
    ('... p=0.90', 9.0)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..visualization import plot_events_on_map, plot_probability

    names = list(maps_by_name)
    fig = Figure(figsize=(15, 3.6 * len(names)), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(names), 4, width_ratios=[1, 1, 1, 1.5])
    for row, name in enumerate(names):
        maps, table, found = maps_by_name[name], windows[name], events[name]
        if len(found):
            peak = found.table["event_peaktime"][int(np.argmax(found.table["event_probability"]))]
        elif len(table):
            best = int(np.argmax(table["probability"]))
            peak = table["start_time"][best] + (table["end_time"][best] - table["start_time"][best]) / 2
        else:
            peak = maps[len(maps) // 2].date
        offsets = np.array([(m.date - peak).to_value(u.s) for m in maps])
        for col, i in enumerate((0, int(np.argmin(np.abs(offsets))), len(maps) - 1)):
            m = maps[i]
            ax = fig.add_subplot(grid[row, col], projection=m)
            title = f"{name}\n{m.date.strftime('%Y-%m-%d %H:%M:%S')} UTC"
            m.plot(axes=ax, clip_interval=(1, 99.7) * u.percent, title=title)
            # Every panel keeps sunpy's longitude label; the latitude label is said once per row.
            if col:
                ax.coords[1].set_axislabel(" ")
            live = (found.table["event_starttime"] <= m.date) & (found.table["event_endtime"] >= m.date)
            if live.any():
                plot_events_on_map(m, found[live], axes=ax, color="cyan")
        ax = plot_probability(table, events=found, threshold=threshold, axes=fig.add_subplot(grid[row, 3]))
        ax.set_title(f"{name}: jet probability of each window")
    return fig


def _figure(maps_by_name, windows, events, threshold):
    """`_demo_figure` as PNG bytes."""
    buffer = io.BytesIO()
    _demo_figure(maps_by_name, windows, events, threshold).savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def _summary(result, threshold) -> QTable:
    rows = []
    for name, found in result.events.items():
        table = result.windows[name]
        best = float(np.max(table["probability"])) if len(table) else float("nan")
        truth = result.truth[name]
        truth = "" if truth is None else str(truth)
        if not len(found):
            rows.append((name, truth, len(table), best, 0, "", "", np.nan, np.nan, np.nan))
        for ev in found.table:
            rows.append((
                name, truth, len(table), best, len(found),
                ev["event_starttime"].isot[:19], ev["event_endtime"].isot[:19], float(ev["event_probability"]),
                float(ev["event_coord"].Tx.to_value(u.arcsec)), float(ev["event_coord"].Ty.to_value(u.arcsec)),
            ))  # fmt: skip
    names = ("sequence", "has_jet", "windows", "max_prob", "events", "start", "end", "peak_prob", "Tx", "Ty")
    table = QTable(rows=rows, names=names)
    for col in ("max_prob", "peak_prob"):
        table[col].format = ".3f"
    for col in ("Tx", "Ty"):
        table[col] = table[col] * u.arcsec
        table[col].info.format = ".0f"
    table.meta["threshold"] = threshold
    return table


def run_demo(output="sunpy_jets_demo", *, frames=None, device="auto", seed=0, n_frames=DEMO_FRAMES, classifier=None,
             progress=True, stream=None) -> DemoResult:  # fmt: skip
    """
    Detect jets in a synthetic jet sequence and a synthetic non-jet one (or in real frames) and write the results.

    Parameters
    ----------
    output : str or `~pathlib.Path`
        Folder for the files (created if needed): ``events_<name>.json`` (HEK JSON, readable with
        `~sunpy_jets.events.JetEvents.read`), ``voevent_<name>/*.xml`` (one VOEvent per event) and
        ``demo.png``.
    frames : str or `~pathlib.Path`, optional
        A folder (or glob) of AIA 304 Å FITS frames to use instead of the synthetic sequences.
    device : str or `torch.device`
        Where to run the model.
    seed : int
        Seed of the synthetic sequences.
    n_frames : int
        Frames of each synthetic sequence.
    classifier : `~sunpy_jets.JetClassifier`, optional
        The classifier (default: `~sunpy_jets.JetClassifier.from_pretrained`, the bundled weights).
    progress : bool
        Show progress bars.
    stream : file-like, optional
        Where the report is printed (default: standard output).

    Returns
    -------
    `DemoResult`

    Examples
    --------
    >>> import tempfile, io
    >>> from sunpy_jets.cli._demo import run_demo
    >>> result = run_demo(tempfile.mkdtemp(), n_frames=30, progress=False, stream=io.StringIO())  # doctest: +SKIP
    >>> sorted(result.events)  # doctest: +SKIP
    ['synthetic_jet', 'synthetic_nonjet']
    """
    from ..classifier import JetClassifier
    from ..inputs.maps import load_maps

    stream = sys.stdout if stream is None else stream
    if not isinstance(output, (str, Path)):
        raise InputTypeError(f"output must be a folder path, not {type(output).__name__}")
    output = Path(output).expanduser()
    if output.exists() and not output.is_dir():
        raise InputError(f"output {output} exists and is not a folder; give a folder for the demo's files")
    if classifier is None:
        classifier = JetClassifier.from_pretrained(device=device, progress=progress)
    elif not isinstance(classifier, JetClassifier):
        raise InputTypeError(f"classifier must be a JetClassifier, not {type(classifier).__name__}")
    config = classifier.config

    result = DemoResult(output=output)
    if frames is None:
        sequences = demo_sequences(seed=seed, n_frames=n_frames, config=config)
        maps_by_name = {name: list(seq.maps) for name, seq in sequences.items()}
        result.truth = {name: bool(seq.label) for name, seq in sequences.items()}
    else:
        if not isinstance(frames, (str, Path)):
            raise InputTypeError(f"frames must be a folder or glob of FITS files, not {type(frames).__name__}")
        name = Path(str(frames).rstrip("/*")).name or "frames"
        maps_by_name = {name: load_maps(frames, instrument=config.instrument, wavelength=config.wavelength)}
        result.truth = {name: None}

    for name, maps in maps_by_name.items():
        print(f"{name}: {len(maps)} frames from {maps[0].date.isot[:19]}, scanning...", file=stream)
        result.windows[name] = classifier.scan(maps, progress=progress)
        result.events[name] = classifier.detect(maps, progress=progress)

    output.mkdir(parents=True, exist_ok=True)
    for name, found in result.events.items():
        result.files.append(found.write(output / f"events_{name}.json"))
        # generated scenes: marked as a trial, with the demo as their maker (they are not for the HEK)
        demo_provenance = {"frm_institute": "sunpy_jets demo (generated data)", "frm_contact": "nobody@example.org"}
        result.files.extend(found.to_voevent(output / f"voevent_{name}", test=True, **demo_provenance)
                            if len(found) else [])
    png = _figure(maps_by_name, result.windows, result.events, classifier.threshold)
    result.files.append(atomic_write_bytes(output / "demo.png", png))

    summary = _summary(result, classifier.threshold)
    print(
        f"\nJet events found by {classifier.card.name or 'the model'} (threshold {classifier.threshold:.3f}):",
        file=stream,
    )
    print("\n".join(summary.pformat(max_lines=-1, max_width=-1)), file=stream)
    print(f"\nWrote {len(result.files)} files to {output.resolve()}:", file=stream)
    for path in result.files:
        print(f"  {Path(path).relative_to(output)}", file=stream)
    return result
