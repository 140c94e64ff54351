"""Assembled multimodal models: the dual encoder (lesson 06) and the multimodal VAE (lesson 10).

Each model is a Keras ``Model`` subclass built from the layers of ``encoders``,
``fusion`` and ``decoders``; configuration is passed as plain values so that the
``.keras`` format can save and load it.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# ============================================================== DualEncoder (lesson 06)
# (owned by the matching/losses work: edit only between these two markers)
# ============================================================== end DualEncoder

# ============================================================== MultimodalVAE (lesson 10)
# (owned by the autoencoder work: edit only between these two markers)
# ============================================================== end MultimodalVAE
