"""push_to_hub.py: staging exactly what is published, and loading it where this package is not installed."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from conftest import tiny_config
import push_to_hub
from modeling_emosphere import (
    EmoSphereFeatureExtractor,
    EmoSphereForSpeechEmotionRecognition,
    SpeechEmotionRecognitionPipeline,
)

METRICS = {"eval_ccc_arousal": 0.61, "eval_ccc_valence": 0.42, "eval_ccc_dominance": 0.55, "eval_ccc_mean": 0.5267,
           "test_ccc_arousal": 0.6, "test_ccc_valence": 0.4, "test_ccc_dominance": 0.5, "test_ccc_mean": 0.5,
           "test_region_accuracy": 0.3}  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    torch.manual_seed(0)
    EmoSphereForSpeechEmotionRecognition(tiny_config()).save_pretrained(folder)
    EmoSphereFeatureExtractor(waveform_mean=0.001, waveform_std=0.08).save_pretrained(folder)
    (folder / "metrics.json").write_text(json.dumps(METRICS))
    return folder


@pytest.fixture(scope="module")
def staged(trained, tmp_path_factory):
    target = tmp_path_factory.mktemp("staged") / "upload"
    push_to_hub.main([str(trained), "--repo-id", "someone/emosphere-tiny", "--local-dir", str(target)])
    return target


def test_folder_without_metrics_is_refused_before_any_network(tmp_path):
    EmoSphereForSpeechEmotionRecognition(tiny_config()).save_pretrained(tmp_path)
    EmoSphereFeatureExtractor().save_pretrained(tmp_path)
    with pytest.raises(SystemExit, match=r"missing: metrics.json"):
        push_to_hub.main([str(tmp_path), "--repo-id", "someone/x"])


def test_folder_that_is_not_a_model_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="config.json .*model.safetensors"):
        push_to_hub.main([str(tmp_path), "--repo-id", "someone/x"])


def test_staged_files_are_safetensors_code_and_card_without_local_paths(staged, trained):
    names = sorted(p.name for p in staged.iterdir())
    assert "model.safetensors" in names and not [n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl"))]
    for name in ("modeling_emosphere.py", "configuration_emosphere.py", "spherical.py", "pipeline_emosphere.py", "README.md"):
        assert name in names
    for path in staged.iterdir():
        assert str(trained) not in path.read_text(errors="ignore"), path.name
    config = json.loads((staged / "config.json").read_text())
    assert config["auto_map"]["AutoModelForAudioClassification"].endswith("EmoSphereForSpeechEmotionRecognition")
    assert set(config["custom_pipelines"]) == {"audio-classification", "speech-emotion-recognition"}


def test_model_card_yaml_carries_the_metrics_of_the_run(staged):
    text = (staged / "README.md").read_text()
    header = yaml.safe_load(text.split("---")[1])
    assert header["library_name"] == "transformers" and header["pipeline_tag"] == "audio-classification"
    metrics = {m["name"]: m["value"] for r in header["model-index"][0]["results"] if r["dataset"]["split"] == "test" for m in r["metrics"]}
    assert metrics == {"CCC arousal": 0.6, "CCC valence": 0.4, "CCC dominance": 0.5, "CCC mean": 0.5}
    assert "must not be used to make decisions about people at work or in education" in text


LOAD_WITHOUT_PACKAGE = r"""
import json, sys
sys.modules["modeling_emosphere"] = None  # the package cannot be imported here
import numpy as np, torch
from transformers import AutoFeatureExtractor, AutoModel, AutoModelForAudioClassification, pipeline
folder, audio_path = sys.argv[1], sys.argv[2]
audio = np.load(audio_path)
extractor = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
inputs = extractor(audio, sampling_rate=16000, return_tensors="pt")
classifier = AutoModelForAudioClassification.from_pretrained(folder, trust_remote_code=True).eval()
base = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
with torch.no_grad():
    out = classifier(**inputs)
    pooled = base(**inputs).pooled_output
ser = pipeline("speech-emotion-recognition", model=folder, trust_remote_code=True)
classify = pipeline("audio-classification", model=folder, trust_remote_code=True)
print(json.dumps({
    "vad": out.vad.tolist(), "logits": out.logits.tolist(), "pooled": pooled.tolist(),
    "ser": ser(audio), "classify": classify({"raw": audio, "sampling_rate": 16000}, top_k=3),
    "classes": [type(classifier).__module__, type(ser).__name__, type(classify).__name__],
}))
"""


def test_staged_folder_loads_where_the_package_cannot_be_imported(staged, tmp_path):
    audio = np.random.default_rng(0).normal(scale=0.1, size=16000).astype(np.float32)
    np.save(tmp_path / "audio.npy", audio)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["HF_HOME"] = str(tmp_path / "hf_home")  # fresh dynamic-module cache
    result = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_PACKAGE, str(staged), str(tmp_path / "audio.npy")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.strip().splitlines()[-1])
    assert not remote["classes"][0].startswith("modeling_emosphere")
    assert remote["classes"][1:] == ["SpeechEmotionRecognitionPipeline", "EmoSphereAudioClassificationPipeline"]

    model = EmoSphereForSpeechEmotionRecognition.from_pretrained(staged).eval()
    extractor = EmoSphereFeatureExtractor.from_pretrained(staged)
    with torch.no_grad():
        local = model(**extractor(audio, sampling_rate=16000, return_tensors="pt"))
    np.testing.assert_allclose(remote["vad"], local.vad.numpy(), atol=1e-6)
    np.testing.assert_allclose(remote["logits"], local.logits.numpy(), atol=1e-6)
    np.testing.assert_allclose(remote["pooled"], local.pooled_output.numpy(), atol=1e-6)
    local_ser = SpeechEmotionRecognitionPipeline(model=model, feature_extractor=extractor)(audio)
    for name in ("arousal", "valence", "dominance"):
        assert remote["ser"][name] == pytest.approx(local_ser[name], abs=1e-5)
    probabilities = local.logits.softmax(-1)[0]
    top = probabilities.argsort(descending=True)[:3]
    assert [item["label"] for item in remote["classify"]] == [model.config.id2label[int(i)] for i in top]
