"""
Issue 19, item 12: ``scan`` and ``detect`` say what they did to the input once per call, at the user's line.
"""

import warnings

import sunpy.map

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputWarning
from sunpy_jets.model import JetModelConfig


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, InputWarning)]


def test_scan_and_detect_warn_once_at_the_users_line(aia304_files):
    # 26 real frames at 36 s, 222" wide: resampled to the model's 24 s and padded to its 300" field
    clf = JetClassifier(JetModelConfig(), device="cpu", seed=0, progress=False)
    center = sunpy.map.Map(aia304_files[0]).center
    for call in (lambda: clf.scan(aia304_files, center=center), lambda: clf.detect(aia304_files, center=center)):
        caught = _caught(call)
        assert len(caught) == 1, [str(w.message) for w in caught]
        assert caught[0].filename == __file__
        message = str(caught[0].message)
        assert message.startswith("the input was changed") and "resampled" in message and "padded" in message
    # (detect's one warning also shows that the 26 frames, fewer than a window's 30 but spanning more than a
    # window at 36 s, were scanned, not classified as one window with a 'spans more than a window' warning)
