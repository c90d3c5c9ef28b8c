"""
Smoke test of the benchmark suite (``benchmarks/run.py --quick``): every case runs end to end at
tiny sizes and writes the JSON the README describes, so the suite cannot rot unnoticed.

The numbers themselves are not checked (timings on a shared machine are noise); their presence,
units and the baseline ratios are.
"""

import json
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def suite():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run  # noqa: PLC0415  (benchmarks/ is not a package of sunpy_jets)

        yield run
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def quick_results(suite, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    threads = torch.get_num_threads()
    try:
        suite.main(["--quick", "--json", str(out), "--workdir", str(out.parent / "work")])
    finally:
        torch.set_num_threads(threads)
    return json.loads(out.read_text())


def test_baseline_matches_published_size(suite):
    from baseline_rcnn import BaselineRCNN, count_flops  # noqa: PLC0415

    model = BaselineRCNN().eval()
    assert round(model.n_parameters / 1e6, 1) == 18.1
    assert round(model.lstm_parameters / 1e6, 1) == 13.4
    flops = count_flops(model, torch.zeros(1, 30, 166, 166), lstm_steps=1)
    assert 12.7e9 < flops < 12.9e9


def test_baseline_mixes_the_batch_as_published(suite):
    # The published LSTM reads the batch as its time axis: a sample's output depends on the ones before it.
    from baseline_rcnn import BaselineRCNN  # noqa: PLC0415

    torch.manual_seed(0)
    model = BaselineRCNN(n_frames=4, image_size=32).eval()
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        alone = model(x[1:])
        batched = model(x)
    assert not torch.allclose(alone, batched[1:])


def test_proposed_path_gives_the_model_outputs(suite):
    from proposed import FastEncoder  # noqa: PLC0415
    from sunpy_jets.model import JetModelConfig, JetRCNN  # noqa: PLC0415

    torch.manual_seed(0)
    model = JetRCNN(JetModelConfig(image_size=48, n_frames=5)).eval()
    # Non-trivial batch-norm statistics, so that folding them into the convolutions is really tested.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    x = torch.randn(3, 5, 1, 48, 48)
    with torch.inference_mode():
        expected = model(x)
        got = FastEncoder(model, chunk=4)(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_quick_run_covers_every_case(suite, quick_results):
    from cases import CASES  # noqa: PLC0415

    rows = quick_results["rows"]
    assert {r["case"] for r in rows} == set(CASES)
    assert quick_results["machine"]["torch"] == torch.__version__
    assert quick_results["machine"]["matmul_fp32_gflops"] > 0
    for r in rows:
        assert r["rate"] > 0, r
        assert r["unit"] in {"seq", "frame", "file", "window"}
    # Every case with a baseline gives each variant's ratio to it.
    for r in rows:
        if any(o["variant"] == "baseline" and o["measurement"] == r["measurement"] for o in rows):
            assert r["vs_baseline"] == pytest.approx(r["rate"] / next(
                o["rate"] for o in rows if o["variant"] == "baseline" and o["measurement"] == r["measurement"]))
    # One memory probe runs in --quick, in a fresh process.
    probed = [r for r in rows if "peak_rss_mib" in r]
    assert len(probed) == 1 and probed[0]["peak_rss_mib"] > probed[0]["work_rss_mib"] >= 0


def test_table_lists_every_row(suite, quick_results):
    body = suite.format_table(quick_results["rows"]).split("\n\n")[0].splitlines()[2:]  # after header and rule
    assert len(body) == len(quick_results["rows"])
    assert [line.split()[0] for line in body] == [r["case"] for r in quick_results["rows"]]


def test_unknown_case_is_refused(suite, tmp_path):
    with pytest.raises(SystemExit, match="unknown case"):
        suite.main(["--quick", "--no-memory", "--cases", "nonsense", "--json", str(tmp_path / "x.json")])


def test_rst_report_has_a_row_per_result(suite, quick_results):
    from report import rst_table  # noqa: PLC0415

    table = rst_table(quick_results)
    assert table.count("   * - ") == len(quick_results["rows"]) + 1  # + the header row


def test_public_api_rows_time_their_stages(suite, quick_results):
    from cases._stages import STAGES  # noqa: PLC0415

    staged = [r for r in quick_results["rows"] if "stages_s" in r]
    assert staged and {r["case"] for r in staged} == {"public_api"}
    for r in staged:
        assert set(r["stages_s"]) <= set(STAGES), r["stages_s"]
        assert {"check", "preprocess", "encode", "windows"} <= set(r["stages_s"]), r
        assert all(v > 0 for v in r["stages_s"].values()) and r["stages_call_s"] > 0
    assert any("read" in r["stages_s"] for r in staged)  # the file measurements (the shared real data are here)


def test_stage_timing_names_the_stages_and_restores_the_package(suite):
    from cases._stages import stage_times  # noqa: PLC0415
    from sunpy_jets.model import JetModelConfig, JetRCNN  # noqa: PLC0415

    before = JetRCNN.encode_frames, JetRCNN.classify_features
    model = JetRCNN(JetModelConfig(image_size=32, n_frames=3, channels=(4,), hidden_size=4)).eval()
    with torch.inference_mode():
        stages, total = stage_times(lambda: model(torch.zeros(2, 3, 1, 32, 32)) + model.encode_frames(torch.zeros(1, 1, 32, 32)).sum())
    # forward's encoder runs inside no timed stage; its LSTM is classify_features ("windows").
    assert set(stages) == {"encode", "windows"}
    assert sum(stages.values()) <= total
    assert (JetRCNN.encode_frames, JetRCNN.classify_features) == before
