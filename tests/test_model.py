import pytest
import torch

from sunpy_jets.exceptions import InputError
from sunpy_jets.model import FrameEncoder, JetModelConfig, JetRCNN
from sunpy_jets.scanning._windows import classify_gates, input_gates, window_logits

TINY = JetModelConfig(image_size=32, channels=(8, 16), hidden_size=16, n_frames=6)


@pytest.fixture(params=[(), (4, 8)], ids=["appearance", "with-differences"])
def model(request):
    torch.manual_seed(0)
    return JetRCNN(TINY.replace(difference_channels=request.param)).eval()


def test_default_config_follows_published_recipe():
    config = JetModelConfig()
    assert (config.n_frames, config.image_size, config.cadence_s, config.fov_arcsec) == (30, 166, 24.0, 300.0)
    assert config.wavelength_angstrom == 304.0
    # 300" over 166 pixels: the 3x3 max-pool of 0.6" AIA pixels.
    assert abs(config.pixel_scale.value - 300 / 166) < 1e-12


def test_default_model_is_small_enough_for_cpu():
    model = JetRCNN()
    assert model.n_parameters < 5_000_000
    lstm = model.lstm
    assert lstm.batch_first
    assert lstm.input_size == model.encoder.out_features


@pytest.mark.parametrize("n_frames", [1, 2, 6, 11])
def test_accepts_any_sequence_length(model, n_frames):
    x = torch.randn(3, n_frames, 1, 32, 32)
    with torch.inference_mode():
        out = model(x)
    assert out.shape == (3,)
    assert torch.isfinite(out).all()


def test_output_does_not_depend_on_batch_mates(model):
    """The CS-433 model's LSTM ran across the batch; ours must not."""
    torch.manual_seed(1)
    sample = torch.randn(1, 6, 1, 32, 32)
    others_a = torch.randn(3, 6, 1, 32, 32)
    others_b = 5 * torch.randn(7, 6, 1, 32, 32)
    with torch.inference_mode():
        alone = model(sample)[0]
        with_a = model(torch.cat([others_a, sample]))[-1]
        with_b = model(torch.cat([sample, others_b]))[0]
    torch.testing.assert_close(with_a, alone, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(with_b, alone, rtol=1e-5, atol=1e-6)


def test_output_depends_on_frame_order(model):
    """A temporal model sees the order of frames (a bag-of-frames model would not)."""
    torch.manual_seed(2)
    x = torch.randn(1, 6, 1, 32, 32)
    with torch.inference_mode():
        forward = model(x)
        backward = model(x.flip(1))
    assert not torch.allclose(forward, backward)


def test_split_forward_equals_forward(model):
    x = torch.randn(2, 6, 1, 32, 32)
    with torch.inference_mode():
        feats = model.encode_frames(x.reshape(12, 1, 32, 32)).reshape(2, 6, -1)
        torch.testing.assert_close(model.classify_features(feats), model(x))


def test_window_logits_match_full_windows(model):
    x = torch.randn(10, 1, 32, 32)
    with torch.inference_mode():
        feats = model.encode_frames(x)
        windows = window_logits(model, feats, window=4, stride=3)
        expected = torch.stack([model(x[s : s + 4][None])[0] for s in (0, 3, 6)])
    torch.testing.assert_close(windows, expected, rtol=1e-5, atol=1e-6)
    # A sequence shorter than a window is one window.
    with torch.inference_mode():
        assert window_logits(model, feats[:3], window=4).shape == (1,)


def test_encoder_pools_to_twice_last_channels():
    encoder = FrameEncoder((4, 8, 12)).eval()
    assert encoder(torch.zeros(2, 1, 40, 40)).shape == (2, 24)


@pytest.mark.parametrize("shape", [(166, 166), (165, 169), (33, 32), (7, 9)])
def test_inference_path_equals_the_layers(shape):
    # feature_maps without gradients folds batch norm, runs channels-last and the first stage on 2×2 pixel
    # blocks: the same numbers as the layers themselves, on even and odd frame sizes
    torch.manual_seed(1)
    encoder = FrameEncoder((8, 16, 24)).eval()
    for bn in (m for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.normal_()
        bn.bias.data.normal_()
    x = torch.randn(3, 1, *shape)
    with torch.no_grad():
        fast = encoder.feature_maps(x)
        layers = encoder.features(x)
    assert fast.shape == layers.shape
    torch.testing.assert_close(fast, layers, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_frames": 0}, "n_frames"),
        ({"dropout": 1.0}, "dropout"),
        ({"channels": ()}, "channels"),
        ({"clip_min": 5.0, "clip_max": 1.0}, "clip_max"),
        ({"std": 0.0}, "std"),
        ({"image_size": 4, "channels": (1, 1, 1, 1)}, "image_size"),
        ({"difference_channels": (4, 8)}, "one positive int per stage"),
        ({"difference_channels": 8}, "tuple of ints"),
        ({"smoothing_arcsec": -1.0}, "smoothing_arcsec"),
        ({"smoothing_arcsec": float("nan")}, "smoothing_arcsec"),
    ],
)
def test_invalid_config_is_refused(changes, match):
    with pytest.raises(InputError, match=match):
        JetModelConfig(**changes)


def test_config_dict_round_trip_and_unknown_keys():
    config = JetModelConfig(channels=[4, 8], hidden_size=12)
    assert config.channels == (4, 8)
    assert JetModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InputError, match="unknown model configuration keys"):
        JetModelConfig.from_dict({**config.to_dict(), "colour": "blue"})


