"""The app's thread settings, imported by `assistant_app.py` before anything loads faiss or torch.

Streamlit runs every rerun in a new thread, and OpenMP gives each new calling thread a team of its own: faiss
started (and waited for) a fresh team at every search, about 15 % of a rerun, and with several sessions the
teams fought over the same cores. One OpenMP thread per process: sessions run side by side instead. The
embedder picks its own torch threads per call (`indexer/embed.py`). An explicit OMP_NUM_THREADS wins.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
