"""EmoSphere-SER for Hugging Face transformers.

Importing the package registers the model with AutoConfig, AutoModel,
AutoModelForAudioClassification and AutoFeatureExtractor, and the pipeline task
``speech-emotion-recognition``.
"""

from transformers import AutoConfig, AutoFeatureExtractor, AutoModel, AutoModelForAudioClassification

from .configuration_emosphere import EmoSphereConfig
from .feature_extraction_emosphere import EmoSphereFeatureExtractor
from .pipeline_emosphere import (
    EmoSphereAudioClassificationPipeline,
    SpeechEmotionRecognitionPipeline,
    register_pipelines,
)
from .modeling_emosphere import (
    EmoSphereForSpeechEmotionRecognition,
    EmoSphereModel,
    EmoSpherePreTrainedModel,
    concordance_correlation,
)

AutoConfig.register(EmoSphereConfig.model_type, EmoSphereConfig, exist_ok=True)
AutoModel.register(EmoSphereConfig, EmoSphereModel, exist_ok=True)
AutoModelForAudioClassification.register(EmoSphereConfig, EmoSphereForSpeechEmotionRecognition, exist_ok=True)
AutoFeatureExtractor.register(EmoSphereConfig, EmoSphereFeatureExtractor, exist_ok=True)
register_pipelines()

__all__ = [
    "EmoSphereConfig",
    "EmoSphereFeatureExtractor",
    "EmoSphereModel",
    "EmoSpherePreTrainedModel",
    "EmoSphereForSpeechEmotionRecognition",
    "concordance_correlation",
    "EmoSphereAudioClassificationPipeline",
    "SpeechEmotionRecognitionPipeline",
]
