"""Inference pipelines: every input form, long-recording timeline, bad input."""

import subprocess

import numpy as np
import pytest
import torch
from conftest import tiny_config
from transformers import pipeline

from modeling_emosphere import EmoSphereFeatureExtractor, EmoSphereForSpeechEmotionRecognition

RATE = 16000


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    EmoSphereForSpeechEmotionRecognition(tiny_config()).save_pretrained(folder)
    EmoSphereFeatureExtractor(normalization="global", waveform_mean=0.0, waveform_std=0.1).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """One second of a real espeak-ng utterance at 16 kHz, and the same audio as files."""
    folder = tmp_path_factory.mktemp("audio")
    subprocess.run(["espeak-ng", "-w", str(folder / "raw.wav"), "The pipeline reads this sentence."], check=True)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(folder / "raw.wav"), "-ar", str(RATE), "-ac", "1", "-c:a", "pcm_f32le", str(folder / "speech.wav")],
        check=True,
    )
    for extension in ("flac", "ogg", "mp3"):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(folder / "speech.wav"), str(folder / f"speech.{extension}")], check=True)
    from torchcodec.decoders import AudioDecoder

    array = AudioDecoder(str(folder / "speech.wav")).get_all_samples().data[0].numpy()
    return folder, array


def regression(model_dir):
    return pipeline("speech-emotion-recognition", model=str(model_dir))


def test_every_input_form_gives_the_same_prediction(model_dir, speech):
    folder, array = speech
    recognise = regression(model_dir)
    reference = recognise(array)
    same = [str(folder / "speech.wav"), (folder / "speech.wav").read_bytes(), str(folder / "speech.flac"), {"raw": array, "sampling_rate": RATE}]
    for form in same:
        result = recognise(form)
        for name in ("arousal", "valence", "dominance"):
            assert result[name] == pytest.approx(reference[name], abs=1e-4), (type(form), name)
    # Lossy formats and resampled inputs: the same within a stated tolerance (0.05 on the 1..7 scale).
    from modeling_emosphere.pipeline_emosphere import _resample

    lossy = [str(folder / "speech.ogg"), str(folder / "speech.mp3")]
    for rate in (8000, 22050, 44100, 48000):
        resampled = _resample(array, RATE, rate)
        lossy += [{"raw": resampled, "sampling_rate": rate}, {"array": np.stack([resampled, resampled]), "sampling_rate": rate}]
    for form in lossy:
        result = recognise(form)
        assert result["arousal"] == pytest.approx(reference["arousal"], abs=0.05)


def test_result_fields(model_dir, speech):
    result = regression(model_dir)(speech[1])
    assert set(result) == {"arousal", "valence", "dominance", "region", "region_scores", "spherical"}
    assert result["region"] == max(result["region_scores"], key=result["region_scores"].get)
    assert sum(result["region_scores"].values()) == pytest.approx(1.0, abs=1e-5)
    assert set(result["spherical"]) == {"r", "theta", "phi"}


def test_batched_inputs_match_single_ones(model_dir, speech):
    recognise = regression(model_dir)
    clips = [speech[1], speech[1][: RATE // 2], speech[1][RATE // 4 :]]
    single = [recognise(clip) for clip in clips]
    batched = recognise(clips, batch_size=3)
    for one, many in zip(single, batched):
        assert many["valence"] == pytest.approx(one["valence"], abs=1e-4)


def test_audio_classification_pipeline_returns_regions_from_a_resampled_dict(model_dir, speech):
    from modeling_emosphere import EmoSphereAudioClassificationPipeline
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    classify = EmoSphereAudioClassificationPipeline(
        model=AutoModelForAudioClassification.from_pretrained(model_dir),
        feature_extractor=AutoFeatureExtractor.from_pretrained(model_dir),
    )
    from modeling_emosphere.pipeline_emosphere import _resample

    result = classify({"raw": _resample(speech[1], RATE, 44100), "sampling_rate": 44100}, top_k=8)
    assert len(result) == 8 and result[0]["label"].startswith(("I ", "II", "III", "IV", "V", "VI", "VII", "VIII"))
    assert sum(item["score"] for item in result) == pytest.approx(1.0, abs=1e-5)


def test_long_recording_timeline_covers_without_gaps(model_dir, speech):
    recording = np.tile(speech[1], 7)[: int(6.5 * RATE)]
    result = regression(model_dir)(recording, chunk_length_s=2.0, stride_length_s=1.5)
    segments = result["segments"]
    assert segments[0]["start"] == 0.0 and segments[-1]["end"] == pytest.approx(6.5)
    for before, after in zip(segments, segments[1:]):
        assert after["start"] <= before["end"]
    durations = np.array([s["end"] - s["start"] for s in segments])
    expected = float((np.array([s["valence"] for s in segments]) * durations).sum() / durations.sum())
    assert result["valence"] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros(0, dtype=np.float32), "the audio is empty"),
        (np.zeros(10, dtype=np.float32), "shorter than the encoder's receptive field"),
        (np.array([0.0, np.nan] * 500, dtype=np.float32), "NaN or inf"),
        ({"raw": np.zeros(1000), "sampling_rate": 0}, "sampling_rate must be a positive"),
        ({"raw": np.zeros(1000), "sampling_rate": -8000}, "sampling_rate must be a positive"),
        (b"not audio at all", "not a readable audio file"),
    ],
)
def test_bad_input_is_named(model_dir, bad, message):
    with pytest.raises(ValueError, match=message):
        regression(model_dir)(bad)


def test_unreadable_file_error_names_the_path(model_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("this is text")
    with pytest.raises(ValueError, match=r"notes\.txt: not a readable audio file"):
        regression(model_dir)(str(tmp_path / "notes.txt"))


def test_command_line_prints_json_and_csv_and_draws_a_timeline(model_dir, speech, tmp_path, capsys):
    import json

    from modeling_emosphere import predict

    wav = str(speech[0] / "speech.wav")
    predict.main([str(model_dir), wav, str(speech[0] / "speech.flac")])
    printed = json.loads(capsys.readouterr().out)
    assert [item["file"] for item in printed] == [wav, str(speech[0] / "speech.flac")]
    assert printed[0]["valence"] == pytest.approx(printed[1]["valence"], abs=1e-4)
    predict.main([str(model_dir), wav, "--csv"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "file,arousal,valence,dominance,region" and lines[1].startswith(wav + ",")
    long_file = tmp_path / "long.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-stream_loop", "5", "-i", wav, str(long_file)], check=True)
    predict.main([str(model_dir), str(long_file), "--chunk-length-s", "1.0", "--plot", str(tmp_path / "timeline.png")])
    segments = json.loads(capsys.readouterr().out)[0]["segments"]
    assert len(segments) >= 5
    assert (tmp_path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_batch_error_names_the_failing_item(model_dir, speech, tmp_path):
    (tmp_path / "broken.wav").write_bytes(b"RIFF broken")
    recognise = regression(model_dir)
    with pytest.raises(ValueError, match=r"input 2: the audio contains NaN"):
        recognise([speech[1], speech[1], np.full(2000, np.nan, dtype=np.float32)], batch_size=2)
    with pytest.raises(ValueError, match=r"input 1 \(.*broken\.wav\): not a readable audio file"):
        recognise([speech[1], str(tmp_path / "broken.wav")])
