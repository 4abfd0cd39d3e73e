"""Training glue for EmoSphere-SER: data sources, collator, Trainer, dynamic weighting, metrics, demo corpus.

Nothing here is imported by the modeling files a Hub user downloads.
"""
