"""``python -m graphvae_nas`` runs the command line."""
import sys

from graphvae_nas.cli import main

sys.exit(main())