def test_model_rejects_wrong_input_shape(model):
    with pytest.raises(InputError, match=r"\(B, T, 1, H, W\)"):
        model(torch.zeros(2, 32, 32))


def test_precomputed_gates_equal_the_lstm(model):
    torch.manual_seed(3)
    features = model.window_start(torch.randn(4, 6, model.config.feature_size))
    with torch.inference_mode():
        torch.testing.assert_close(
            classify_gates(model, input_gates(model, features)), model.classify_features(features), rtol=1e-5, atol=1e-6
        )


def test_config_with_differences_round_trips_and_sizes_the_lstm():
    config = TINY.replace(difference_channels=[2, 4])
    assert config.difference_channels == (2, 4)
    assert JetModelConfig.from_dict(config.to_dict()) == config
    model = JetRCNN(config)
    assert config.feature_size == 2 * 16 + 2 * 4 == model.lstm.input_size
    # The published architecture has no difference encoder, so its weight files keep their tensor names.
    assert JetRCNN(TINY).difference_encoder is None
    assert not any(name.startswith("difference_encoder") for name in JetRCNN(TINY).state_dict())


def test_a_window_sees_only_its_own_frames():
    """With a difference encoder, a window's logit must not depend on the frame before it."""
    torch.manual_seed(4)
    model = JetRCNN(TINY.replace(difference_channels=(4, 8))).eval()
    x = torch.randn(9, 1, 32, 32)
    changed = x.clone()
    changed[2] += 3.0  # the frame just before the window that starts at frame 3
    with torch.inference_mode():
        alone = model(x[3:9][None])[0]
        for frames in (x, changed):
            torch.testing.assert_close(window_logits(model, model.encode_frames(frames), 6, 3)[1], alone)
        # ... while the frame's change is seen by a window that holds both frames.
        assert not torch.allclose(model(x[2:8][None]), model(changed[2:8][None]))


def test_difference_features_see_change_only():
    torch.manual_seed(5)
    model = JetRCNN(TINY.replace(difference_channels=(4, 8))).eval()
    frame = torch.randn(1, 1, 32, 32)
    n = model.encoder.out_features
    with torch.inference_mode():
        still = model.encode_frames(frame.expand(3, -1, -1, -1))
        moving = model.encode_frames(torch.cat([frame, frame + 1.0, frame]))
        encoded_in_parts = torch.cat([
            model.encode_frames(torch.cat([frame, frame + 1.0])), model.encode_frames(frame, previous=frame[0] + 1.0)
        ])  # fmt: skip
    torch.testing.assert_close(still[1:, n:], model.window_start(still)[1:, n:])
    assert not torch.allclose(moving[1, n:], still[1, n:])
    torch.testing.assert_close(moving[:, :n], torch.cat([still[:1, :n], model.encode_frames(frame + 1.0)[:, :n], still[:1, :n]]))
    torch.testing.assert_close(encoded_in_parts, moving)


def test_smoothing_is_the_networks_first_step_and_keeps_old_cards_digests():
    torch.manual_seed(6)
    config = TINY.replace(difference_channels=(4, 8), smoothing_arcsec=2 * TINY.pixel_scale.value)
    smoothed, plain = JetRCNN(config).eval(), JetRCNN(config.replace(smoothing_arcsec=0.0)).eval()
    plain.load_state_dict(smoothed.state_dict())  # the smoothing is fixed: no tensor of its own in the weights
    assert set(smoothed.state_dict()) == set(plain.state_dict())
    x = torch.randn(2, 5, 1, 32, 32)
    with torch.inference_mode():
        by_hand = plain(smoothed.smooth(x))
        torch.testing.assert_close(smoothed(x), by_hand)
        assert not torch.allclose(plain(x), by_hand)
    # a constant frame stays constant (edges replicated, taps summing to one)
    torch.testing.assert_close(smoothed.smooth(torch.full((1, 1, 32, 32), 3.0)), torch.full((1, 1, 32, 32), 3.0))
    assert JetModelConfig.from_dict(config.to_dict()) == config
    assert config.smoothing.to_value("arcsec") == config.smoothing_arcsec
    # written only when set, so a card saved before the field existed keeps its checksum
    assert "smoothing_arcsec" not in TINY.to_dict() and "smoothing_arcsec" in config.to_dict()
