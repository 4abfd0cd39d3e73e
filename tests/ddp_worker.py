"""Run by test_training under `torchrun --nproc_per_node 2`: trains a few steps, saves this rank's parameters."""

import os
import sys
from pathlib import Path

from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train  # noqa: E402
from training_helpers import tiny_training_args  # noqa: E402

corpus, output_dir = sys.argv[1], Path(sys.argv[2])
trainer = train.main(tiny_training_args(corpus, output_dir, num_train_epochs=1, save_strategy="no"))
rank = int(os.environ["RANK"])
state = {name: tensor.detach().contiguous() for name, tensor in trainer.model.state_dict().items()}
save_file(state, str(output_dir / f"rank{rank}.safetensors"), metadata={"steps": str(trainer.state.global_step)})
