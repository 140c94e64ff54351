"""mmgen_lib: the tested helper library of the *Multimodal Generation, step by step* course.

One module per concept; each lesson's header names the module it builds:

- ``utils``         seeding, paths, environment check, results reporting    (lesson 00)
- ``data``          ShapesWorld: generator, loader, parse_caption, datasheet (lesson 01)
- ``tokenizer``     words <-> ids, padding, special tokens                   (lesson 01)
- ``pipeline``      spectrograms, model-ready arrays, tf.data pipelines      (lesson 01)
- ``encoders``      TextEncoder, ImageEncoder, AudioEncoder                  (lessons 02-04)
- ``fusion``        early, late, gated, tensor, cross-attention fusion       (lesson 05)
- ``losses``        cosine, InfoNCE, masked CE, weighted MSE, MultimodalLoss (lessons 06-07)
- ``retrieval``     Recall@k, median rank and their chance levels            (lesson 06)
- ``classifiers``   attribute classifiers: one linear head per attribute     (lessons 02-05)
- ``dual_encoder``  DualEncoder for cross-modal matching                     (lesson 06)
- ``decoders``      TextDecoder, TransformerTextDecoder, ImageDecoder        (lessons 08-09)
- ``generation``    greedy, beam search, temperature / top-k sampling        (lesson 08)
- ``metrics``       caption attribute accuracy, BLEU-4                       (lesson 08)
- ``vae``           MultimodalVAE, product of experts, Gaussian sampling     (lesson 10)
- ``image_losses``  shift-tolerant, area-normalised reconstruction loss      (lesson 09)
- ``probe``         the attribute probe that scores generated images         (lesson 09)
- ``pretrained``    lessons 03-04's encoders, trained once and shipped   (lessons 05, 08, 12, 13)
- ``shipped``       sha256-checked weight folders in data/ (probe, pretrained, latent, tokens, ...)
- ``robustness``    modality dropout, noise, FGSM                            (lesson 12)
- ``captioners``    frozen-encoder captioners (fused, image only), shipped   (lessons 12, 13)
- ``flow``          flow matching, guidance, Euler/Heun samplers, DDIM view  (lesson 14)
- ``latent``        images <-> 16-d latents, trained once and shipped        (lesson 14)
- ``latent_flow``   lesson 14's caption encoder and conditional flow, shipped (lesson 14)
- ``caption_to_image`` lesson 09's caption -> image generator, shipped       (lessons 09, 13)
- ``scoreboard``    one score for every image generator, silhouette IoU     (lessons 09, 10, 14)
- ``tokens``        VQ-VAE image and sound tokenizers, shipped weights       (lesson 15)
- ``unified``       one token sequence, one causal transformer, any to any; shipped (lesson 16)
- ``widgets``       the ipywidgets studio                                    (lesson 13)
- ``own_data``      bring your own images, captions and sounds               (lesson 13)
- ``training``      build_before_fit (one trace per fit); save/restore_training_state (one trace for several runs); tf.distribute  (every lesson; 07, 08, 13)
- ``multi_worker``  the same training in worker processes (TF_CONFIG)        (lesson 13)
- ``progress``      one compact progress line per epoch or per fit  (every training lesson)
- ``run_logs``      TensorBoard run folders, their scalars read back         (lesson 04)
- ``viz``           plotting helpers returning figures                       (every lesson)
- ``checks``        friendly self-checks for the exercises                   (every lesson)
- ``course``        student edition, exercise audit, grading, offline site   (classroom)
- ``i18n``          learner-facing messages in English or Chinese (MMGEN_LANG)  (every lesson)
- ``validation``    argument checks shared by every layer ("Received: ...")  (every lesson)

Importing the package has no side effects and does not import TensorFlow;
modules are imported on first use (``mmgen_lib.data``, ``from mmgen_lib import data``).
The module list is read from the package folder; ``tests/test_init.py`` checks that every
module is listed above and in CONTRIBUTING.md's layout table.
"""

import importlib
import pkgutil

__version__ = "0.1.0"


def _modules() -> tuple[str, ...]:
    """The package's modules and subpackages, found on disk (nothing is imported)."""
    return tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")))


def __getattr__(name):
    if name in _modules():
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'mmgen_lib' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_modules()})
