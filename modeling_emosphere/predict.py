"""Command line: A/V/D, region and spherical coordinates of audio files as JSON or CSV.

    python -m modeling_emosphere.predict MODEL FILE [FILE ...] [--csv] [--chunk-length-s 10 --plot timeline.png]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys

from transformers import pipeline

import modeling_emosphere  # noqa: F401  (registers the model and the pipeline task)


def plot_timeline(result: dict, names: list[str], path: str, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    segments = result["segments"]
    middles = [(s["start"] + s["end"]) / 2 for s in segments]
    figure, axis = plt.subplots(figsize=(10, 3.5), constrained_layout=True)
    for name in names:
        axis.plot(middles, [s[name] for s in segments], marker="o", markersize=3, label=name)
    axis.set(xlabel="time (s)", ylabel="label scale", title=title)
    axis.legend()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="Model folder or Hub id.")
    parser.add_argument("files", nargs="+", help="Audio files (anything FFmpeg reads).")
    parser.add_argument("--csv", action="store_true", help="Print CSV (file, A, V, D, region) instead of JSON.")
    parser.add_argument("--chunk-length-s", type=float, help="Score windows of this length: a timeline per file.")
    parser.add_argument("--stride-length-s", type=float, help="Hop between windows (default: the window length).")
    parser.add_argument("--plot", help="PNG of the A/V/D timeline of the first file (needs --chunk-length-s).")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--device", default=None, help="e.g. cpu, cuda, cuda:1")
    args = parser.parse_args(argv)
    if args.plot and not args.chunk_length_s:
        parser.error("--plot draws a timeline: give --chunk-length-s too.")

    recognise = pipeline("speech-emotion-recognition", model=args.model, device=args.device)
    kwargs = {"batch_size": args.batch_size}
    if args.chunk_length_s:
        kwargs.update(chunk_length_s=args.chunk_length_s, stride_length_s=args.stride_length_s, batch_size=1)
    results = recognise(list(args.files), **kwargs)
    names = recognise.model.config.attribute_names
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["file", *names, "region"])
        for file, result in zip(args.files, results):
            writer.writerow([file, *(f"{result[n]:.4f}" for n in names), result["region"]])
    else:
        print(json.dumps([{"file": f, **r} for f, r in zip(args.files, results)], indent=2))
    if args.plot:
        plot_timeline(results[0], names, args.plot, args.files[0])


if __name__ == "__main__":
    main()
