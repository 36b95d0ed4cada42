"""The model-ops command-line scripts (run them as files; tests import them as mpvss_scripts.<name>)."""
