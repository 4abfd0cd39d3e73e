"""Arguments for tiny training runs on a small generated corpus (shared by training tests and the DDP worker)."""

import json

TINY_ENCODER = {
    "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
    "conv_dim": [8], "conv_kernel": [400], "conv_stride": [320], "feat_extract_norm": "layer",
    "do_stable_layer_norm": True, "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 2,
    "num_buckets": 8, "max_bucket_distance": 32, "layerdrop": 0.0, "mask_time_prob": 0.0,
}  # fmt: skip


def tiny_training_args(corpus, output_dir, **overrides) -> list[str]:
    args = {
        "dataset_name": "audiofolder",
        "data_dir": str(corpus),
        "output_dir": str(output_dir),
        "encoder_config_overrides": json.dumps(TINY_ENCODER),
        "freeze_feature_encoder": "false",
        "pooling_hidden_size": "16",
        "pooling_output_size": "16",
        "head_hidden_size": "16",
        "head_dropout": "0.0",
        "pooling_dropout": "0.0",
        "aux_loss_decay_epochs": "2",
        "max_duration_s": "2.0",
        "do_train": "true",
        "num_train_epochs": "4",
        "per_device_train_batch_size": "4",
        "per_device_eval_batch_size": "8",
        "learning_rate": "0.003",
        "lr_scheduler_type": "constant",
        "logging_steps": "1",
        "save_strategy": "epoch",
        "eval_strategy": "no",
        "label_names": "labels",
        "remove_unused_columns": "false",
        "report_to": "none",
        "dataloader_num_workers": "0",
        "disable_tqdm": "true",
        "seed": "3",
        "use_cpu": "true",
    }
    args.update({key: str(value) for key, value in overrides.items()})
    argv = []
    for key, value in args.items():
        argv += [f"--{key}", value]
    return argv
