"""The counter assistant's own logic and I/O: settings, privacy masking, feedback store, handout, views.

Streamlit pages (`assistant_app.py`, `pages/`) stay thin over these modules and over `indexer.searcher.Searcher`.
"""
