"""Layer 6: experiments over the search engine - comparisons of strategies over many seeds in
worker processes (:mod:`~graphvae_nas.experiments.compare`, one or several objectives), run
files that record every run as it ends and resume from it
(:mod:`~graphvae_nas.experiments.runs_file`), curves and tables computed from them
(:mod:`~graphvae_nas.experiments.curves`), and the constant-liar batch ablation
(:mod:`~graphvae_nas.experiments.believer`). Nothing in :mod:`graphvae_nas.search` imports it.
"""
