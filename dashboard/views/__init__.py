"""The dashboard's pages; each module has ``render(ctx)``, registered by ``dashboard/app.py``.

The folder is not called ``pages``: Streamlit treats a ``pages/`` folder beside the main script as
its legacy multipage layout and would run those modules as pages of their own.
"""
