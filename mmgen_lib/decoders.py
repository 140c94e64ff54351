"""Joint decoders: from a (fused) representation to text (lesson 08) or to an image (lesson 09).

The seed's joint decoder y_t = D(E_t(x_t), E_v(x_v), theta): a ``TextDecoder`` is a
recurrent language model conditioned on the representation, trained with teacher
forcing; an ``ImageDecoder`` maps a vector to a 32x32x3 image by upsampling.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# ============================================================== TextDecoder (lesson 08)
# (owned by the text-generation work: edit only between these two markers)
# ============================================================== end TextDecoder

# ============================================================== ImageDecoder (lesson 09)
# (owned by the image-generation work: edit only between these two markers)
# ============================================================== end ImageDecoder
